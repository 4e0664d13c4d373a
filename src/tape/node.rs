//! What a node is: an op tag, its inputs and where its output lives.
//!
//! A node is a small plain struct in the tape's arena. It owns no memory: its
//! output is a span of the tape's value arena, and its inputs are earlier ids, so
//! creation order is a topological order and the backward sweep is one loop.

use crate::rules;

/// A node's index in its tape's arena. Ids grow in recording order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The id as an index into the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a node's elements live in the value arena (and, at the same offsets,
/// in the adjoint arena).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first element.
    pub start: usize,
    /// Number of elements.
    pub len: usize,
}

impl Span {
    /// The range of arena indices the span covers.
    pub fn range(self) -> core::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// Elementwise functions of one input (constants of `Var ∘ T` ops folded in).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp<T> {
    /// `eˣ`
    Exp,
    /// `ln x`
    Ln,
    /// `√x`
    Sqrt,
    /// `sin x`
    Sin,
    /// `cos x`
    Cos,
    /// `tanh x`
    Tanh,
    /// `1/(1 + e⁻ˣ)`
    Sigmoid,
    /// `max(x, 0)`
    Relu,
    /// `|x|`
    Abs,
    /// `1/x`
    Recip,
    /// `xⁿ`
    Powi(i32),
    /// `xᵖ`
    Powf(T),
    /// `c·x` (and `−x`)
    Scale(T),
    /// `x + c`
    Offset(T),
    /// `c − x`
    SubFrom(T),
    /// `x / c`
    DivBy(T),
    /// `c / x`
    DivInto(T),
}

/// Elementwise functions of two inputs (a length-1 input broadcasts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a − b`
    Sub,
    /// `a·b`
    Mul,
    /// `a / b`
    Div,
    /// `aᵇ`
    Pow,
}

/// Reductions of one input to a length-1 output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// `Σ x`
    Sum,
    /// `Σ x / n`
    Mean,
    /// `‖x‖₂`
    Norm,
    /// `max x` (ties share the gradient)
    Max,
    /// `min x` (ties share the gradient)
    Min,
}

/// What a node computes from its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op<T> {
    /// An input that needs a gradient (`Tape::var`).
    Leaf,
    /// An input that needs none (`Tape::constant`).
    Constant,
    /// `f(x)` elementwise.
    Unary(UnaryOp<T>, NodeId),
    /// `f(a, b)` elementwise.
    Binary(BinaryOp, NodeId, NodeId),
    /// A reduction to one element.
    Reduce(ReduceOp, NodeId),
    /// `Σ a·b`.
    Dot(NodeId, NodeId),
    /// A user-defined op: its index among the tape's custom ops.
    Custom(u32),
    /// `f(x)` elementwise by a closure ([`Var::map`](super::Var::map)); its
    /// derivative kept in the partials arena.
    Map(NodeId),
    /// `f(a, b)` elementwise by a closure ([`Var::map2`](super::Var::map2));
    /// `∂f/∂a` then `∂f/∂b` kept in the partials arena.
    Map2(NodeId, NodeId),
}

impl<T> Op<T> {
    /// Whether the node is an input (`Tape::var` or `Tape::constant`): its
    /// values are given, not computed from other nodes.
    #[inline]
    pub(crate) fn is_input(&self) -> bool {
        matches!(self, Op::Leaf | Op::Constant)
    }

    /// The nodes the op reads (a custom op's inputs are kept beside it, not here).
    pub(crate) fn inputs(&self) -> impl Iterator<Item = NodeId> + use<T> {
        let (first, second) = match *self {
            Op::Unary(_, x) | Op::Reduce(_, x) | Op::Map(x) => (Some(x), None),
            Op::Binary(_, l, r) | Op::Dot(l, r) | Op::Map2(l, r) => (Some(l), Some(r)),
            Op::Leaf | Op::Constant | Op::Custom(_) => (None, None),
        };
        first.into_iter().chain(second)
    }
}

/// Where a node's values stand. Only elementwise nodes of a fused run are
/// ever anything but [`ValueState::Computed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueState {
    /// In the value arena.
    Computed,
    /// Recorded, to be computed with the pending run (`tape::fuse::flush`).
    Deferred,
    /// Computed by a fused run but kept in block scratch only: nothing the
    /// run or its backward sweep reads. Recomputed from the inputs, with the
    /// same kernel and so the same bits, if anything asks for them later.
    Dropped,
}

/// One recorded operation.
#[derive(Clone, Copy, Debug)]
pub struct Node<T> {
    /// What it computes.
    pub op: Op<T>,
    /// Its output in the value arena.
    pub span: Span,
    /// Its kept local derivatives in the partials arena: the length of `span`
    /// for ops whose rule keeps one, once per input for a map, empty otherwise.
    pub partial: Span,
    /// Whether it depends on a `var`: only such nodes get an adjoint.
    pub needs_grad: bool,
    /// Where its values stand: computed, deferred or dropped (see `tape::fuse`).
    pub values: ValueState,
    /// Whether [`Grads::wrt`](super::Grads::wrt) may read its adjoint: a
    /// leaf's always, an intermediate's after [`Var::retain_grad`](super::Var::retain_grad).
    /// The sweep may keep the others in block-local scratch (see `tape::fuse`).
    pub retain: bool,
}

/// Calls `$body` with `$rule` bound to the rule struct of a [`UnaryOp`].
macro_rules! with_unary_rule {
    ($op:expr, $rule:ident => $body:expr) => {{
        use $crate::rules as r;
        use $crate::tape::node::UnaryOp as U;
        match $op {
            U::Exp => {
                let $rule = r::Exp;
                $body
            }
            U::Ln => {
                let $rule = r::Ln;
                $body
            }
            U::Sqrt => {
                let $rule = r::Sqrt;
                $body
            }
            U::Sin => {
                let $rule = r::Sin;
                $body
            }
            U::Cos => {
                let $rule = r::Cos;
                $body
            }
            U::Tanh => {
                let $rule = r::Tanh;
                $body
            }
            U::Sigmoid => {
                let $rule = r::Sigmoid;
                $body
            }
            U::Relu => {
                let $rule = r::Relu;
                $body
            }
            U::Abs => {
                let $rule = r::Abs;
                $body
            }
            U::Recip => {
                let $rule = r::Recip;
                $body
            }
            // The common exponents with the exponent in the type (same bits).
            U::Powi(2) => {
                let $rule = r::PowiConst::<2>;
                $body
            }
            U::Powi(3) => {
                let $rule = r::PowiConst::<3>;
                $body
            }
            U::Powi(n) => {
                let $rule = r::Powi { n };
                $body
            }
            U::Powf(p) => {
                let $rule = r::Powf { p };
                $body
            }
            U::Scale(c) => {
                let $rule = r::Scale { c };
                $body
            }
            U::Offset(c) => {
                let $rule = r::Offset { c };
                $body
            }
            U::SubFrom(c) => {
                let $rule = r::SubFrom { c };
                $body
            }
            U::DivBy(c) => {
                let $rule = r::DivBy { c };
                $body
            }
            U::DivInto(c) => {
                let $rule = r::DivInto { c };
                $body
            }
        }
    }};
}

/// Calls `$body` with `$rule` bound to the rule struct of a [`BinaryOp`].
macro_rules! with_binary_rule {
    ($op:expr, $rule:ident => $body:expr) => {{
        use $crate::rules as r;
        use $crate::tape::node::BinaryOp as B;
        match $op {
            B::Add => {
                let $rule = r::Add;
                $body
            }
            B::Sub => {
                let $rule = r::Sub;
                $body
            }
            B::Mul => {
                let $rule = r::Mul;
                $body
            }
            B::Div => {
                let $rule = r::Div;
                $body
            }
            B::Pow => {
                let $rule = r::Pow;
                $body
            }
        }
    }};
}

pub(crate) use {with_binary_rule, with_unary_rule};

impl BinaryOp {
    /// The op's name, as error messages show it.
    pub fn name(self) -> &'static str {
        fn name_of<R: rules::BinaryRule<f64>>(_: R) -> &'static str {
            R::NAME
        }
        with_binary_rule!(self, rule => name_of(rule))
    }
}
