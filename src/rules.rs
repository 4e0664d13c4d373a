//! Every elementary function once: its value and its derivative.
//!
//! Each rule is generic over [`Math`], so the one statement here runs as a plain
//! scalar (the reference kernels), as SIMD lanes (the fast kernels), and as a
//! dual number (forward mode). The tape's backward sweep multiplies these local
//! derivatives by the output adjoint; forward mode multiplies them by the tangent.
//!
//! Non-differentiable points follow PyTorch 2.x; each rule's doc says what it does.

use crate::real::{Math, Real};

/// A function of one argument: `y = f(x)` and `dy/dx`.
pub trait UnaryRule<T: Real>: Copy + Send + Sync {
    /// The op's name, as error messages show it.
    const NAME: &'static str;
    /// Whether the forward pass keeps `dy/dx` on the tape for the backward sweep
    /// (true where value and derivative come out of one evaluation, e.g. `sin_cos`,
    /// and recomputing the derivative would cost another transcendental).
    const KEEPS_PARTIAL: bool = false;
    /// Whether the rule evaluates a transcendental (compute-bound: worth
    /// threads from [`crate::kernels::PAR_MIN_LEN`] elements on); arithmetic is
    /// memory-bound and waits for [`crate::kernels::PAR_MIN_LEN_LIGHT`].
    const HEAVY: bool = false;
    /// Whether [`UnaryRule::deriv`] reads `x`. With [`UnaryRule::DERIV_READS_Y`]
    /// it says which values the backward sweep needs: a fused run stores no
    /// others (see `tape::fuse`). True unless a rule says otherwise.
    const DERIV_READS_X: bool = true;
    /// Whether [`UnaryRule::deriv`] reads `y`.
    const DERIV_READS_Y: bool = true;
    /// `f(x)`.
    fn value<L: Math<T>>(self, x: L) -> L;
    /// `f'(x)`, given `x` and `y = f(x)`.
    fn deriv<L: Math<T>>(self, x: L, y: L) -> L;
    /// `(f(x), f'(x))` in one evaluation.
    #[inline(always)]
    fn value_and_deriv<L: Math<T>>(self, x: L) -> (L, L) {
        let y = self.value(x);
        (y, self.deriv(x, y))
    }
}

/// A function of two arguments: `y = f(a, b)` and its two partials.
pub trait BinaryRule<T: Real>: Copy + Send + Sync {
    /// The op's name, as error messages show it.
    const NAME: &'static str;
    /// As [`UnaryRule::HEAVY`].
    const HEAVY: bool = false;
    /// Whether [`BinaryRule::partials`] reads `a` (as [`UnaryRule::DERIV_READS_X`]).
    const PARTIALS_READ_A: bool = true;
    /// Whether [`BinaryRule::partials`] reads `b`.
    const PARTIALS_READ_B: bool = true;
    /// Whether [`BinaryRule::partials`] reads `y`.
    const PARTIALS_READ_Y: bool = true;
    /// `f(a, b)`.
    fn value<L: Math<T>>(self, a: L, b: L) -> L;
    /// `(∂f/∂a, ∂f/∂b)`, given `a`, `b` and `y = f(a, b)`.
    fn partials<L: Math<T>>(self, a: L, b: L, y: L) -> (L, L);
}

macro_rules! unary_rule {
    ($(#[$doc:meta])* $name:ident ($field:ident: $fty:ty), $label:literal, heavy = $heavy:literal,
     reads = ($rx:literal, $ry:literal),
     |$s:ident, $x:ident| $value:expr, |$sd:ident, $xd:ident, $y:ident| $deriv:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name<T> { #[doc = "The op's constant."] pub $field: $fty }
        impl<T: Real> UnaryRule<T> for $name<T> {
            const NAME: &'static str = $label;
            const HEAVY: bool = $heavy;
            const DERIV_READS_X: bool = $rx;
            const DERIV_READS_Y: bool = $ry;
            #[inline(always)]
            #[allow(unused_variables)]
            fn value<L: Math<T>>($s, $x: L) -> L {
                $value
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn deriv<L: Math<T>>($sd, $xd: L, $y: L) -> L {
                $deriv
            }
        }
    };
}

fn one<T: Real, L: Math<T>>() -> L {
    L::splat(T::one())
}

pub(crate) fn zero<T: Real, L: Math<T>>() -> L {
    L::splat(T::zero())
}

/// `d eˣ = eˣ`. Keeps nothing: the output is the derivative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exp;
impl<T: Real> UnaryRule<T> for Exp {
    const NAME: &'static str = "exp";
    const DERIV_READS_X: bool = false;
    const HEAVY: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.exp()
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, _x: L, y: L) -> L {
        y
    }
}

/// `d ln x = 1/x`; at 0: value −inf, derivative +inf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ln;
impl<T: Real> UnaryRule<T> for Ln {
    const NAME: &'static str = "ln";
    const DERIV_READS_Y: bool = false;
    const HEAVY: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.ln()
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        one::<T, L>() / x
    }
}

/// `d √x = 1/(2√x)`; at 0: +inf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sqrt;
impl<T: Real> UnaryRule<T> for Sqrt {
    const NAME: &'static str = "sqrt";
    const DERIV_READS_X: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.sqrt()
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, _x: L, y: L) -> L {
        L::splat(T::lit(0.5)) / y
    }
}

/// `d sin x = cos x`. Keeps `cos x` from the forward `sin_cos`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sin;
impl<T: Real> UnaryRule<T> for Sin {
    const NAME: &'static str = "sin";
    const DERIV_READS_Y: bool = false;
    const HEAVY: bool = true;
    const KEEPS_PARTIAL: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.sin_cos().0
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        x.sin_cos().1
    }
    #[inline(always)]
    fn value_and_deriv<L: Math<T>>(self, x: L) -> (L, L) {
        x.sin_cos()
    }
}

/// `d cos x = −sin x`. Keeps `−sin x` from the forward `sin_cos`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cos;
impl<T: Real> UnaryRule<T> for Cos {
    const NAME: &'static str = "cos";
    const DERIV_READS_Y: bool = false;
    const HEAVY: bool = true;
    const KEEPS_PARTIAL: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.sin_cos().1
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        -x.sin_cos().0
    }
    #[inline(always)]
    fn value_and_deriv<L: Math<T>>(self, x: L) -> (L, L) {
        let (s, c) = x.sin_cos();
        (c, -s)
    }
}

/// `d tanh x = 1 − tanh² x`; exact ±1 (derivative 0) for large |x|.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tanh;
impl<T: Real> UnaryRule<T> for Tanh {
    const NAME: &'static str = "tanh";
    const DERIV_READS_X: bool = false;
    const HEAVY: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.tanh()
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, _x: L, y: L) -> L {
        one::<T, L>() - y * y
    }
}

/// `σ(x) = 1/(1 + e⁻ˣ)`, `dσ = σ(1 − σ)`; saturates to 0 and 1 without overflow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigmoid;
impl<T: Real> UnaryRule<T> for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const DERIV_READS_X: bool = false;
    const HEAVY: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        // e⁻ˣ → +inf for x ≪ 0 gives 1/inf = 0: no NaN at either end.
        one::<T, L>() / (one::<T, L>() + (-x).exp())
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, _x: L, y: L) -> L {
        y * (one::<T, L>() - y)
    }
}

/// `relu x = max(x, 0)`, derivative 1 for x > 0 and 0 for x ≤ 0 (0 at 0, as PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Relu;
impl<T: Real> UnaryRule<T> for Relu {
    const NAME: &'static str = "relu";
    const DERIV_READS_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        // NaN is not ≤ 0, so it passes through.
        x.select_le_zero(zero::<T, L>(), x)
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        x.select_le_zero(zero::<T, L>(), one::<T, L>())
    }
}

/// `d |x| = sign x`, 0 at 0 (as PyTorch), NaN at NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Abs;
impl<T: Real> UnaryRule<T> for Abs {
    const NAME: &'static str = "abs";
    const DERIV_READS_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.abs()
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        x.sign()
    }
}

/// `d (1/x) = −1/x²`; at 0: value +inf (with 0's sign), derivative −inf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recip;
impl<T: Real> UnaryRule<T> for Recip {
    const NAME: &'static str = "recip";
    const DERIV_READS_X: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        one::<T, L>() / x
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, _x: L, y: L) -> L {
        -(y * y)
    }
}

/// `d xⁿ = n·xⁿ⁻¹` for an integer `n`; `n = 0` has derivative 0 everywhere.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Powi {
    /// The exponent.
    pub n: i32,
}
impl<T: Real> UnaryRule<T> for Powi {
    const NAME: &'static str = "powi";
    const DERIV_READS_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.powi(self.n)
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        powi_deriv::<T, L>(self.n, x)
    }
}

/// [`Powi`] with the exponent fixed at compile time: the same arithmetic, so
/// the same bits, with the choice of multiplications made once per kernel
/// instead of once per lane bundle. The tape runs `x²` and `x³` through it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowiConst<const N: i32>;
impl<T: Real, const N: i32> UnaryRule<T> for PowiConst<N> {
    const NAME: &'static str = "powi";
    const DERIV_READS_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, x: L) -> L {
        x.powi(N)
    }
    #[inline(always)]
    fn deriv<L: Math<T>>(self, x: L, _y: L) -> L {
        powi_deriv::<T, L>(N, x)
    }
}

/// `n·xⁿ⁻¹`, and 0 for `n = 0`.
#[inline(always)]
fn powi_deriv<T: Real, L: Math<T>>(n: i32, x: L) -> L {
    if n == 0 {
        zero::<T, L>()
    } else {
        // n − 1 does not fit an i32 for n = i32::MIN: there xⁿ⁻¹ = xⁿ/x.
        let p = match n.checked_sub(1) {
            Some(m) => x.powi(m),
            None => x.powi(n) / x,
        };
        L::splat(T::from(n).expect("i32 fits every Real")) * p
    }
}

unary_rule!(
    /// `d xᵖ = p·xᵖ⁻¹` for a real `p`; `p = 0` has derivative 0 everywhere, and at
    /// `x = 0` a `0 < p < 1` gives +inf (as PyTorch).
    Powf(p: T), "powf", heavy = true, reads = (true, false),
    |self, x| x.powf(L::splat(self.p)),
    |self, x, y| if self.p == T::zero() { zero::<T, L>() } else { L::splat(self.p) * x.powf(L::splat(self.p - T::one())) }
);

unary_rule!(
    /// `y = c·x`, `dy/dx = c` (also unary minus, with `c = −1`).
    Scale(c: T), "mul", heavy = false, reads = (false, false),
    |self, x| L::splat(self.c) * x,
    |self, x, y| L::splat(self.c)
);

unary_rule!(
    /// `y = x + c`, `dy/dx = 1`.
    Offset(c: T), "add", heavy = false, reads = (false, false),
    |self, x| x + L::splat(self.c),
    |self, x, y| one::<T, L>()
);

unary_rule!(
    /// `y = c − x`, `dy/dx = −1`.
    SubFrom(c: T), "sub", heavy = false, reads = (false, false),
    |self, x| L::splat(self.c) - x,
    |self, x, y| -one::<T, L>()
);

unary_rule!(
    /// `y = x / c`, `dy/dx = 1/c`.
    DivBy(c: T), "div", heavy = false, reads = (false, false),
    |self, x| x / L::splat(self.c),
    |self, x, y| one::<T, L>() / L::splat(self.c)
);

unary_rule!(
    /// `y = c / x`, `dy/dx = −y/x`.
    DivInto(c: T), "div", heavy = false, reads = (true, true),
    |self, x| L::splat(self.c) / x,
    |self, x, y| -(y / x)
);

/// `d(a + b) = da + db`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Add;
impl<T: Real> BinaryRule<T> for Add {
    const NAME: &'static str = "add";
    const PARTIALS_READ_A: bool = false;
    const PARTIALS_READ_B: bool = false;
    const PARTIALS_READ_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, a: L, b: L) -> L {
        a + b
    }
    #[inline(always)]
    fn partials<L: Math<T>>(self, _a: L, _b: L, _y: L) -> (L, L) {
        (one::<T, L>(), one::<T, L>())
    }
}

/// `d(a − b) = da − db`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sub;
impl<T: Real> BinaryRule<T> for Sub {
    const NAME: &'static str = "sub";
    const PARTIALS_READ_A: bool = false;
    const PARTIALS_READ_B: bool = false;
    const PARTIALS_READ_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, a: L, b: L) -> L {
        a - b
    }
    #[inline(always)]
    fn partials<L: Math<T>>(self, _a: L, _b: L, _y: L) -> (L, L) {
        (one::<T, L>(), -one::<T, L>())
    }
}

/// `d(a·b) = b·da + a·db`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mul;
impl<T: Real> BinaryRule<T> for Mul {
    const NAME: &'static str = "mul";
    const PARTIALS_READ_Y: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, a: L, b: L) -> L {
        a * b
    }
    #[inline(always)]
    fn partials<L: Math<T>>(self, a: L, b: L, _y: L) -> (L, L) {
        (b, a)
    }
}

/// `d(a/b) = da/b − (a/b²)·db = (da − y·db)/b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Div;
impl<T: Real> BinaryRule<T> for Div {
    const NAME: &'static str = "div";
    const PARTIALS_READ_A: bool = false;
    #[inline(always)]
    fn value<L: Math<T>>(self, a: L, b: L) -> L {
        a / b
    }
    #[inline(always)]
    fn partials<L: Math<T>>(self, _a: L, b: L, y: L) -> (L, L) {
        // −y/b, not −y·(1/b): 1/b overflows for a subnormal b where y/b may
        // not (and 0·inf would be NaN where y = 0).
        (one::<T, L>() / b, -(y / b))
    }
}

/// `d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln a·db`; where `b = 0` the first is 0, where `a = 0`
/// the second is 0 (as PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pow;
impl<T: Real> BinaryRule<T> for Pow {
    const NAME: &'static str = "pow";
    const HEAVY: bool = true;
    #[inline(always)]
    fn value<L: Math<T>>(self, a: L, b: L) -> L {
        a.powf(b)
    }
    #[inline(always)]
    fn partials<L: Math<T>>(self, a: L, b: L, y: L) -> (L, L) {
        let da = b.select_zero(zero::<T, L>(), b * a.powf(b - one::<T, L>()));
        let db = a.select_zero(zero::<T, L>(), y * a.ln());
        (da, db)
    }
}
