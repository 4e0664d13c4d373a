//! The scalar trait and its lane type: the only file that names `wide`.
//!
//! [`Math`] is the arithmetic every derivative rule is written against. A plain
//! scalar (`f64`), a bundle of SIMD lanes (`wide::f64x4`) and a dual number all
//! implement it, so [`crate::rules`] states each derivative once and the scalar
//! kernels, the SIMD kernels and forward mode all run that one statement.
//!
//! [`Real`] is the scalar a [`crate::Tape`] records: `f32`, `f64`, and (for
//! forward-over-reverse) [`crate::Dual`].

use core::fmt::{Debug, Display};
use core::ops::{Add, Div, Mul, Neg, Sub};
use num_traits::Float;
use wide::{f32x8, f64x4};

/// Arithmetic and elementary functions shared by scalars, SIMD lanes and duals.
///
/// `T` is the scalar a lane holds. Every method acts lane by lane and follows
/// IEEE 754: NaN in gives NaN out unless a method says otherwise.
pub trait Math<T>:
    Copy
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Every lane set to `v`.
    fn splat(v: T) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm; `ln 0 = −inf`, negative input gives NaN.
    fn ln(self) -> Self;
    /// Square root; negative input gives NaN.
    fn sqrt(self) -> Self;
    /// `(sin x, cos x)` in one evaluation.
    fn sin_cos(self) -> (Self, Self);
    /// Hyperbolic tangent, exact ±1 for large |x| (never NaN from overflow).
    fn tanh(self) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
    /// `self^p` for a real exponent (NaN for negative bases with non-integer `p`).
    fn powf(self, p: Self) -> Self;
    /// `self^n` by repeated multiplication (exact for small `n`).
    fn powi(self, n: i32) -> Self;
    /// `−1`, `0` or `+1` by the sign of `self`; `0` at ±0 and NaN at NaN.
    fn sign(self) -> Self;
    /// Per lane: `if self <= 0 { if_true } else { if_false }`; NaN picks `if_false`.
    fn select_le_zero(self, if_true: Self, if_false: Self) -> Self;
    /// Per lane: `if self == 0 { if_true } else { if_false }`.
    fn select_zero(self, if_true: Self, if_false: Self) -> Self;
    /// Per lane: `if self == 0 { 0 } else { v }`: forward mode's rule that a
    /// zero tangent stays 0. The default is `select_zero` against 0; the lane
    /// types do it in two instructions.
    fn zero_where_zero(self, v: Self) -> Self
    where
        T: num_traits::Zero,
    {
        self.select_zero(Self::splat(T::zero()), v)
    }
    /// `self·d` for a tangent `self`: a product by a part of `self` that is
    /// exactly 0 is 0, whatever `d` is (the zero-tangent rule). Lanes and
    /// scalars: [`Math::zero_where_zero`] of the product; a dual number applies
    /// it to each product of its parts, so a tangent whose value is 0 but whose
    /// own derivative is not keeps that derivative (a Hessian through a map).
    fn tangent_times(self, d: Self) -> Self
    where
        T: num_traits::Zero,
    {
        self.zero_where_zero(self * d)
    }
    /// Per lane: `if self == other { if_true } else { if_false }`.
    fn select_eq(self, other: Self, if_true: Self, if_false: Self) -> Self;
}

/// The scalar a [`crate::Tape`] records and the kernels run over.
///
/// Implemented for `f32` (8 lanes of `f32x8`), `f64` (4 lanes of `f64x4`) and for
/// [`crate::Dual`] (one lane: its kernels run as plain loops).
pub trait Real: Float + Math<Self> + Default + Debug + Display + Send + Sync + 'static {
    /// A bundle of `LANES` scalars processed by one SIMD instruction.
    type Lanes: Math<Self> + Debug;
    /// How many scalars one [`Real::Lanes`] holds.
    const LANES: usize;
    /// Loads `LANES` scalars from the front of `src`.
    ///
    /// # Panics
    /// If `src` is shorter than `LANES`.
    fn load(src: &[Self]) -> Self::Lanes;
    /// Stores `v` into the front `LANES` scalars of `dst`.
    ///
    /// # Panics
    /// If `dst` is shorter than `LANES`.
    fn store(v: Self::Lanes, dst: &mut [Self]);
    /// The sum of the lanes, added in lane order.
    fn reduce_add(v: Self::Lanes) -> Self;
    /// The largest lane; NaN if any lane is NaN.
    fn reduce_max(v: Self::Lanes) -> Self;
    /// The smallest lane; NaN if any lane is NaN.
    fn reduce_min(v: Self::Lanes) -> Self;
    /// Converts an `f64` literal (a constant in a rule) to this type.
    fn lit(v: f64) -> Self;
    /// Whether `0·self` is exactly 0 (up to its sign) in every part, so that
    /// [`Math::tangent_times`] by `self` needs no mask: a finite float. The
    /// default is [`Float::is_finite`]; a dual number, whose `is_finite`
    /// looks at its value alone, answers `false`.
    #[inline(always)]
    fn zero_times_is_zero(self) -> bool {
        self.is_finite()
    }
}

/// The SIMD lane type this build uses for `T`, as a name (`"f64x4"`, `"f32x8"`).
///
/// `wide` picks its instructions when it is compiled: without AVX2 enabled
/// (`-C target-cpu=native` on an AVX2 machine), `f64x4` runs as two SSE2 halves.
///
/// ```
/// assert_eq!(dualtape::lane_name::<f64>(), "f64x4");
/// ```
pub fn lane_name<T: Real>() -> &'static str {
    match (core::mem::size_of::<T>(), T::LANES) {
        (8, 4) => "f64x4",
        (4, 8) => "f32x8",
        _ => "scalar",
    }
}

/// Whether this build's SIMD lanes use AVX2 instructions (full-width `f64x4`/`f32x8`).
pub const AVX2_ENABLED: bool = cfg!(target_feature = "avx2");

macro_rules! scalar_math {
    ($t:ty) => {
        impl Math<$t> for $t {
            #[inline(always)]
            fn splat(v: $t) -> Self {
                v
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                <$t>::sin_cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                <$t>::powf(self, p)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                powi_by_squaring(self, n, 1.0)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    // ±0 → 0, NaN → NaN
                    self + self
                }
            }
            #[inline(always)]
            fn select_le_zero(self, if_true: Self, if_false: Self) -> Self {
                if self <= 0.0 { if_true } else { if_false }
            }
            #[inline(always)]
            fn select_zero(self, if_true: Self, if_false: Self) -> Self {
                if self == 0.0 { if_true } else { if_false }
            }
            #[inline(always)]
            fn select_eq(self, other: Self, if_true: Self, if_false: Self) -> Self {
                if self == other { if_true } else { if_false }
            }
        }
    };
}

/// `f` on each lane with the scalar (std) function: where `wide`'s approximation
/// is wrong, the lanes take the path the scalar kernels take.
macro_rules! per_lane {
    ($lanes:ty, |$($x:ident),+| $f:expr) => {{
        let ($($x,)+) = ($($x.to_array(),)+);
        <$lanes>::new(core::array::from_fn(|i| { $(let $x = $x[i];)+ $f }))
    }};
}

/// `$trig_max`: the largest |x| whose `sin_cos` wide reduces accurately (a
/// three-part π/2); `$pow_max`: the largest |p| for which wide's `powf` keeps
/// its integer arithmetic in range. Both were measured by `tests/kernels.rs`.
macro_rules! lane_math {
    ($lanes:ty, $t:ty, trig_max = $trig_max:expr, pow_max = $pow_max:expr) => {
        impl Math<$t> for $lanes {
            #[inline(always)]
            fn splat(v: $t) -> Self {
                <$lanes>::splat(v)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$lanes>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                // wide gives −inf for every subnormal, negative ones included.
                let a = self.abs();
                let sub =
                    a.simd_lt(<$lanes>::splat(<$t>::MIN_POSITIVE)) & a.simd_gt(<$lanes>::ZERO);
                if sub.any() {
                    let x = self;
                    return per_lane!($lanes, |x| x.ln());
                }
                <$lanes>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$lanes>::sqrt(self)
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                // Past $trig_max wide's reduction loses every digit (sin 1e30 = −1).
                if self.abs().simd_gt(<$lanes>::splat($trig_max)).any() {
                    let x = self;
                    return (
                        per_lane!($lanes, |x| x.sin()),
                        per_lane!($lanes, |x| x.cos()),
                    );
                }
                <$lanes>::sin_cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$lanes>::tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$lanes>::abs(self)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                // wide is wrong for infinite or NaN bases and exponents (∞^0.5 is
                // finite, 1^NaN and NaN^0 NaN), takes subnormal bases for 0,
                // overflows its integer arithmetic for huge |p| ((−2)^1e30 = −∞),
                // flushes subnormal results to 0 and (f32) gives NaN for overflow.
                // Those lanes take std's path: inputs checked before, results after.
                let (min, max) = (
                    <$lanes>::splat(<$t>::MIN_POSITIVE),
                    <$lanes>::splat(<$t>::MAX),
                );
                let x = self;
                let a = x.abs();
                let nonzero = a.simd_gt(<$lanes>::ZERO);
                let special = !a.simd_le(max)
                    | (a.simd_lt(min) & nonzero)
                    | !p.abs().simd_le(<$lanes>::splat($pow_max));
                if !special.any() {
                    let y = <$lanes>::powf_simd(x, p);
                    let r = y.abs();
                    if !((!(r.simd_ge(min) & r.simd_le(max))) & nonzero).any() {
                        return y;
                    }
                }
                per_lane!($lanes, |x, p| x.powf(p))
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                powi_by_squaring(self, n, <$lanes>::ONE)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                let zero = <$lanes>::ZERO;
                let one = <$lanes>::ONE;
                let pos = self.simd_gt(zero).select(one, zero);
                let neg = self.simd_lt(zero).select(one, zero);
                // ±0 and NaN give `self + self`, as the scalar `sign` (−0 stays −0).
                (self.is_nan() | self.simd_eq(zero)).select(self + self, pos - neg)
            }
            #[inline(always)]
            fn select_le_zero(self, if_true: Self, if_false: Self) -> Self {
                self.simd_le(<$lanes>::ZERO).select(if_true, if_false)
            }
            #[inline(always)]
            fn select_zero(self, if_true: Self, if_false: Self) -> Self {
                self.simd_eq(<$lanes>::ZERO).select(if_true, if_false)
            }
            #[inline(always)]
            fn zero_where_zero(self, v: Self) -> Self {
                // The comparison's lanes are all ones or all zeros: an and-not,
                // where a blend on them costs a sign extension first.
                v & !self.simd_eq(<$lanes>::ZERO)
            }
            #[inline(always)]
            fn select_eq(self, other: Self, if_true: Self, if_false: Self) -> Self {
                self.simd_eq(other).select(if_true, if_false)
            }
        }
    };
}

/// `x^n` by binary powering. Scalars and lanes both use it, so they agree to
/// the bit (`f64::powi` leaves its multiplication order unspecified).
#[inline(always)]
fn powi_by_squaring<L: Copy + Mul<Output = L> + Div<Output = L>>(x: L, n: i32, one: L) -> L {
    // The small exponents spelled out, in the loop's own multiplication order:
    // a kernel then runs a multiply or two per lane bundle, not the loop.
    match n {
        0 => return one,
        1 => return x,
        2 => return x * x,
        3 => return x * (x * x),
        4 => {
            let x2 = x * x;
            return x2 * x2;
        }
        -1 => return one / x,
        -2 => return one / (x * x),
        _ => {}
    }
    let mut base = x;
    let mut e = n.unsigned_abs();
    let mut acc: Option<L> = None;
    while e > 0 {
        if e & 1 == 1 {
            acc = Some(match acc {
                None => base,
                Some(a) => a * base,
            });
        }
        e >>= 1;
        if e > 0 {
            base = base * base;
        }
    }
    let pos = acc.unwrap_or(one);
    if n < 0 { one / pos } else { pos }
}

scalar_math!(f32);
scalar_math!(f64);
lane_math!(f64x4, f64, trig_max = 1e13, pow_max = 1e15);
lane_math!(f32x8, f32, trig_max = 1e5, pow_max = 1e6);

macro_rules! real_impl {
    ($t:ty, $lanes:ty, $n:expr) => {
        impl Real for $t {
            type Lanes = $lanes;
            const LANES: usize = $n;
            #[inline(always)]
            fn load(src: &[Self]) -> Self::Lanes {
                let arr: [$t; $n] = src[..$n].try_into().expect("slice of LANES");
                <$lanes>::new(arr)
            }
            #[inline(always)]
            fn store(v: Self::Lanes, dst: &mut [Self]) {
                dst[..$n].copy_from_slice(&v.to_array());
            }
            #[inline(always)]
            fn reduce_add(v: Self::Lanes) -> Self {
                v.to_array().iter().fold(0.0, |s, &x| s + x)
            }
            #[inline(always)]
            fn reduce_max(v: Self::Lanes) -> Self {
                v.to_array()
                    .iter()
                    .copied()
                    .fold(<$t>::NEG_INFINITY, nan_max)
            }
            #[inline(always)]
            fn reduce_min(v: Self::Lanes) -> Self {
                v.to_array()
                    .iter()
                    .copied()
                    .fold(<$t>::INFINITY, |a, b| -nan_max(-a, -b))
            }
            #[inline(always)]
            fn lit(v: f64) -> Self {
                v as $t
            }
        }
    };
}

/// `max` that propagates NaN (IEEE `maximum`), unlike `f64::max`.
#[inline(always)]
fn nan_max<F: Float>(a: F, b: F) -> F {
    if a.is_nan() || b.is_nan() {
        F::nan()
    } else if a >= b {
        a
    } else {
        b
    }
}

real_impl!(f64, f64x4, 4);
real_impl!(f32, f32x8, 8);
