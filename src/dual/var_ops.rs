//! Operators between a [`Var`] on a tape of duals and constants: a dual
//! (`Dual<T> * Var<Dual<T>>`) or a plain `f32`/`f64` (`3.0 * x`, `x - 1.0`),
//! so code on a `Tape<Dual<f64>>` reads as it does on a `Tape<f64>`.
//!
//! ```
//! use dualtape::{Dual64, Tape};
//!
//! let tape = Tape::<Dual64>::new();
//! let x = tape.var(&[Dual64::new(2.0, 1.0)]);
//! let y = 3.0 * x.powi(2) - 1.0 + Dual64::constant(0.5) * x; // 3x² − 1 + x/2
//! assert_eq!(y.item(), Dual64::new(12.0, 12.5)); // tangent 6x + 1/2
//! assert_eq!(y.item().eps, 12.5);
//! ```
//!
//! Each constant is folded into its node, as plain scalars are on any tape.

use core::ops::{Add, Div, Mul, Sub};

use super::{Dual, Tangent};
use crate::real::Real;
use crate::tape::Var;

impl<'t, T: Real, D: Tangent<T>> Add<Var<'t, Dual<T, D>>> for Dual<T, D> {
    type Output = Var<'t, Dual<T, D>>;
    #[track_caller]
    fn add(self, v: Var<'t, Dual<T, D>>) -> Self::Output {
        v + self
    }
}

impl<'t, T: Real, D: Tangent<T>> Sub<Var<'t, Dual<T, D>>> for Dual<T, D> {
    type Output = Var<'t, Dual<T, D>>;
    #[track_caller]
    fn sub(self, v: Var<'t, Dual<T, D>>) -> Self::Output {
        v.scalar_rsub(self)
    }
}

impl<'t, T: Real, D: Tangent<T>> Mul<Var<'t, Dual<T, D>>> for Dual<T, D> {
    type Output = Var<'t, Dual<T, D>>;
    #[track_caller]
    fn mul(self, v: Var<'t, Dual<T, D>>) -> Self::Output {
        v * self
    }
}

impl<'t, T: Real, D: Tangent<T>> Div<Var<'t, Dual<T, D>>> for Dual<T, D> {
    type Output = Var<'t, Dual<T, D>>;
    #[track_caller]
    fn div(self, v: Var<'t, Dual<T, D>>) -> Self::Output {
        v.scalar_rdiv(self)
    }
}

/// `c ∘ Var` and `Var ∘ c` for a plain `f32`/`f64` on a tape of duals: the
/// constant `c + 0ε`.
macro_rules! float_dual_var_ops {
    ($($t:ty),*) => {$(
        impl<'t, D: Tangent<$t>> Add<Var<'t, Dual<$t, D>>> for $t {
            type Output = Var<'t, Dual<$t, D>>;
            #[track_caller]
            fn add(self, v: Var<'t, Dual<$t, D>>) -> Self::Output {
                v + Dual::constant(self)
            }
        }
        impl<'t, D: Tangent<$t>> Sub<Var<'t, Dual<$t, D>>> for $t {
            type Output = Var<'t, Dual<$t, D>>;
            #[track_caller]
            fn sub(self, v: Var<'t, Dual<$t, D>>) -> Self::Output {
                v.scalar_rsub(Dual::constant(self))
            }
        }
        impl<'t, D: Tangent<$t>> Mul<Var<'t, Dual<$t, D>>> for $t {
            type Output = Var<'t, Dual<$t, D>>;
            #[track_caller]
            fn mul(self, v: Var<'t, Dual<$t, D>>) -> Self::Output {
                v * Dual::constant(self)
            }
        }
        impl<'t, D: Tangent<$t>> Div<Var<'t, Dual<$t, D>>> for $t {
            type Output = Var<'t, Dual<$t, D>>;
            #[track_caller]
            fn div(self, v: Var<'t, Dual<$t, D>>) -> Self::Output {
                v.scalar_rdiv(Dual::constant(self))
            }
        }
        impl<'t, D: Tangent<$t>> Add<$t> for Var<'t, Dual<$t, D>> {
            type Output = Self;
            #[track_caller]
            fn add(self, c: $t) -> Self {
                self + Dual::constant(c)
            }
        }
        impl<'t, D: Tangent<$t>> Sub<$t> for Var<'t, Dual<$t, D>> {
            type Output = Self;
            #[track_caller]
            fn sub(self, c: $t) -> Self {
                self - Dual::constant(c)
            }
        }
        impl<'t, D: Tangent<$t>> Mul<$t> for Var<'t, Dual<$t, D>> {
            type Output = Self;
            #[track_caller]
            fn mul(self, c: $t) -> Self {
                self * Dual::constant(c)
            }
        }
        impl<'t, D: Tangent<$t>> Div<$t> for Var<'t, Dual<$t, D>> {
            type Output = Self;
            #[track_caller]
            fn div(self, c: $t) -> Self {
                self / Dual::constant(c)
            }
        }
    )*};
}

float_dual_var_ops!(f32, f64);
