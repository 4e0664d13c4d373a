//! The scalar types the benches run for, and their `wide` lanes, for the
//! hand-written SIMD baselines.
//!
//! The baselines call `wide` directly (not `dualtape`'s `Math`/`Real::Lanes`), so
//! a change inside the library can never change the yardstick it is measured by.

use core::ops::{Add, Div, Mul, Neg, Sub};
use wide::{f32x8, f64x4};

/// A scalar the suite is instantiated for (`f64`, `f32`), with its lane type.
pub trait Scalar: dualtape::Real {
    /// The `wide` vector of this scalar: `f64x4` or `f32x8`.
    type V: Lanes<Self>;
    /// The name used in benchmark ids (`"f64"`, `"f32"`).
    const NAME: &'static str;
    /// Largest relative difference tolerated between the tape's gradient and a
    /// hand-written one (scaled by the largest element; see `check::assert_close`).
    /// f32 is loose because the plain scalar baselines sum millions of terms
    /// into one accumulator: W1's norm at n = 8 388 608 comes out 4e-3 low, and
    /// its gradient `x/‖x‖` with it. A wrong formula is still off by O(1).
    const TOL: f64;
    /// `self` as `f64`, for comparisons and messages.
    fn as_f64(self) -> f64 {
        self.to_f64().expect("f32 and f64 convert to f64")
    }
}

impl Scalar for f64 {
    type V = f64x4;
    const NAME: &'static str = "f64";
    const TOL: f64 = 1e-9;
}

impl Scalar for f32 {
    type V = f32x8;
    const NAME: &'static str = "f32";
    const TOL: f64 = 1e-2;
}

/// A bundle of `N` scalars in one `wide` register, with the math the baselines use.
pub trait Lanes<T>:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Scalars per bundle (4 for `f64x4`, 8 for `f32x8`).
    const N: usize;
    /// Every lane set to `v`.
    fn splat(v: T) -> Self;
    /// The first `N` scalars of `s`.
    fn load(s: &[T]) -> Self;
    /// Writes the lanes into the first `N` scalars of `d`.
    fn store(self, d: &mut [T]);
    /// Sum of the lanes.
    fn hsum(self) -> T;
    /// Largest lane.
    fn hmax(self) -> T;
    /// Smallest lane.
    fn hmin(self) -> T;
    /// Lane-wise maximum.
    fn max(self, o: Self) -> Self;
    /// Lane-wise minimum.
    fn min(self, o: Self) -> Self;
    /// `self·b + c` (a fused multiply-add with FMA).
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// `eˣ` (wide's polynomial).
    fn exp(self) -> Self;
    /// `ln x` (wide's polynomial).
    fn ln(self) -> Self;
    /// `√x`.
    fn sqrt(self) -> Self;
    /// `(sin x, cos x)` in one evaluation.
    fn sin_cos(self) -> (Self, Self);
    /// `tanh x`.
    fn tanh(self) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
    /// `xᵖ` lane by lane.
    fn powf(self, p: Self) -> Self;
    /// Per lane: `if self > o { t } else { f }`.
    fn sel_gt(self, o: Self, t: Self, f: Self) -> Self;
    /// Per lane: `if self < o { t } else { f }`.
    fn sel_lt(self, o: Self, t: Self, f: Self) -> Self;
    /// Per lane: `if self == o { t } else { f }`.
    fn sel_eq(self, o: Self, t: Self, f: Self) -> Self;
    /// How many lanes equal `o`.
    fn count_eq(self, o: Self) -> usize;
}

macro_rules! lanes_impl {
    ($v:ty, $t:ty, $n:literal) => {
        impl Lanes<$t> for $v {
            const N: usize = $n;
            #[inline(always)]
            fn splat(v: $t) -> Self {
                <$v>::splat(v)
            }
            #[inline(always)]
            fn load(s: &[$t]) -> Self {
                let a: [$t; $n] = s[..$n].try_into().expect("N scalars");
                <$v>::new(a)
            }
            #[inline(always)]
            fn store(self, d: &mut [$t]) {
                d[..$n].copy_from_slice(&self.to_array());
            }
            #[inline(always)]
            fn hsum(self) -> $t {
                self.reduce_add()
            }
            #[inline(always)]
            fn hmax(self) -> $t {
                self.to_array()
                    .into_iter()
                    .fold(<$t>::NEG_INFINITY, <$t>::max)
            }
            #[inline(always)]
            fn hmin(self) -> $t {
                self.to_array().into_iter().fold(<$t>::INFINITY, <$t>::min)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                <$v>::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                <$v>::min(self, o)
            }
            #[inline(always)]
            fn mul_add(self, b: Self, c: Self) -> Self {
                <$v>::mul_add(self, b, c)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$v>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$v>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$v>::sqrt(self)
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                <$v>::sin_cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$v>::tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$v>::abs(self)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                <$v>::powf_simd(self, p)
            }
            #[inline(always)]
            fn sel_gt(self, o: Self, t: Self, f: Self) -> Self {
                self.simd_gt(o).select(t, f)
            }
            #[inline(always)]
            fn sel_lt(self, o: Self, t: Self, f: Self) -> Self {
                self.simd_lt(o).select(t, f)
            }
            #[inline(always)]
            fn sel_eq(self, o: Self, t: Self, f: Self) -> Self {
                self.simd_eq(o).select(t, f)
            }
            #[inline(always)]
            fn count_eq(self, o: Self) -> usize {
                self.simd_eq(o).to_bitmask().count_ones() as usize
            }
        }
    };
}

lanes_impl!(f64x4, f64, 4);
lanes_impl!(f32x8, f32, 8);
