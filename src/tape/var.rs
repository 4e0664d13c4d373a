//! `Var<'t, T>`: the `Copy` handle user code computes with, and its operators.

use core::ops::{Add, Div, Mul, Neg, Sub};

use super::node::{BinaryOp, NodeId, ReduceOp, UnaryOp};
use super::{Grads, Tape, ValueRef};
use crate::real::Real;

/// A vector recorded on a [`Tape`]: a tape reference and a node id, `Copy`.
///
/// Arithmetic records new nodes: `+ − × ÷` and unary `−` between two `Var`s or
/// a `Var` and a plain scalar on either side (`3.0 * a`, `a / 2.0`, `1.0 - x`),
/// and the methods below. A length-1 `Var` broadcasts against any length.
///
/// A `Var` borrows its tape, so it cannot outlive it or survive
/// [`Tape::clear`], and (the tape being `!Sync`) it cannot cross threads:
///
/// ```compile_fail,E0277
/// let tape = dualtape::Tape::<f64>::new();
/// let x = tape.var(&[1.0]);
/// // (scoped, so that `Send` is the only bound that fails, not `'static`)
/// std::thread::scope(|s| { s.spawn(move || x * 2.0); }); // error: `Var` is not `Send`
/// ```
///
/// ```compile_fail,E0597
/// let x = {
///     let tape = dualtape::Tape::<f64>::new();
///     tape.var(&[1.0])
/// }; // error: `tape` does not live long enough
/// ```
pub struct Var<'t, T: Real> {
    tape: &'t Tape<T>,
    id: NodeId,
}

impl<T: Real> Clone for Var<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Real> Copy for Var<'_, T> {}

impl<T: Real> core::fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Var")
            .field("id", &self.id.0)
            .field("value", &&*self.value())
            .finish()
    }
}

impl<'t, T: Real> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, id: NodeId) -> Self {
        Var { tape, id }
    }

    /// The tape this variable is recorded on.
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// The node's id on its tape.
    pub fn id(self) -> NodeId {
        self.id
    }

    /// The values, borrowed from the tape ([`ValueRef`] derefs to `&[T]`).
    ///
    /// Recording on the tape while the borrow is alive panics (saying so): copy
    /// the values out (`x.value().to_vec()`) to keep them.
    #[track_caller]
    pub fn value(self) -> ValueRef<'t, T> {
        self.tape.values_of(self.id)
    }

    /// The single value of a length-1 variable (PyTorch's `item()`).
    ///
    /// # Panics
    /// If the variable does not have exactly one element.
    #[track_caller]
    pub fn item(self) -> T {
        let v = self.value();
        assert!(
            v.len() == 1,
            "dualtape: item: the variable has {} elements, not 1",
            v.len()
        );
        v[0]
    }

    /// Number of elements.
    pub fn len(self) -> usize {
        self.tape.node_info(self.id).0.len
    }

    /// Whether the variable has no elements.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Whether the variable depends on a [`Tape::var`] (and so gets a gradient).
    pub fn needs_grad(self) -> bool {
        self.tape.node_info(self.id).1
    }

    /// Keeps this intermediate's gradient for [`Grads::wrt`] after the sweep
    /// (PyTorch's `retain_grad`); returns `self`, to chain. Leaves keep theirs
    /// always. Without it a sweep may hold an intermediate's adjoint only in
    /// block-local scratch, which lets the backward pass of a long elementwise
    /// chain keep those adjoints in cache instead of writing them to memory.
    ///
    /// # Panics
    /// If the variable needs no gradient (a constant, or computed from
    /// constants only), or a [`Var::value`] or [`Grads`] borrow of the tape is
    /// alive.
    #[track_caller]
    pub fn retain_grad(self) -> Self {
        let mut arena = self.tape.arena_mut();
        let node = &mut arena.nodes[self.id.index()];
        assert!(
            node.needs_grad,
            "dualtape: Var::retain_grad: node {} is a constant (it depends on no `var`) and has \
             no gradient to keep",
            self.id.0
        );
        if !core::mem::replace(&mut node.retain, true) {
            arena.retained.push(self.id);
        }
        self
    }

    #[track_caller]
    pub(super) fn same_tape(self, other: Self, op: &str) {
        assert!(
            core::ptr::eq(self.tape, other.tape),
            "dualtape: {op}: the operands belong to different tapes"
        );
    }

    /// Inlined into every op method, so the op is a constant there and its
    /// rule is picked at compile time. Called instead, the op went through
    /// memory and was read back wider than it was written: a store-forwarding
    /// stall on every recorded unary op (a third of `unary`'s time, by `perf`).
    #[track_caller]
    #[inline(always)]
    fn unary(self, op: UnaryOp<T>) -> Self {
        Var::new(self.tape, self.tape.record_unary(op, self.id))
    }

    #[track_caller]
    #[inline(always)]
    fn binary(self, op: BinaryOp, other: Self) -> Self {
        self.same_tape(other, op.name());
        Var::new(self.tape, self.tape.record_binary(op, self.id, other.id))
    }

    #[track_caller]
    fn reduce(self, op: ReduceOp) -> Self {
        Var::new(self.tape, self.tape.record_reduce(op, self.id))
    }

    /// `xⁿ` elementwise; `d = n·xⁿ⁻¹` (0 everywhere for `n = 0`).
    #[track_caller]
    pub fn powi(self, n: i32) -> Self {
        self.unary(UnaryOp::Powi(n))
    }

    /// `xᵖ` elementwise; `d = p·xᵖ⁻¹`. At `x = 0`: 0 for `p = 0`, +inf for
    /// `0 < p < 1`. Negative `x` with non-integer `p` gives NaN.
    #[track_caller]
    pub fn powf(self, p: T) -> Self {
        self.unary(UnaryOp::Powf(p))
    }

    /// `xᵉ` elementwise with a variable exponent; `∂/∂x = e·xᵉ⁻¹`,
    /// `∂/∂e = xᵉ·ln x` (0 where `x = 0`).
    ///
    /// # Panics
    /// If the lengths differ and neither is 1, or `e` is from another tape.
    #[track_caller]
    pub fn pow(self, e: Self) -> Self {
        self.binary(BinaryOp::Pow, e)
    }

    /// `√x`; `d = 1/(2√x)`, +inf at 0.
    #[track_caller]
    pub fn sqrt(self) -> Self {
        self.unary(UnaryOp::Sqrt)
    }

    /// `eˣ`; `d = eˣ`.
    #[track_caller]
    pub fn exp(self) -> Self {
        self.unary(UnaryOp::Exp)
    }

    /// `ln x`; `d = 1/x`. At 0: value −inf, derivative +inf.
    #[track_caller]
    pub fn ln(self) -> Self {
        self.unary(UnaryOp::Ln)
    }

    /// `sin x`; `d = cos x`.
    #[track_caller]
    pub fn sin(self) -> Self {
        self.unary(UnaryOp::Sin)
    }

    /// `cos x`; `d = −sin x`.
    #[track_caller]
    pub fn cos(self) -> Self {
        self.unary(UnaryOp::Cos)
    }

    /// `tanh x`; `d = 1 − tanh² x`.
    #[track_caller]
    pub fn tanh(self) -> Self {
        self.unary(UnaryOp::Tanh)
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`; `d = σ(1 − σ)`.
    #[track_caller]
    pub fn sigmoid(self) -> Self {
        self.unary(UnaryOp::Sigmoid)
    }

    /// `max(x, 0)`; `d = 1` for `x > 0`, `0` for `x ≤ 0`.
    #[track_caller]
    pub fn relu(self) -> Self {
        self.unary(UnaryOp::Relu)
    }

    /// `|x|`; `d = sign x`, 0 at 0.
    #[track_caller]
    pub fn abs(self) -> Self {
        self.unary(UnaryOp::Abs)
    }

    /// `1/x`; `d = −1/x²`.
    #[track_caller]
    pub fn recip(self) -> Self {
        self.unary(UnaryOp::Recip)
    }

    /// `Σ x` (length 1); `∂/∂xᵢ = 1`.
    #[track_caller]
    pub fn sum(self) -> Self {
        self.reduce(ReduceOp::Sum)
    }

    /// `Σ x / n` (length 1; NaN for an empty vector); `∂/∂xᵢ = 1/n`.
    #[track_caller]
    pub fn mean(self) -> Self {
        self.reduce(ReduceOp::Mean)
    }

    /// `‖x‖₂` (length 1), without overflow or underflow for extreme elements;
    /// `∂/∂x = x/‖x‖`, 0 at the zero vector.
    #[track_caller]
    pub fn norm(self) -> Self {
        self.reduce(ReduceOp::Norm)
    }

    /// The largest element (length 1); NaN if any is NaN. Elements tied at the
    /// maximum share the gradient equally.
    ///
    /// # Panics
    /// If the variable is empty.
    #[track_caller]
    pub fn max(self) -> Self {
        self.reduce(ReduceOp::Max)
    }

    /// The smallest element (length 1); as [`Var::max`].
    ///
    /// # Panics
    /// If the variable is empty.
    #[track_caller]
    pub fn min(self) -> Self {
        self.reduce(ReduceOp::Min)
    }

    /// `Σ aᵢ·bᵢ` (length 1); `∂/∂a = b`, `∂/∂b = a`.
    ///
    /// # Panics
    /// If the lengths differ, or `other` is from another tape.
    #[track_caller]
    pub fn dot(self, other: Self) -> Self {
        self.same_tape(other, "dot");
        Var::new(self.tape, self.tape.record_dot(self.id, other.id))
    }

    /// Reverse mode from a length-1 output: the gradient of `self` with respect
    /// to every node it depends on (PyTorch's `y.backward()`).
    ///
    /// # Panics
    /// If `self` has more than one element (use [`Var::backward_with`]), or a
    /// [`Var::value`] or other [`Grads`] borrow of the tape is alive.
    #[track_caller]
    pub fn backward(self) -> Grads<'t, T> {
        let n = self.len();
        assert!(
            n == 1,
            "dualtape: backward: the output has {n} elements; backward() needs exactly 1 \
             (a scalar). For a vector output use backward_with(&seed) with a seed of {n} elements"
        );
        self.tape.sweep(self.id, &[T::one()])
    }

    /// Reverse mode seeded with `seed = ∂L/∂self`: the vector-Jacobian product
    /// `seedᵀ·J` for every node `self` depends on (PyTorch's
    /// `y.backward(gradient=seed)`).
    ///
    /// ```
    /// let tape = dualtape::Tape::<f64>::new();
    /// let x = tape.var(&[0.0, 1.0, 2.0]);
    /// let g = (x * x).backward_with(&[1.0, 1.0, 1.0]);
    /// assert_eq!(g.wrt(x), &[0.0, 2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `seed.len()` differs from `self.len()`.
    #[track_caller]
    pub fn backward_with(self, seed: &[T]) -> Grads<'t, T> {
        let n = self.len();
        assert!(
            seed.len() == n,
            "dualtape: backward_with: the seed has {} elements, the output has {n}; they must match",
            seed.len()
        );
        self.tape.sweep(self.id, seed)
    }
}

macro_rules! var_var_op {
    ($trait:ident, $method:ident, $op:ident) => {
        impl<'t, T: Real> $trait for Var<'t, T> {
            type Output = Var<'t, T>;
            #[track_caller]
            fn $method(self, rhs: Self) -> Self {
                self.binary(BinaryOp::$op, rhs)
            }
        }
    };
}

var_var_op!(Add, add, Add);
var_var_op!(Sub, sub, Sub);
var_var_op!(Mul, mul, Mul);
var_var_op!(Div, div, Div);

impl<'t, T: Real> Neg for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn neg(self) -> Self {
        self.unary(UnaryOp::Scale(-T::one()))
    }
}

macro_rules! var_scalar_op {
    ($trait:ident, $method:ident, |$c:ident| $rhs_op:expr) => {
        impl<'t, T: Real> $trait<T> for Var<'t, T> {
            type Output = Var<'t, T>;
            #[track_caller]
            fn $method(self, $c: T) -> Self {
                self.unary($rhs_op)
            }
        }
    };
}

var_scalar_op!(Add, add, |c| UnaryOp::Offset(c));
var_scalar_op!(Sub, sub, |c| UnaryOp::Offset(-c));
var_scalar_op!(Mul, mul, |c| UnaryOp::Scale(c));
var_scalar_op!(Div, div, |c| UnaryOp::DivBy(c));

/// `scalar ∘ Var` for the concrete scalar types (the orphan rule forbids a
/// blanket `impl<T> Mul<Var<T>> for T`).
#[macro_export]
#[doc(hidden)]
macro_rules! scalar_var_ops {
    ($($t:ty),*) => {$(
        impl<'t> core::ops::Add<$crate::Var<'t, $t>> for $t {
            type Output = $crate::Var<'t, $t>;
            #[track_caller]
            fn add(self, v: $crate::Var<'t, $t>) -> Self::Output { v + self }
        }
        impl<'t> core::ops::Mul<$crate::Var<'t, $t>> for $t {
            type Output = $crate::Var<'t, $t>;
            #[track_caller]
            fn mul(self, v: $crate::Var<'t, $t>) -> Self::Output { v * self }
        }
        impl<'t> core::ops::Sub<$crate::Var<'t, $t>> for $t {
            type Output = $crate::Var<'t, $t>;
            #[track_caller]
            fn sub(self, v: $crate::Var<'t, $t>) -> Self::Output { v.scalar_rsub(self) }
        }
        impl<'t> core::ops::Div<$crate::Var<'t, $t>> for $t {
            type Output = $crate::Var<'t, $t>;
            #[track_caller]
            fn div(self, v: $crate::Var<'t, $t>) -> Self::Output { v.scalar_rdiv(self) }
        }
    )*};
}

scalar_var_ops!(f32, f64);

impl<T: Real> Var<'_, T> {
    /// `c − self`, recorded as one node (what `c - x` calls).
    #[doc(hidden)]
    #[track_caller]
    pub fn scalar_rsub(self, c: T) -> Self {
        self.unary(UnaryOp::SubFrom(c))
    }

    /// `c / self`, recorded as one node (what `c / x` calls).
    #[doc(hidden)]
    #[track_caller]
    pub fn scalar_rdiv(self, c: T) -> Self {
        self.unary(UnaryOp::DivInto(c))
    }
}
