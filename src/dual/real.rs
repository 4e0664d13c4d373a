//! A dual is a scalar the tape records: [`Math`] and [`Real`] with one lane.
//!
//! With `Lanes = Self` and `LANES = 1` every kernel's `chunks_exact(LANES)`
//! head is a plain loop over duals and its tail is empty; each rule runs on
//! duals, so the tape's forward values carry tangents and its backward sweep
//! differentiates the adjoints too (forward-over-reverse).

use num_traits::Float;

use super::{Dual, Tangent};
use crate::real::{Math, Real};

impl<T: Real, D: Tangent<T>> Math<Dual<T, D>> for Dual<T, D> {
    #[inline(always)]
    fn splat(v: Self) -> Self {
        v
    }
    #[inline(always)]
    fn exp(self) -> Self {
        Float::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        Float::ln(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Float::sqrt(self)
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        Float::sin_cos(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        Float::tanh(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Float::abs(self)
    }
    #[inline(always)]
    fn powf(self, p: Self) -> Self {
        self.pow(p)
    }
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        Float::powi(self, n)
    }
    /// The sign of the value; its derivative is 0 (NaN stays NaN in the value).
    #[inline(always)]
    fn sign(self) -> Self {
        Self::constant(Math::sign(self.re))
    }
    #[inline(always)]
    fn select_le_zero(self, if_true: Self, if_false: Self) -> Self {
        if self.re <= T::zero() {
            if_true
        } else {
            if_false
        }
    }
    #[inline(always)]
    fn select_zero(self, if_true: Self, if_false: Self) -> Self {
        if self.re == T::zero() {
            if_true
        } else {
            if_false
        }
    }
    /// `(a + Aε)(b + Bε) = ab + (a·B + A·b)ε`, each product by a part of
    /// `self` (`a`, `A`) left 0 where that part is 0.
    #[inline(always)]
    fn tangent_times(self, d: Self) -> Self {
        Dual {
            re: self.re.tangent_times(d.re),
            eps: D::splat(self.re).tangent_times(d.eps) + self.eps.tangent_times(D::splat(d.re)),
        }
    }
    #[inline(always)]
    fn select_eq(self, other: Self, if_true: Self, if_false: Self) -> Self {
        if self.re == other.re {
            if_true
        } else {
            if_false
        }
    }
}

/// One lane: the kernels run as plain loops over duals.
impl<T: Real, D: Tangent<T>> Real for Dual<T, D> {
    type Lanes = Self;
    const LANES: usize = 1;
    #[inline(always)]
    fn load(src: &[Self]) -> Self {
        src[0]
    }
    #[inline(always)]
    fn store(v: Self, dst: &mut [Self]) {
        dst[0] = v;
    }
    #[inline(always)]
    fn reduce_add(v: Self) -> Self {
        v
    }
    #[inline(always)]
    fn reduce_max(v: Self) -> Self {
        v
    }
    #[inline(always)]
    fn reduce_min(v: Self) -> Self {
        v
    }
    #[inline(always)]
    fn lit(v: f64) -> Self {
        Self::constant(T::lit(v))
    }
    /// `false`: the tangents are not looked at, so a product by a dual
    /// derivative always keeps the zero-tangent mask.
    #[inline(always)]
    fn zero_times_is_zero(self) -> bool {
        false
    }
}
