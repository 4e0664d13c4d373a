//! The traits [`num_traits::Float`] stands on: comparison by value, the
//! constants, conversions, formatting.

use core::cmp::Ordering;
use core::fmt;

use num_traits::{Num, NumCast, One, ToPrimitive, Zero};

use super::{Dual, Tangent};
use crate::real::Real;

/// Equal when the values are: the tangents do not take part (a branch on
/// `x == y` in differentiated code must take the path the plain values take).
impl<T: Real, D: Tangent<T>> PartialEq for Dual<T, D> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

/// Ordered by value, as [`PartialEq`].
impl<T: Real, D: Tangent<T>> PartialOrd for Dual<T, D> {
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: Real, D: Tangent<T>> Default for Dual<T, D> {
    /// The constant 0.
    fn default() -> Self {
        Self::constant(T::zero())
    }
}

impl<T: Real, D: Tangent<T>> From<T> for Dual<T, D> {
    /// The constant `re` (every tangent 0).
    #[inline(always)]
    fn from(re: T) -> Self {
        Self::constant(re)
    }
}

/// `re + [tangents]ε`.
impl<T: Real, D: Tangent<T>> fmt::Display for Dual<T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {:?}ε", self.re, self.eps)
    }
}

impl<T: Real, D: Tangent<T>> Zero for Dual<T, D> {
    #[inline(always)]
    fn zero() -> Self {
        Self::constant(T::zero())
    }
    /// Whether the value is 0 (the tangents do not take part, as in `==`).
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.re.is_zero()
    }
}

impl<T: Real, D: Tangent<T>> One for Dual<T, D> {
    #[inline(always)]
    fn one() -> Self {
        Self::constant(T::one())
    }
}

impl<T: Real, D: Tangent<T>> Num for Dual<T, D> {
    type FromStrRadixErr = T::FromStrRadixErr;
    /// Parses a constant.
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        T::from_str_radix(s, radix).map(Self::constant)
    }
}

/// Converts the value (the tangents are dropped).
impl<T: Real, D: Tangent<T>> ToPrimitive for Dual<T, D> {
    fn to_i64(&self) -> Option<i64> {
        self.re.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.re.to_u64()
    }
    fn to_i128(&self) -> Option<i128> {
        self.re.to_i128()
    }
    fn to_u128(&self) -> Option<u128> {
        self.re.to_u128()
    }
    fn to_f32(&self) -> Option<f32> {
        self.re.to_f32()
    }
    fn to_f64(&self) -> Option<f64> {
        self.re.to_f64()
    }
}

/// Converts to a constant.
impl<T: Real, D: Tangent<T>> NumCast for Dual<T, D> {
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        <T as NumCast>::from(n).map(Self::constant)
    }
}
