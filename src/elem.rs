//! [`Elem`]: what the closure of [`Var::map`](crate::Var::map) and
//! [`Var::map2`](crate::Var::map2) computes on.
//!
//! An `Elem` is one SIMD bundle of elements ([`Real::LANES`] of them) with the
//! derivatives of each with respect to each of the map's `K` inputs: a
//! lane-wide dual number with `K` tangents. The closure is written once, as
//! plain arithmetic on `Elem`s; rustc inlines it into the map's kernel, so a
//! chain of elementwise functions runs as one fused loop that computes the
//! values and the local derivatives together, with no node and no dispatch
//! per function.
//!
//! Every function takes its value and derivative from the rule in
//! [`crate::rules`] that the tape's kernels and the dual numbers run, so the
//! three cannot disagree about a derivative. As for [`crate::Dual`], a tangent
//! that is exactly 0 stays 0 through every function, even where the
//! derivative is infinite or NaN: an output does not move with an input it
//! does not depend on.

use core::ops::{Add, Div, Mul, Neg, Sub};

use crate::real::{Math, Real};
use crate::rules::{self, BinaryRule, UnaryRule};

/// One SIMD bundle of a mapped function's elements and their derivatives
/// with respect to each of its `K` inputs. See [`Var::map`](crate::Var::map).
///
/// Arithmetic with other `Elem`s and with plain scalars (`3.0 * x`, `x + 1.0`;
/// a scalar on the left for `f32` and `f64` only, any `T` on the right, and
/// [`Elem::constant`] for either) and the methods below are all there is: the
/// closure is branch-free elementwise math, the same set of functions a
/// [`Var`](crate::Var) has.
///
/// ```
/// use dualtape::Tape;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(&[0.5, 1.0, 2.0]);
/// // tanh(x)·e^(−x²) as one node, its derivative kept by the forward pass
/// let y = x.map(|x| x.tanh() * (-(x * x)).exp()).sum();
/// let g = y.backward();
/// let d = |x: f64| (1.0 - x.tanh().powi(2) - 2.0 * x * x.tanh()) * (-x * x).exp();
/// assert!((g.wrt(x)[2] - d(2.0)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Elem<T: Real, const K: usize> {
    re: T::Lanes,
    eps: [T::Lanes; K],
    /// Whether `eps[k]` may be nonzero: false for a constant, and for a map
    /// input toward the other inputs. Read through [`Elem::live`].
    live: [bool; K],
}

/// `eps·d`, with a lane of `eps` that is exactly 0 left 0 (see the module
/// doc). Where `d` is a finite constant, `0·d` is already 0 (up to its sign)
/// and the mask is left out (`finite`).
#[inline(always)]
fn times<T: Real>(eps: T::Lanes, d: T::Lanes, finite: bool) -> T::Lanes {
    if finite {
        eps * d
    } else {
        eps.tangent_times(d)
    }
}

/// The zero tangent.
#[inline(always)]
fn zero<T: Real>() -> T::Lanes {
    rules::zero::<T, T::Lanes>()
}

/// Whether unary `rule`'s derivative is one finite constant (it reads neither
/// `x` nor `y`: `c·x`, `x + c`, `c − x`, `x / c`) and that constant (`c`, 1,
/// −1, `1/c`) is finite (see [`Real::zero_times_is_zero`]).
#[inline(always)]
fn finite_constant_deriv<T: Real, R: UnaryRule<T>>(rule: R) -> bool {
    !R::DERIV_READS_X && !R::DERIV_READS_Y && rule.deriv(T::zero(), T::zero()).zero_times_is_zero()
}

/// As [`finite_constant_deriv`] for a binary rule's two partials (`a ± b`).
#[inline(always)]
fn finite_constant_partials<T: Real, R: BinaryRule<T>>(rule: R) -> bool {
    !R::PARTIALS_READ_A && !R::PARTIALS_READ_B && !R::PARTIALS_READ_Y && {
        let (pa, pb) = rule.partials(T::zero(), T::zero(), T::zero());
        pa.zero_times_is_zero() && pb.zero_times_is_zero()
    }
}

impl<T: Real, const K: usize> Elem<T, K> {
    /// Input `k` of the map at the elements `re`: tangent 1 toward itself, 0
    /// toward the others.
    #[inline(always)]
    pub(crate) fn input(re: T::Lanes, k: usize) -> Self {
        let one = T::Lanes::splat(T::one());
        Elem {
            re,
            eps: core::array::from_fn(|j| if j == k { one } else { zero::<T>() }),
            live: core::array::from_fn(|j| j == k),
        }
    }

    /// A constant: the same value in every lane, every derivative 0.
    ///
    /// ```
    /// use dualtape::{Elem, Tape};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(&[1.0, 2.0]);
    /// let y = x.map(|x| Elem::constant(2.0).pow(x)); // 2ˣ
    /// assert_eq!(*y.value(), [2.0, 4.0]);
    /// ```
    #[inline(always)]
    pub fn constant(c: T) -> Self {
        Elem {
            re: T::Lanes::splat(c),
            eps: [zero::<T>(); K],
            live: [false; K],
        }
    }

    /// The values, one per lane.
    #[inline(always)]
    pub(crate) fn value(self) -> T::Lanes {
        self.re
    }

    /// The derivatives with respect to input `k`, one per lane.
    #[inline(always)]
    pub(crate) fn deriv(self, k: usize) -> T::Lanes {
        self.eps[k]
    }

    /// Whether tangent `k` is worked on: where it is 0 by construction, its
    /// functions are skipped (a mask on a known 0 does not fold away).
    ///
    /// Where the closure is inlined into the kernel (a small one is) the flag
    /// is a compile-time constant and a dead tangent costs nothing; where it
    /// is not, the flag is a branch per function. With one input only
    /// constants have a dead tangent, which is rare and costs only masks on
    /// zeros (the same result, up to the sign of a 0), so there every tangent
    /// is live and the branches are not compiled.
    #[inline(always)]
    fn live(&self, k: usize) -> bool {
        K == 1 || self.live[k]
    }

    /// `f(self)` by a rule of [`crate::rules`]: `(f(x), f'(x)·ẋ)`.
    #[inline(always)]
    fn unary<R: UnaryRule<T>>(self, rule: R) -> Self {
        let (y, d) = rule.value_and_deriv(self.re);
        let finite = finite_constant_deriv(rule);
        Elem {
            re: y,
            eps: core::array::from_fn(|k| {
                if self.live(k) {
                    times::<T>(self.eps[k], d, finite)
                } else {
                    zero::<T>()
                }
            }),
            live: self.live,
        }
    }

    /// `f(self, b)` by a rule of [`crate::rules`]: `(f(a, b), ∂f/∂a·ȧ + ∂f/∂b·ḃ)`.
    #[inline(always)]
    fn binary<R: BinaryRule<T>>(self, rule: R, b: Self) -> Self {
        let y = rule.value(self.re, b.re);
        let (pa, pb) = rule.partials(self.re, b.re, y);
        let finite = finite_constant_partials(rule);
        Elem {
            re: y,
            eps: core::array::from_fn(|k| match (self.live(k), b.live(k)) {
                (true, true) => {
                    times::<T>(self.eps[k], pa, finite) + times::<T>(b.eps[k], pb, finite)
                }
                (true, false) => times::<T>(self.eps[k], pa, finite),
                (false, true) => times::<T>(b.eps[k], pb, finite),
                (false, false) => zero::<T>(),
            }),
            live: core::array::from_fn(|k| self.live[k] || b.live[k]),
        }
    }

    /// `xⁿ`; `d = n·xⁿ⁻¹` (0 everywhere for `n = 0`).
    #[inline(always)]
    pub fn powi(self, n: i32) -> Self {
        match n {
            2 => self.unary(rules::PowiConst::<2>),
            3 => self.unary(rules::PowiConst::<3>),
            _ => self.unary(rules::Powi { n }),
        }
    }

    /// `xᵖ`; `d = p·xᵖ⁻¹` (see [`Var::powf`](crate::Var::powf) at 0).
    #[inline(always)]
    pub fn powf(self, p: T) -> Self {
        self.unary(rules::Powf { p })
    }

    /// `xᵉ` with a variable exponent; `∂/∂x = e·xᵉ⁻¹`, `∂/∂e = xᵉ·ln x` (0
    /// where `x = 0`).
    #[inline(always)]
    pub fn pow(self, e: Self) -> Self {
        self.binary(rules::Pow, e)
    }

    /// `√x`; `d = 1/(2√x)`, +inf at 0.
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        self.unary(rules::Sqrt)
    }

    /// `eˣ`; `d = eˣ`.
    #[inline(always)]
    pub fn exp(self) -> Self {
        self.unary(rules::Exp)
    }

    /// `ln x`; `d = 1/x`. At 0: value −inf, derivative +inf.
    #[inline(always)]
    pub fn ln(self) -> Self {
        self.unary(rules::Ln)
    }

    /// `sin x`; `d = cos x` (one `sin_cos` for both).
    #[inline(always)]
    pub fn sin(self) -> Self {
        self.unary(rules::Sin)
    }

    /// `cos x`; `d = −sin x` (one `sin_cos` for both).
    #[inline(always)]
    pub fn cos(self) -> Self {
        self.unary(rules::Cos)
    }

    /// `tanh x`; `d = 1 − tanh² x`.
    #[inline(always)]
    pub fn tanh(self) -> Self {
        self.unary(rules::Tanh)
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`; `d = σ(1 − σ)`.
    #[inline(always)]
    pub fn sigmoid(self) -> Self {
        self.unary(rules::Sigmoid)
    }

    /// `max(x, 0)`; `d = 1` for `x > 0`, `0` for `x ≤ 0`.
    #[inline(always)]
    pub fn relu(self) -> Self {
        self.unary(rules::Relu)
    }

    /// `|x|`; `d = sign x`, 0 at 0.
    #[inline(always)]
    pub fn abs(self) -> Self {
        self.unary(rules::Abs)
    }

    /// `1/x`; `d = −1/x²`.
    #[inline(always)]
    pub fn recip(self) -> Self {
        self.unary(rules::Recip)
    }
}

macro_rules! elem_elem_op {
    ($trait:ident, $method:ident, $rule:ident) => {
        impl<T: Real, const K: usize> $trait for Elem<T, K> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.binary(rules::$rule, rhs)
            }
        }
    };
}

elem_elem_op!(Add, add, Add);
elem_elem_op!(Sub, sub, Sub);
elem_elem_op!(Mul, mul, Mul);
elem_elem_op!(Div, div, Div);

impl<T: Real, const K: usize> Neg for Elem<T, K> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.unary(rules::Scale { c: -T::one() })
    }
}

macro_rules! elem_scalar_op {
    ($trait:ident, $method:ident, |$c:ident| $rule:expr) => {
        impl<T: Real, const K: usize> $trait<T> for Elem<T, K> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, $c: T) -> Self {
                self.unary($rule)
            }
        }
    };
}

elem_scalar_op!(Add, add, |c| rules::Offset { c });
elem_scalar_op!(Sub, sub, |c| rules::Offset { c: -c });
elem_scalar_op!(Mul, mul, |c| rules::Scale { c });
elem_scalar_op!(Div, div, |c| rules::DivBy { c });

/// `scalar ∘ Elem` for the concrete scalar types (the orphan rule forbids a
/// blanket `impl<T> Mul<Elem<T, K>> for T`).
macro_rules! scalar_elem_ops {
    ($($t:ty),*) => {$(
        impl<const K: usize> Add<Elem<$t, K>> for $t {
            type Output = Elem<$t, K>;
            #[inline(always)]
            fn add(self, x: Elem<$t, K>) -> Elem<$t, K> {
                x + self
            }
        }
        impl<const K: usize> Mul<Elem<$t, K>> for $t {
            type Output = Elem<$t, K>;
            #[inline(always)]
            fn mul(self, x: Elem<$t, K>) -> Elem<$t, K> {
                x * self
            }
        }
        impl<const K: usize> Sub<Elem<$t, K>> for $t {
            type Output = Elem<$t, K>;
            #[inline(always)]
            fn sub(self, x: Elem<$t, K>) -> Elem<$t, K> {
                x.unary(rules::SubFrom { c: self })
            }
        }
        impl<const K: usize> Div<Elem<$t, K>> for $t {
            type Output = Elem<$t, K>;
            #[inline(always)]
            fn div(self, x: Elem<$t, K>) -> Elem<$t, K> {
                x.unary(rules::DivInto { c: self })
            }
        }
    )*};
}

scalar_elem_ops!(f32, f64);
