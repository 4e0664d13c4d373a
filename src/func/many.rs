//! The functional API over several input vectors: the closure takes a slice
//! of [`Var`]s, one per input, and every result treats the inputs as one
//! vector, concatenated in the order given (a gradient of `a` then `b`, a
//! Jacobian's columns `a₀ … aₙ b₀ … bₘ`).
//!
//! ```
//! use dualtape::func::many;
//!
//! // Q = 3a³ − b²: ∂Q/∂(a, b) = [diag(9a²) | diag(−2b)]
//! let (a, b) = ([1.0, 2.0], [4.0, 8.0]);
//! let j = many::jacobian_rev(|v| 3.0 * v[0].powi(3) - v[1].powi(2), &[&a, &b]);
//! assert_eq!(j.to_rows(), vec![vec![9.0, 0.0, -8.0, 0.0], vec![0.0, 36.0, 0.0, -16.0]]);
//! ```
//!
//! The functions of [`crate::func`] are these with one input; their docs say
//! what each computes, how, and when it panics. The panics are the same here,
//! plus: no inputs at all, or an empty one.

use super::engine::{self, Inputs};
use super::{GradCheck, Matrix, check};
use crate::dual::{Dual, DualVec};
use crate::real::Real;
use crate::tape::Var;

/// [`crate::func::value_and_grad`] over several inputs: `(f(x), ∇f(x))`, the
/// gradient concatenated in input order.
#[track_caller]
pub fn value_and_grad<T: Real, F>(f: F, xs: &[&[T]]) -> (T, Vec<T>)
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    engine::value_and_grad("value_and_grad", &f, Inputs::new("value_and_grad", xs))
}

/// [`crate::func::grad`] over several inputs: `∇f(x)`, concatenated in input order.
#[track_caller]
pub fn grad<T: Real, F>(f: F, xs: &[&[T]]) -> Vec<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    engine::value_and_grad("grad", &f, Inputs::new("grad", xs)).1
}

/// [`crate::func::vjp`] over several inputs: `uᵀ·J`, concatenated in input order.
#[track_caller]
pub fn vjp<T: Real, F>(f: F, xs: &[&[T]], u: &[T]) -> Vec<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    engine::vjp(&f, Inputs::new("vjp", xs), u)
}

/// [`crate::func::jvp`] over several inputs: `J·v`, with `v` over the
/// concatenated inputs.
#[track_caller]
pub fn jvp<T: Real, F>(f: F, xs: &[&[T]], v: &[T]) -> Vec<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, Dual<T>>]) -> Var<'t, Dual<T>>,
{
    engine::jvp(&f, Inputs::new("jvp", xs), v)
}

/// [`crate::func::jacobian`] over several inputs: columns in input order.
#[track_caller]
pub fn jacobian<T: Real, F>(f: F, xs: &[&[T]]) -> Matrix<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, DualVec<T>>]) -> Var<'t, DualVec<T>>,
{
    engine::jacobian(&f, Inputs::new("jacobian", xs))
}

/// [`crate::func::jacobian_rev`] over several inputs: columns in input order.
#[track_caller]
pub fn jacobian_rev<T: Real, F>(f: F, xs: &[&[T]]) -> Matrix<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    engine::jacobian_rev(&f, Inputs::new("jacobian_rev", xs))
}

/// [`crate::func::jacobian_fwd`] over several inputs: columns in input order.
#[track_caller]
pub fn jacobian_fwd<T: Real, F>(f: F, xs: &[&[T]]) -> Matrix<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, DualVec<T>>]) -> Var<'t, DualVec<T>>,
{
    engine::jacobian_fwd("jacobian_fwd", &f, Inputs::new("jacobian_fwd", xs))
}

/// [`crate::func::hvp`] over several inputs: `H·v` over the concatenated inputs.
#[track_caller]
pub fn hvp<T: Real, F>(f: F, xs: &[&[T]], v: &[T]) -> Vec<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, Dual<T>>]) -> Var<'t, Dual<T>>,
{
    engine::hvp(&f, Inputs::new("hvp", xs), v)
}

/// [`crate::func::hessian`] over several inputs: rows and columns in input order.
#[track_caller]
pub fn hessian<T: Real, F>(f: F, xs: &[&[T]]) -> Matrix<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, DualVec<T>>]) -> Var<'t, DualVec<T>>,
{
    engine::hessian(&f, Inputs::new("hessian", xs))
}

/// [`crate::func::gradcheck`] over several inputs: indices count across the
/// concatenated inputs.
#[track_caller]
pub fn gradcheck<T: Real, F>(f: F, xs: &[&[T]]) -> GradCheck<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    check::gradcheck(&f, Inputs::new("gradcheck", xs), check::default_rtol())
}

/// [`crate::func::gradcheck_with`] over several inputs.
#[track_caller]
pub fn gradcheck_with<T: Real, F>(f: F, xs: &[&[T]], rtol: T) -> GradCheck<T>
where
    F: for<'t, 'a> Fn(&'a [Var<'t, T>]) -> Var<'t, T>,
{
    check::gradcheck(&f, Inputs::new("gradcheck_with", xs), rtol)
}
