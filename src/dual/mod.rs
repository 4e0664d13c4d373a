//! Forward mode: dual numbers, one tangent or several in SIMD lanes.
//!
//! A [`Dual<T>`] is `re + eps·ε` with `ε² = 0`: evaluating `f` on `x + v·ε`
//! gives `f(x) + (f'(x)·v)·ε`, the value and the directional derivative in one
//! pass. `Dual` implements the std operators and [`num_traits::Float`], so
//! numeric code written once as `fn f<S: Float>(x: &[S]) -> S` is
//! differentiated by calling it with [`Dual64`]:
//!
//! ```
//! use dualtape::Dual64;
//! use num_traits::Float;
//!
//! fn f<S: Float>(x: &[S]) -> S {
//!     (x[0] * x[1]).sin() + x[1].exp()
//! }
//!
//! // ∂f/∂x₁ at (1, 2): x₀·cos(x₀x₁) + e^x₁
//! let y = f(&[Dual64::constant(1.0), Dual64::variable(2.0)]);
//! assert_eq!(y.re, 2f64.sin() + 2f64.exp());
//! assert!((y.eps - (2f64.cos() + 2f64.exp())).abs() < 1e-14);
//! ```
//!
//! The tangent type `D` is a parameter: `D = T` carries one direction, and
//! `D = T::Lanes` ([`DualVec<T>`]) carries [`Real::LANES`] directions at once
//! (4 for `f64`, 8 for `f32`) in one SIMD register, so a forward Jacobian of
//! `n` inputs takes `⌈n/LANES⌉` passes, not `n`.
//!
//! Every function of the core op set (`exp ln sqrt sin cos tanh sigmoid relu
//! abs recip powi powf pow + − × ÷`) takes its value and derivative from the
//! rule struct in [`crate::rules`] that the tape's kernels run too: the two
//! modes cannot disagree about a derivative. Functions [`num_traits::Float`] requires
//! beyond that set state their derivative in `float.rs`, each documented there.
//!
//! A `Dual` is also a [`Real`], the scalar a [`crate::Tape`] records (one lane:
//! the kernels run as plain loops). Recording `f` on a `Tape<Dual<f64>>` with
//! inputs `x + v·ε` and sweeping backward gives the gradient in the values and
//! the Hessian-vector product `H·v` in the tangents (forward-over-reverse):
//! see [`crate::func::hvp`].
//!
//! Comparisons (`==`, `<`, `max`, `is_nan`, …) look at the value alone, as
//! the branches of the code being differentiated do.

mod float;
mod num;
mod ops;
mod real;
mod var_ops;

use core::fmt::Debug;

use crate::real::{Math, Real};
use crate::rules::{self, BinaryRule, UnaryRule};

/// A dual number `re + eps·ε` (`ε² = 0`): a value and its tangent(s).
///
/// `D` is the tangent: `T` for one direction ([`Dual32`], [`Dual64`]), or
/// `T::Lanes` for [`Real::LANES`] directions at once ([`DualVec`]).
///
/// # Zero tangents stay zero
/// A tangent lane that is exactly 0 gives 0 through every function, even
/// where the derivative is infinite or NaN (`√x` at 0, `ln x` at a negative
/// `x`): the output does not move in a direction its input does not move in.
/// Plain IEEE arithmetic would give `0·∞ = NaN`, and one singular input would
/// poison every lane of a [`DualVec`] (every column of a forward Jacobian),
/// turn `‖x‖`'s tangent at the zero vector to NaN (PyTorch's forward mode
/// gives 0, as its reverse mode does) and `x.powf(2.0)`'s at negative `x`
/// (through `∂/∂p = xᵖ·ln x`). A nonzero tangent meets the infinity as IEEE
/// says: `Dual64::variable(0.0).sqrt()` has tangent +inf, and NaN tangents stay NaN.
#[derive(Clone, Copy, Debug)]
pub struct Dual<T, D = T> {
    /// The value.
    pub re: T,
    /// The derivative along the seeded direction(s).
    pub eps: D,
}

/// One `f32` tangent.
pub type Dual32 = Dual<f32>;
/// One `f64` tangent.
pub type Dual64 = Dual<f64>;
/// [`Real::LANES`] tangents of `T` in one SIMD register (lane-wide forward mode).
pub type DualVec<T> = Dual<T, <T as Real>::Lanes>;
/// Eight `f32` tangents in one `f32x8`.
pub type DualVec32 = DualVec<f32>;
/// Four `f64` tangents in one `f64x4`.
pub type DualVec64 = DualVec<f64>;

/// What a [`Dual`]'s tangent can be: the scalar `T` itself or its SIMD lanes
/// `T::Lanes` (anything with the lane arithmetic of [`Math`]).
pub trait Tangent<T: Real>: Math<T> + Debug + 'static {}
impl<T: Real, D: Math<T> + Debug + 'static> Tangent<T> for D {}

impl<T: Real, D: Tangent<T>> Dual<T, D> {
    /// `re + eps·ε`.
    #[inline(always)]
    pub fn new(re: T, eps: D) -> Self {
        Dual { re, eps }
    }

    /// A constant: every tangent 0.
    #[inline(always)]
    pub fn constant(re: T) -> Self {
        Dual {
            re,
            eps: D::splat(T::zero()),
        }
    }

    /// `(re, eps·d)`: the chain rule for a function with value `re` and
    /// derivative `d` at `self.re`.
    #[inline(always)]
    pub(crate) fn chain(self, re: T, d: T) -> Self {
        Dual {
            re,
            eps: times(self.eps, d),
        }
    }

    /// `f(self)` by a rule of [`crate::rules`]: `(f(x), f'(x)·ẋ)`.
    #[inline(always)]
    pub(crate) fn unary<R: UnaryRule<T>>(self, rule: R) -> Self {
        let (y, d) = rule.value_and_deriv(self.re);
        self.chain(y, d)
    }

    /// `f(self, b)` by a rule of [`crate::rules`]: `(f(a, b), ∂f/∂a·ȧ + ∂f/∂b·ḃ)`.
    #[inline(always)]
    pub(crate) fn binary<R: BinaryRule<T>>(self, rule: R, b: Self) -> Self {
        let y = rule.value(self.re, b.re);
        let (pa, pb) = rule.partials(self.re, b.re, y);
        Dual {
            re: y,
            eps: times(self.eps, pa) + times(b.eps, pb),
        }
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`, `dσ = σ(1 − σ)` ([`rules::Sigmoid`]).
    pub fn sigmoid(self) -> Self {
        self.unary(rules::Sigmoid)
    }

    /// `max(x, 0)`, derivative 1 for `x > 0` and 0 for `x ≤ 0` ([`rules::Relu`]).
    pub fn relu(self) -> Self {
        self.unary(rules::Relu)
    }

    /// `aᵇ` with both sides dual ([`rules::Pow`]): `d(aᵇ) = b·aᵇ⁻¹·da +
    /// aᵇ·ln a·db`, the first term 0 where `b = 0`, the second 0 where `a = 0`.
    /// A constant exponent (`x.powf(2.0)`) contributes nothing through the
    /// second term, even at negative `a` where `ln a` is NaN (see [`Dual`]).
    pub fn pow(self, b: Self) -> Self {
        self.binary(rules::Pow, b)
    }
}

impl<T: Real> Dual<T, T> {
    /// The seed of `d/dx` at `re`: tangent 1.
    ///
    /// ```
    /// use dualtape::Dual64;
    /// use num_traits::Float;
    /// let y = Dual64::variable(3.0).powi(2); // d x² = 2x
    /// assert_eq!((y.re, y.eps), (9.0, 6.0));
    /// ```
    pub fn variable(re: T) -> Self {
        Dual { re, eps: T::one() }
    }
}

impl<T: Real> Dual<T, T::Lanes> {
    /// A lane-wide dual whose tangent lanes are `eps` (one per direction).
    ///
    /// # Panics
    /// If `eps.len()` is not [`Real::LANES`].
    #[track_caller]
    pub fn from_lanes(re: T, eps: &[T]) -> Self {
        assert!(
            eps.len() == T::LANES,
            "dualtape: Dual::from_lanes: {} tangents given, the lanes hold {}",
            eps.len(),
            T::LANES
        );
        Dual {
            re,
            eps: T::load(eps),
        }
    }

    /// The tangent lanes, one per direction.
    ///
    /// ```
    /// use dualtape::{DualVec64, Real};
    /// use num_traits::Float;
    ///
    /// // ∂(x·y)/∂x and ∂(x·y)/∂y in one pass: lane 0 seeds x, lane 1 seeds y.
    /// let x = DualVec64::from_lanes(3.0, &[1.0, 0.0, 0.0, 0.0]);
    /// let y = DualVec64::from_lanes(5.0, &[0.0, 1.0, 0.0, 0.0]);
    /// assert_eq!((x * y).lanes(), [5.0, 3.0, 0.0, 0.0]);
    /// assert_eq!(<f64 as Real>::LANES, 4);
    /// ```
    pub fn lanes(self) -> Vec<T> {
        let mut out = vec![T::zero(); T::LANES];
        T::store(self.eps, &mut out);
        out
    }
}

/// `eps·d`, with a lane of `eps` that is exactly 0 left 0 (see [`Dual`]).
#[inline(always)]
pub(crate) fn times<T: Real, D: Tangent<T>>(eps: D, d: T) -> D {
    eps.tangent_times(D::splat(d))
}

/// `max` of two duals by value with std's NaN rule (a NaN side loses); at a
/// tie the tangents are averaged, as PyTorch's `maximum` shares the gradient.
#[inline]
pub(crate) fn pick<T: Real, D: Tangent<T>>(a: Dual<T, D>, b: Dual<T, D>, max: bool) -> Dual<T, D> {
    if b.re.is_nan() {
        return a;
    }
    if a.re.is_nan() {
        return b;
    }
    if a.re == b.re {
        return Dual {
            re: a.re,
            eps: (a.eps + b.eps) * D::splat(T::lit(0.5)),
        };
    }
    if (a.re > b.re) == max { a } else { b }
}
