//! [`Float`] for duals.
//!
//! The core op set takes value and derivative from [`crate::rules`] (the
//! statements the tape runs): `exp ln sqrt sin cos tanh abs recip powi powf`.
//! The rest of what `Float` requires is stated here, value from `T`'s own
//! function and derivative as the table says:
//!
//! | function | derivative | at the edges |
//! |---|---|---|
//! | `exp2 x` | `2ˣ·ln 2` | |
//! | `exp_m1 x` | `eˣ` | |
//! | `ln_1p x` | `1/(1 + x)` | `+inf` at −1 |
//! | `log2 x`, `log10 x` | `1/(x·ln 2)`, `1/(x·ln 10)` | `+inf` at 0 |
//! | `log(x, b)` | `ln x / ln b` through the `ln` and `÷` rules | |
//! | `cbrt x` | `1/(3·∛x²)` | `+inf` at 0 |
//! | `hypot(x, y)` | `(x·dx + y·dy)/hypot` | 0 at `(0, 0)`, as `Var::norm` |
//! | `tan x` | `1 + tan² x` | |
//! | `asin x`, `acos x` | `±1/√(1 − x²)` | `±inf` at ±1 |
//! | `atan x` | `1/(1 + x²)` | |
//! | `atan2(y, x)` | `(x·dy − y·dx)/(x² + y²)` | NaN at the origin |
//! | `sinh x`, `cosh x` | `cosh x`, `sinh x` | |
//! | `asinh x` | `1/√(x² + 1)` | |
//! | `acosh x` | `1/√((x − 1)(x + 1))` | `+inf` at 1 |
//! | `atanh x` | `1/(1 − x²)` | `±inf` at ±1 |
//! | `mul_add(x, a, b)` | `a·dx + x·da + db` (value fused) | |
//! | `max`, `min` | the chosen side's | ties average the tangents (PyTorch's `maximum`) |
//! | `abs_sub(x, y)` | `dx − dy` where `x > y`, else 0 | |
//! | `to_degrees`, `to_radians` | the constant factor (the `mul` rule) | |
//! | `floor ceil round trunc signum` | 0 | |
//! | `fract x` | 1 | |
//!
//! Predicates (`is_nan`, `is_finite`, `classify`, …) and `integer_decode` look
//! at the value alone.

use core::num::FpCategory;

use num_traits::Float;

use super::{Dual, Tangent, pick, times};
use crate::real::Real;
use crate::rules;

impl<T: Real, D: Tangent<T>> Float for Dual<T, D> {
    fn nan() -> Self {
        Self::constant(T::nan())
    }
    fn infinity() -> Self {
        Self::constant(T::infinity())
    }
    fn neg_infinity() -> Self {
        Self::constant(T::neg_infinity())
    }
    fn neg_zero() -> Self {
        Self::constant(T::neg_zero())
    }
    fn min_value() -> Self {
        Self::constant(T::min_value())
    }
    fn min_positive_value() -> Self {
        Self::constant(T::min_positive_value())
    }
    fn epsilon() -> Self {
        Self::constant(T::epsilon())
    }
    fn max_value() -> Self {
        Self::constant(T::max_value())
    }
    fn is_nan(self) -> bool {
        self.re.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.re.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.re.is_finite()
    }
    fn is_normal(self) -> bool {
        self.re.is_normal()
    }
    fn is_subnormal(self) -> bool {
        self.re.is_subnormal()
    }
    fn classify(self) -> FpCategory {
        self.re.classify()
    }
    fn floor(self) -> Self {
        Self::constant(Float::floor(self.re))
    }
    fn ceil(self) -> Self {
        Self::constant(Float::ceil(self.re))
    }
    fn round(self) -> Self {
        Self::constant(Float::round(self.re))
    }
    fn trunc(self) -> Self {
        Self::constant(Float::trunc(self.re))
    }
    fn fract(self) -> Self {
        Dual::new(Float::fract(self.re), self.eps)
    }
    fn abs(self) -> Self {
        self.unary(rules::Abs)
    }
    fn signum(self) -> Self {
        Self::constant(Float::signum(self.re))
    }
    fn is_sign_positive(self) -> bool {
        self.re.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.re.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        Dual::new(
            Float::mul_add(self.re, a.re, b.re),
            times(self.eps, a.re) + times(a.eps, self.re) + b.eps,
        )
    }
    fn recip(self) -> Self {
        self.unary(rules::Recip)
    }
    fn powi(self, n: i32) -> Self {
        self.unary(rules::Powi { n })
    }
    fn powf(self, n: Self) -> Self {
        self.pow(n)
    }
    fn sqrt(self) -> Self {
        self.unary(rules::Sqrt)
    }
    fn exp(self) -> Self {
        self.unary(rules::Exp)
    }
    fn exp2(self) -> Self {
        let y = Float::exp2(self.re);
        self.chain(y, y * Float::ln(T::lit(2.0)))
    }
    fn ln(self) -> Self {
        self.unary(rules::Ln)
    }
    fn log(self, base: Self) -> Self {
        self.unary(rules::Ln) / base.unary(rules::Ln)
    }
    fn log2(self) -> Self {
        let d = T::one() / (self.re * Float::ln(T::lit(2.0)));
        self.chain(Float::log2(self.re), d)
    }
    fn log10(self) -> Self {
        let d = T::one() / (self.re * Float::ln(T::lit(10.0)));
        self.chain(Float::log10(self.re), d)
    }
    fn to_degrees(self) -> Self {
        self.unary(rules::Scale {
            c: Float::to_degrees(T::one()),
        })
    }
    fn to_radians(self) -> Self {
        self.unary(rules::Scale {
            c: Float::to_radians(T::one()),
        })
    }
    fn max(self, other: Self) -> Self {
        pick(self, other, true)
    }
    fn min(self, other: Self) -> Self {
        pick(self, other, false)
    }
    fn abs_sub(self, other: Self) -> Self {
        if self.re.is_nan() || other.re.is_nan() {
            Self::nan()
        } else if self.re <= other.re {
            Self::constant(T::zero())
        } else {
            self - other
        }
    }
    fn cbrt(self) -> Self {
        let y = Float::cbrt(self.re);
        self.chain(y, T::one() / (T::lit(3.0) * y * y))
    }
    fn hypot(self, other: Self) -> Self {
        let h = Float::hypot(self.re, other.re);
        if h == T::zero() {
            return Self::constant(h);
        }
        let (da, db) = (self.re / h, other.re / h);
        Dual::new(h, times(self.eps, da) + times(other.eps, db))
    }
    fn sin(self) -> Self {
        self.unary(rules::Sin)
    }
    fn cos(self) -> Self {
        self.unary(rules::Cos)
    }
    fn tan(self) -> Self {
        let t = Float::tan(self.re);
        self.chain(t, T::one() + t * t)
    }
    fn asin(self) -> Self {
        let d = T::one() / Float::sqrt(T::one() - self.re * self.re);
        self.chain(Float::asin(self.re), d)
    }
    fn acos(self) -> Self {
        let d = -T::one() / Float::sqrt(T::one() - self.re * self.re);
        self.chain(Float::acos(self.re), d)
    }
    fn atan(self) -> Self {
        let d = T::one() / (T::one() + self.re * self.re);
        self.chain(Float::atan(self.re), d)
    }
    /// `atan2(y = self, x = other)`.
    fn atan2(self, other: Self) -> Self {
        let (y, x) = (self.re, other.re);
        let r2 = x * x + y * y;
        Dual::new(
            Float::atan2(y, x),
            times(self.eps, x / r2) - times(other.eps, y / r2),
        )
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.unary(rules::Sin), self.unary(rules::Cos))
    }
    fn exp_m1(self) -> Self {
        self.chain(Float::exp_m1(self.re), Float::exp(self.re))
    }
    fn ln_1p(self) -> Self {
        self.chain(Float::ln_1p(self.re), T::one() / (T::one() + self.re))
    }
    fn sinh(self) -> Self {
        self.chain(Float::sinh(self.re), Float::cosh(self.re))
    }
    fn cosh(self) -> Self {
        self.chain(Float::cosh(self.re), Float::sinh(self.re))
    }
    fn tanh(self) -> Self {
        self.unary(rules::Tanh)
    }
    fn asinh(self) -> Self {
        let d = T::one() / Float::hypot(self.re, T::one());
        self.chain(Float::asinh(self.re), d)
    }
    fn acosh(self) -> Self {
        let x = self.re;
        let d = T::one() / Float::sqrt((x - T::one()) * (x + T::one()));
        self.chain(Float::acosh(x), d)
    }
    fn atanh(self) -> Self {
        let d = T::one() / (T::one() - self.re * self.re);
        self.chain(Float::atanh(self.re), d)
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.re.integer_decode()
    }
}
