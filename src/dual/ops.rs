//! The std operators on duals, each through the rule the tape runs.

use core::iter::{Product, Sum};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign};
use core::ops::{Sub, SubAssign};

use num_traits::Float;

use super::{Dual, Tangent, times};
use crate::real::Real;
use crate::rules;

macro_rules! dual_dual_op {
    ($trait:ident, $method:ident, $assign:ident, $assign_method:ident, $rule:ident) => {
        impl<T: Real, D: Tangent<T>> $trait for Dual<T, D> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.binary(rules::$rule, rhs)
            }
        }
        impl<T: Real, D: Tangent<T>> $assign for Dual<T, D> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Self) {
                *self = self.binary(rules::$rule, rhs);
            }
        }
    };
}

// d(a ± b) = da ± db, d(a·b) = b·da + a·db, d(a/b) = (da − y·db)/b: rules::{Add, Sub, Mul, Div}.
dual_dual_op!(Add, add, AddAssign, add_assign, Add);
dual_dual_op!(Sub, sub, SubAssign, sub_assign, Sub);
dual_dual_op!(Mul, mul, MulAssign, mul_assign, Mul);
dual_dual_op!(Div, div, DivAssign, div_assign, Div);

macro_rules! dual_scalar_op {
    ($trait:ident, $method:ident, $assign:ident, $assign_method:ident, |$c:ident| $rule:expr) => {
        impl<T: Real, D: Tangent<T>> $trait<T> for Dual<T, D> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, $c: T) -> Self {
                self.unary($rule)
            }
        }
        impl<T: Real, D: Tangent<T>> $assign<T> for Dual<T, D> {
            #[inline(always)]
            fn $assign_method(&mut self, $c: T) {
                *self = self.unary($rule);
            }
        }
    };
}

// A plain scalar on the right is a constant folded into the rule, as on the tape.
dual_scalar_op!(Add, add, AddAssign, add_assign, |c| rules::Offset { c });
dual_scalar_op!(Sub, sub, SubAssign, sub_assign, |c| rules::Offset { c: -c });
dual_scalar_op!(Mul, mul, MulAssign, mul_assign, |c| rules::Scale { c });
dual_scalar_op!(Div, div, DivAssign, div_assign, |c| rules::DivBy { c });

impl<T: Real, D: Tangent<T>> Neg for Dual<T, D> {
    type Output = Self;
    /// `−x`, `d = −dx` ([`rules::Scale`] with `c = −1`, as the tape's unary minus).
    #[inline(always)]
    fn neg(self) -> Self {
        self.unary(rules::Scale { c: -T::one() })
    }
}

/// `a % b = a − trunc(a/b)·b`; `d = da − trunc(a/b)·db` (trunc is piecewise
/// constant). Not in the core op set: stated here.
impl<T: Real, D: Tangent<T>> Rem for Dual<T, D> {
    type Output = Self;
    #[inline]
    fn rem(self, rhs: Self) -> Self {
        let q = Float::trunc(self.re / rhs.re);
        Dual {
            re: self.re % rhs.re,
            eps: self.eps - times(rhs.eps, q),
        }
    }
}

impl<T: Real, D: Tangent<T>> RemAssign for Dual<T, D> {
    #[inline]
    fn rem_assign(&mut self, rhs: Self) {
        *self = *self % rhs;
    }
}

/// `a % c` for a constant `c`: `d = da`.
impl<T: Real, D: Tangent<T>> Rem<T> for Dual<T, D> {
    type Output = Self;
    #[inline]
    fn rem(self, c: T) -> Self {
        Dual {
            re: self.re % c,
            eps: self.eps,
        }
    }
}

impl<T: Real, D: Tangent<T>> Sum for Dual<T, D> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::constant(T::zero()), |s, x| s + x)
    }
}

impl<T: Real, D: Tangent<T>> Product for Dual<T, D> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::constant(T::one()), |s, x| s * x)
    }
}

/// `c ∘ Dual` for the concrete scalars (the orphan rule forbids a blanket
/// `impl<T> Mul<Dual<T>> for T`).
macro_rules! scalar_dual_ops {
    ($($t:ty),*) => {$(
        impl<D: Tangent<$t>> Add<Dual<$t, D>> for $t {
            type Output = Dual<$t, D>;
            #[inline(always)]
            fn add(self, x: Dual<$t, D>) -> Dual<$t, D> {
                x.unary(rules::Offset { c: self })
            }
        }
        impl<D: Tangent<$t>> Sub<Dual<$t, D>> for $t {
            type Output = Dual<$t, D>;
            #[inline(always)]
            fn sub(self, x: Dual<$t, D>) -> Dual<$t, D> {
                x.unary(rules::SubFrom { c: self })
            }
        }
        impl<D: Tangent<$t>> Mul<Dual<$t, D>> for $t {
            type Output = Dual<$t, D>;
            #[inline(always)]
            fn mul(self, x: Dual<$t, D>) -> Dual<$t, D> {
                x.unary(rules::Scale { c: self })
            }
        }
        impl<D: Tangent<$t>> Div<Dual<$t, D>> for $t {
            type Output = Dual<$t, D>;
            #[inline(always)]
            fn div(self, x: Dual<$t, D>) -> Dual<$t, D> {
                x.unary(rules::DivInto { c: self })
            }
        }
    )*};
}

scalar_dual_ops!(f32, f64);
