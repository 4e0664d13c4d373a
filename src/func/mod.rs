//! The functional API: derivatives of closures that take and return [`Var`]s.
//!
//! Each function records its closure on a fresh tape, with the inputs as
//! leaves, and reads the result off it:
//!
//! | function | computes | the closure's scalar | cost, `n` inputs, `m` outputs |
//! |---|---|---|---|
//! | [`grad`], [`value_and_grad`] | `∇f` | `T` | one recording, one sweep |
//! | [`vjp`] | `uᵀ·J` | `T` | one recording, one sweep |
//! | [`jvp`] | `J·v` | [`Dual<T>`] | one recording on duals |
//! | [`jacobian_rev`] | `J` | `T` | one recording, `m` sweeps |
//! | [`jacobian_fwd`] | `J` | [`DualVec<T>`] | `⌈n/LANES⌉` recordings |
//! | [`jacobian`] | `J` | [`DualVec<T>`] | the cheaper of the two (see there) |
//! | [`hvp`] | `H·v` | [`Dual<T>`] | one recording, one sweep, on duals |
//! | [`hessian`] | `H` | [`DualVec<T>`] | `⌈n/LANES⌉` recordings and sweeps |
//! | [`gradcheck`] | a [`GradCheck`] report | `T` | `2n + 1` recordings, one sweep |
//!
//! (`LANES` is [`Real::LANES`]: 4 for `f64`, 8 for `f32`.)
//!
//! A closure has one type, so it records on one kind of tape. To use one
//! function with several of these, write it once, generic over the scalar,
//! and pass it by name; each call picks the scalar it needs:
//!
//! ```
//! use dualtape::func::{grad, hessian, hvp};
//! use dualtape::{Real, Var};
//!
//! // f(x) = Σ xᵢ³ − 2·Σ xᵢ: ∇f = 3x² − 2, H = diag(6x)
//! fn f<'t, S: Real>(x: Var<'t, S>) -> Var<'t, S> {
//!     (x.powi(3) - x * S::lit(2.0)).sum()
//! }
//!
//! let x = [1.0, 2.0];
//! assert_eq!(grad(f, &x), [1.0, 10.0]);
//! assert_eq!(hvp(f, &x, &[1.0, 1.0]), [6.0, 12.0]);
//! assert_eq!(hessian(f, &x).to_rows(), vec![vec![6.0, 0.0], vec![0.0, 12.0]]);
//! ```
//!
//! A closure that calls only one of them is fine as it is:
//! `grad(|x| x.norm(), &[3.0, 4.0])`. On tapes of duals, plain `f64`/`f32`
//! constants combine with `Var`s as usual (`3.0 * x - 1.0`).
//!
//! A closure bound to a `let` first loses the higher-ranked signature these
//! functions need (`for<'t> Fn(Var<'t, S>) -> Var<'t, S>`): pass closures
//! inline, or name a function.
//!
//! [`many`] has every function for closures of several input vectors.
//!
//! # Forward and reverse at non-differentiable points
//! Both directions agree wherever `f` is differentiable. At a kink they may
//! pick different one-sided answers: `max`/`min` over exact ties share the
//! gradient equally in reverse mode, while on a tape of duals the tangent is
//! that of one of the tied elements.
//!
//! # Panics
//! Every function panics, naming itself and the lengths involved, on: an
//! empty input; a tangent, cotangent or direction of the wrong length; a
//! closure that returns a `Var` of another tape than the one its input is on;
//! a non-scalar output where a scalar is needed (`grad`, `hvp`, `hessian`,
//! `gradcheck`); and whatever the closure's own ops panic on.

mod check;
mod engine;
pub mod many;
mod matrix;

pub use check::{GradCheck, Mismatch};
pub use matrix::Matrix;

use engine::Inputs;

use crate::dual::{Dual, DualVec};
use crate::real::Real;
use crate::tape::Var;

/// The closure of one input as a closure of a slice of one.
fn one<S: Real, F>(f: F) -> impl for<'t, 'a> Fn(&'a [Var<'t, S>]) -> Var<'t, S>
where
    F: for<'t> Fn(Var<'t, S>) -> Var<'t, S>,
{
    move |v| f(v[0])
}

/// `(f(x), ∇f(x))` for a scalar `f`: one recording, one reverse sweep.
///
/// ```
/// // f(x) = x·x, ∇f = 2x
/// let (y, g) = dualtape::func::value_and_grad(|x| x.dot(x), &[3.0, 4.0]);
/// assert_eq!((y, g), (25.0, vec![6.0, 8.0]));
/// ```
///
/// # Panics
/// If `x` is empty, `f(x)` is not 1 element long, or `f` returns a `Var` of
/// another tape.
#[track_caller]
pub fn value_and_grad<T: Real, F>(f: F, x: &[T]) -> (T, Vec<T>)
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    let op = "value_and_grad";
    engine::value_and_grad(op, &one(f), Inputs::new(op, &[x]))
}

/// `∇f(x)` for a scalar `f` (PyTorch's `torch.func.grad`): one recording,
/// one reverse sweep.
///
/// ```
/// // f(x) = Σ xᵢ², ∇f = 2x
/// assert_eq!(dualtape::func::grad(|x| (x * x).sum(), &[1.0, -2.0]), [2.0, -4.0]);
/// ```
///
/// # Panics
/// As [`value_and_grad`].
#[track_caller]
pub fn grad<T: Real, F>(f: F, x: &[T]) -> Vec<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    engine::value_and_grad("grad", &one(f), Inputs::new("grad", &[x])).1
}

/// The vector-Jacobian product `uᵀ·J(x)` (`J` the `m × n` Jacobian of `f`):
/// one recording, one reverse sweep seeded with `u` (PyTorch's
/// `y.backward(u)`).
///
/// ```
/// // f(x) = x², J = diag(2x)
/// let g = dualtape::func::vjp(|x| x * x, &[1.0, 2.0, 3.0], &[1.0, 0.0, 2.0]);
/// assert_eq!(g, [2.0, 0.0, 12.0]);
/// ```
///
/// # Panics
/// If `x` is empty, `u.len()` differs from `f(x)`'s length (the message gives
/// both), or `f` returns a `Var` of another tape.
#[track_caller]
pub fn vjp<T: Real, F>(f: F, x: &[T], u: &[T]) -> Vec<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    engine::vjp(&one(f), Inputs::new("vjp", &[x]), u)
}

/// The Jacobian-vector product `J(x)·v`: one forward recording of `f` on
/// duals `x + v·ε`; the output's tangents are `J·v`. No sweep.
///
/// ```
/// use dualtape::func::jvp;
/// // f(x) = sin x, J = diag(cos x)
/// let jv = jvp(|x| x.sin(), &[0.0, 1.0], &[2.0, 1.0]);
/// assert_eq!(jv, [2.0, 1f64.cos()]);
/// ```
///
/// # Panics
/// If `x` is empty, `v.len()` differs from `x.len()`, or `f` returns a `Var`
/// of another tape.
#[track_caller]
pub fn jvp<T: Real, F>(f: F, x: &[T], v: &[T]) -> Vec<T>
where
    F: for<'t> Fn(Var<'t, Dual<T>>) -> Var<'t, Dual<T>>,
{
    engine::jvp(&one(f), Inputs::new("jvp", &[x]), v)
}

/// The Jacobian `J(x)` (`m × n`, `Jᵢⱼ = ∂fᵢ/∂xⱼ`), by whichever direction
/// needs fewer passes, on one kind of tape (lane-wide duals) for both.
///
/// With fewer outputs than inputs (`m < n`) it is reverse mode: one recording
/// with zero tangents, then sweeps. Because the sweep is linear in its seed
/// and every local partial has tangent 0, a seed whose value picks row `i` and
/// whose tangent lanes pick rows `i+1 … i+LANES` returns all those rows in
/// one sweep, so `⌈m/(LANES+1)⌉` sweeps. Otherwise it is [`jacobian_fwd`]
/// (after the recording that found `m`).
///
/// ```
/// use dualtape::func::jacobian;
///
/// // f(x) = x·Σx, J = diag(Σx) + x·1ᵀ: 2 outputs, 2 inputs, forward
/// let j = jacobian(|x| x * x.sum(), &[3.0, 4.0]);
/// assert_eq!(j.to_rows(), vec![vec![10.0, 3.0], vec![4.0, 11.0]]);
///
/// // f(x) = x·x, J = 2xᵀ: 1 output, 2 inputs, reverse
/// let j = jacobian(|x| x.dot(x), &[3.0, 4.0]);
/// assert_eq!(j.to_rows(), vec![vec![6.0, 8.0]]);
/// ```
///
/// # Panics
/// If `x` is empty, `f` returns a `Var` of another tape, or returns outputs
/// of different lengths on different passes.
#[track_caller]
pub fn jacobian<T: Real, F>(f: F, x: &[T]) -> Matrix<T>
where
    F: for<'t> Fn(Var<'t, DualVec<T>>) -> Var<'t, DualVec<T>>,
{
    engine::jacobian(&one(f), Inputs::new("jacobian", &[x]))
}

/// The Jacobian by reverse mode: one recording, then one sweep per output
/// row `i`, seeded with `eᵢ`. The choice when outputs are few.
///
/// ```
/// // f(x) = x², J = diag(2x)
/// let j = dualtape::func::jacobian_rev(|x| x * x, &[3.0, 4.0]);
/// assert_eq!(j.to_rows(), vec![vec![6.0, 0.0], vec![0.0, 8.0]]);
/// ```
///
/// # Panics
/// If `x` is empty or `f` returns a `Var` of another tape.
#[track_caller]
pub fn jacobian_rev<T: Real, F>(f: F, x: &[T]) -> Matrix<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    engine::jacobian_rev(&one(f), Inputs::new("jacobian_rev", &[x]))
}

/// The Jacobian by forward mode on lane-wide duals: pass `k` seeds columns
/// `k·LANES … (k+1)·LANES − 1`, one per tangent lane, so `n` inputs take
/// `⌈n/LANES⌉` recordings (3 for 9 `f64` inputs, 2 for 9 `f32` ones). The
/// choice when inputs are few.
///
/// ```
/// // f(x) = eˣ, J = diag(eˣ)
/// let j = dualtape::func::jacobian_fwd(|x| x.exp(), &[0.0, 0.0]);
/// assert_eq!(j.to_rows(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
/// ```
///
/// # Panics
/// If `x` is empty, `f` returns a `Var` of another tape, or returns outputs
/// of different lengths on different passes.
#[track_caller]
pub fn jacobian_fwd<T: Real, F>(f: F, x: &[T]) -> Matrix<T>
where
    F: for<'t> Fn(Var<'t, DualVec<T>>) -> Var<'t, DualVec<T>>,
{
    let op = "jacobian_fwd";
    engine::jacobian_fwd(op, &one(f), Inputs::new(op, &[x]))
}

/// The Hessian-vector product `H(x)·v` of a scalar `f`, forward-over-reverse:
/// `f` is recorded on a tape of duals at `x + v·ε` and swept backward once.
/// The adjoints are `∇f(x + v·ε) = ∇f(x) + (H·v)·ε`: the gradient in their
/// values, `H·v` in their tangents. About the cost of two gradients; `H` is
/// never formed.
///
/// ```
/// // f(x) = (Σx)², H = 2·11ᵀ, H·v = 2·Σv·1
/// let hv = dualtape::func::hvp(|x| x.sum().powi(2), &[1.0, 2.0], &[1.0, 2.0]);
/// assert_eq!(hv, [6.0, 6.0]);
/// ```
///
/// # Panics
/// If `x` is empty, `v.len()` differs from `x.len()`, `f(x)` is not 1 element
/// long, or `f` returns a `Var` of another tape.
#[track_caller]
pub fn hvp<T: Real, F>(f: F, x: &[T], v: &[T]) -> Vec<T>
where
    F: for<'t> Fn(Var<'t, Dual<T>>) -> Var<'t, Dual<T>>,
{
    engine::hvp(&one(f), Inputs::new("hvp", &[x]), v)
}

/// The dense Hessian `H(x)` of a scalar `f`: [`hvp`]s on lane-wide duals.
/// Pass `k` records `f` at `x` with tangent lanes seeding directions
/// `k·LANES … (k+1)·LANES − 1` and sweeps once; each lane of the adjoints is
/// one `H·eⱼ`, a column. `⌈n/LANES⌉` recordings and sweeps in all. Columns
/// are computed, not mirrored: `H` is symmetric up to rounding.
///
/// ```
/// // f(x) = (Σx)² + Σx³, H = 2·11ᵀ + diag(6x)
/// let h = dualtape::func::hessian(|x| x.sum().powi(2) + x.powi(3).sum(), &[1.0, 2.0]);
/// assert_eq!(h.to_rows(), vec![vec![8.0, 2.0], vec![2.0, 14.0]]);
/// ```
///
/// # Panics
/// If `x` is empty, `f(x)` is not 1 element long, or `f` returns a `Var` of
/// another tape.
#[track_caller]
pub fn hessian<T: Real, F>(f: F, x: &[T]) -> Matrix<T>
where
    F: for<'t> Fn(Var<'t, DualVec<T>>) -> Var<'t, DualVec<T>>,
{
    engine::hessian(&one(f), Inputs::new("hessian", &[x]))
}

/// Checks the AD gradient of a scalar `f` at `x` against central
/// differences, with a tolerance derived from the scalar type
/// (`100·ε^⅔`: `3.7e-9` for f64, `2.4e-3` for f32). The [`GradCheck`] says
/// whether it passed and names the worst element; see there for the bound.
///
/// Differences in f32 are coarse: a sum whose terms cancel rounds far above
/// `ε·|f|`, past the bound's rounding floor. Check in f64 where you can, or
/// loosen the tolerance with [`gradcheck_with`].
///
/// ```
/// let report = dualtape::func::gradcheck(|x| (x.sin() * x.exp()).sum(), &[0.3, -1.2, 2.0]);
/// assert!(report.passed, "{report}");
/// ```
///
/// # Panics
/// As [`value_and_grad`].
#[track_caller]
pub fn gradcheck<T: Real, F>(f: F, x: &[T]) -> GradCheck<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    let op = "gradcheck";
    check::gradcheck(&one(f), Inputs::new(op, &[x]), check::default_rtol())
}

/// [`gradcheck`] with the relative tolerance `rtol` instead of the default.
///
/// # Panics
/// As [`value_and_grad`].
#[track_caller]
pub fn gradcheck_with<T: Real, F>(f: F, x: &[T], rtol: T) -> GradCheck<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    let op = "gradcheck_with";
    check::gradcheck(&one(f), Inputs::new(op, &[x]), rtol)
}
