//! Recording: allocate a node's output span, run its forward kernel, push it.

use core::cell::RefMut;

use arrayvec::ArrayVec;

use super::fuse::{self, MAX_PENDING, Pending};
use super::node::{
    BinaryOp, Node, NodeId, Op, ReduceOp, Span, UnaryOp, ValueState, with_binary_rule,
    with_unary_rule,
};
use super::{Arena, Tape};
use crate::kernels::{self, Operand, Par};
use crate::real::Real;
use crate::rules::{BinaryRule, UnaryRule};

/// What a forward kernel gets while its node is recorded.
pub(crate) struct RecordCx<'a, T> {
    /// The value arena before the new node: every input's values.
    pub earlier: &'a [T],
    /// The new node's output.
    pub out: &'a mut [T],
    /// The new node's kept derivative (empty unless the op keeps one).
    pub partial: &'a mut [T],
    /// Scratch for reductions.
    pub scratch: &'a mut Vec<T>,
    /// Where kernels run.
    pub par: Par,
}

fn keeps_partial<T: Real, R: UnaryRule<T>>(_: &R) -> bool {
    R::KEEPS_PARTIAL
}

/// A node about to be recorded: what [`Tape::record`] appends.
pub(crate) struct NewNode<T> {
    /// What it computes.
    pub op: Op<T>,
    /// Its number of elements.
    pub len: usize,
    /// Whether it depends on a `var`.
    pub needs_grad: bool,
    /// How many elements of derivatives it keeps in the partials arena: 0,
    /// `len` for a rule that keeps one, `K·len` for a map of `K` inputs.
    pub kept: usize,
    /// Whether its forward kernel runs now or with the next flush.
    pub when: When,
}

impl<T> NewNode<T> {
    /// A node computed as it is recorded, keeping no derivative.
    pub fn now(op: Op<T>, len: usize, needs_grad: bool) -> Self {
        NewNode {
            op,
            len,
            needs_grad,
            kept: 0,
            when: When::Now,
        }
    }
}

/// Whether a record call runs its forward kernel now or defers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// Now: the op is not elementwise, or too short to fuse, or fusion is off.
    Now,
    /// At the next [`fuse::flush`], fused with the other deferred nodes.
    Deferred,
}

impl<T: Real> Tape<T> {
    /// When an elementwise op with `len` output elements runs.
    fn when(&self, len: usize) -> When {
        if self.fusion() && len >= fuse::fuse_min_len::<T>() {
            When::Deferred
        } else {
            When::Now
        }
    }

    /// Appends `node` to `a` (the tape's arena, borrowed once by the caller,
    /// who read the inputs from it), filling its output with `forward` now,
    /// or leaving that to [`fuse::flush`] (which runs the op's kernel itself:
    /// `forward` is then dropped).
    ///
    /// Inlined: on a length-1 vector (an input, a reduction; elementwise ops
    /// on one element take [`Tape::record_scalar`]) the op is a handful of
    /// instructions, and the call, its closure and the arguments spilled for
    /// it cost more (one quarter of a length-1 chain's recording, counted
    /// with callgrind).
    ///
    /// # Panics
    /// If the tape holds its node limit already.
    #[track_caller]
    #[inline(always)]
    pub(crate) fn record(
        &self,
        a: &mut Arena<T>,
        node: NewNode<T>,
        forward: impl FnOnce(RecordCx<'_, T>),
    ) -> NodeId {
        let NewNode {
            op,
            len,
            needs_grad,
            kept,
            when,
        } = node;
        let par = self.par();
        self.make_room(a, &op, len, when);
        let start = a.used;
        let end = start + len;
        if a.values.len() < end {
            a.values.resize(end, T::zero());
        }
        let pstart = a.partials_used;
        let pend = pstart + kept;
        if a.partials.len() < pend {
            a.partials.resize(pend, T::zero());
        }
        let values = match when {
            When::Now => {
                let (earlier, rest) = a.values.split_at_mut(start);
                forward(RecordCx {
                    earlier,
                    out: &mut rest[..len],
                    partial: &mut a.partials[pstart..pend],
                    scratch: &mut a.scratch,
                    par,
                });
                ValueState::Computed
            }
            When::Deferred => {
                let first = a.nodes.len();
                a.pending.get_or_insert(Pending { first, len });
                ValueState::Deferred
            }
        };
        push(
            a,
            op,
            needs_grad,
            values,
            Span { start, len },
            pend - pstart,
        )
    }

    /// Appends a node of one element computed from inputs of one element:
    /// `value` gets the value arena and returns the node's value and the
    /// derivative its rule keeps (ignored unless `node.kept` is 1).
    ///
    /// [`Tape::record`] without its slices: on scalars the op is one or two
    /// instructions, and slicing the arenas for the kernel, which then
    /// dispatches on its operands' lengths, cost more than the rest of the
    /// recording: a binary op on a length-1 chain took 173 instructions
    /// through `record`, 106 here (callgrind).
    ///
    /// The inputs' values are in the arena: a node of one element is never
    /// deferred (see [`fuse::fuse_min_len`]), so never dropped either.
    ///
    /// # Panics
    /// If the tape holds its node limit already.
    #[track_caller]
    #[inline(always)]
    fn record_scalar(
        &self,
        a: &mut Arena<T>,
        node: NewNode<T>,
        value: impl FnOnce(&[T]) -> (T, T),
    ) -> NodeId {
        debug_assert!(node.len == 1 && node.when == When::Now);
        self.make_room(a, &node.op, 1, When::Now);
        let (v, d) = value(&a.values[..a.used]);
        let at = a.used;
        if a.values.len() <= at {
            a.values.resize(at + 1, T::zero());
        }
        a.values[at] = v;
        let kept = node.kept;
        debug_assert!(kept <= 1);
        if kept == 1 {
            let p = a.partials_used;
            if a.partials.len() <= p {
                a.partials.resize(p + 1, T::zero());
            }
            a.partials[p] = d;
        }
        let span = Span { start: at, len: 1 };
        push(
            a,
            node.op,
            node.needs_grad,
            ValueState::Computed,
            span,
            kept,
        )
    }

    /// What every recording does before it appends node `a.nodes.len()`, an
    /// `op` of `len` elements run `when`: checks the node limit, flushes the
    /// pending run if it is full, or has another length than a deferred
    /// node, or holds values a node run now reads, and materialises dropped
    /// inputs.
    ///
    /// # Panics
    /// If the tape holds its node limit already.
    #[track_caller]
    #[inline(always)]
    fn make_room(&self, a: &mut Arena<T>, op: &Op<T>, len: usize, when: When) {
        let par = self.par();
        let id = a.nodes.len();
        if id >= self.node_limit {
            panic!(
                "dualtape: the tape is full: it holds {id} nodes, its limit (node ids are u32; \
                 see Tape::with_node_limit); clear it or record less"
            );
        }
        if let Some(p) = a.pending {
            let full = id - p.first >= MAX_PENDING;
            let flush = match when {
                When::Deferred => full || p.len != len,
                When::Now => full || fuse::reads_deferred(&a.nodes, op),
            };
            if flush {
                let inputs: ArrayVec<NodeId, 2> = op.inputs().collect();
                fuse::flush(a, par, &inputs);
            }
        }
        if a.dropped {
            for input in op.inputs() {
                fuse::materialize(a, par, input);
            }
        }
    }

    /// The output span of `id` and whether it needs a gradient.
    pub(crate) fn node_info(&self, id: NodeId) -> (Span, bool) {
        self.arena().info(id)
    }

    /// Records `f(x)` elementwise.
    #[track_caller]
    #[inline(always)]
    pub(crate) fn record_unary(&self, op: UnaryOp<T>, x: NodeId) -> NodeId {
        let mut a = self.arena_mut();
        let (xs, needs_grad) = a.info(x);
        let (start, len) = (xs.start, xs.len);
        with_unary_rule!(op, rule => {
            let node = NewNode {
                op: Op::Unary(op, x),
                len,
                needs_grad,
                kept: if keeps_partial::<T, _>(&rule) { len } else { 0 },
                when: self.when(len),
            };
            if len == 1 {
                // The arithmetic of `kernels::unary`'s one-element case.
                return self.record_scalar(&mut a, node, |v| {
                    if keeps_partial::<T, _>(&rule) {
                        rule.value_and_deriv(v[start])
                    } else {
                        (rule.value(v[start]), T::zero())
                    }
                });
            }
            self.record(&mut a, node, |cx| {
                let x = &cx.earlier[start..start + cx.out.len()];
                kernels::unary(cx.par, rule, x, cx.out, cx.partial)
            })
        })
    }

    /// Records `f(a, b)` elementwise, broadcasting a length-1 side.
    ///
    /// Inlined (as [`Var`](super::Var)'s ops are): it only picks the case, which
    /// a call would cost as much as.
    ///
    /// # Panics
    /// If the lengths differ and neither is 1.
    #[track_caller]
    #[inline(always)]
    pub(crate) fn record_binary(&self, op: BinaryOp, a: NodeId, b: NodeId) -> NodeId {
        let arena = self.arena_mut();
        if arena.info(a).0.len == 1 && arena.info(b).0.len == 1 {
            self.record_binary_scalar(arena, op, a, b)
        } else {
            self.record_binary_vector(arena, op, a, b)
        }
    }

    /// [`Tape::record_binary`] on inputs of one element: the arithmetic of
    /// `kernels::binary`'s one-element case, one rule picked by a `match`
    /// around it rather than around the whole recording. Both cases are
    /// out of line and handed the borrow and the ids alone, so that picking
    /// one costs a jump.
    #[track_caller]
    #[inline(never)]
    fn record_binary_scalar(
        &self,
        mut arena: RefMut<'_, Arena<T>>,
        op: BinaryOp,
        a: NodeId,
        b: NodeId,
    ) -> NodeId {
        let ((sa, ga), (sb, gb)) = (arena.info(a), arena.info(b));
        let node = NewNode::now(Op::Binary(op, a, b), 1, ga || gb);
        self.record_scalar(&mut arena, node, |v| {
            let (x, y) = (v[sa.start], v[sb.start]);
            (with_binary_rule!(op, rule => rule.value(x, y)), T::zero())
        })
    }

    /// [`Tape::record_binary`] past one element.
    #[track_caller]
    #[inline(never)]
    fn record_binary_vector(
        &self,
        mut arena: RefMut<'_, Arena<T>>,
        op: BinaryOp,
        a: NodeId,
        b: NodeId,
    ) -> NodeId {
        let ((sa, ga), (sb, gb)) = (arena.info(a), arena.info(b));
        let len = broadcast_len(|| op.name(), sa.len, sb.len);
        with_binary_rule!(op, rule => {
            let node = NewNode {
                when: self.when(len),
                ..NewNode::now(Op::Binary(op, a, b), len, ga || gb)
            };
            self.record(&mut arena, node, |cx| {
                let (oa, ob) = (operand(cx.earlier, sa, len), operand(cx.earlier, sb, len));
                kernels::binary(cx.par, rule, oa, ob, cx.out)
            })
        })
    }

    /// Records a reduction of `x` to one element.
    ///
    /// # Panics
    /// `max` and `min` of an empty vector.
    #[track_caller]
    pub(crate) fn record_reduce(&self, op: ReduceOp, x: NodeId) -> NodeId {
        let mut a = self.arena_mut();
        let (xs, needs_grad) = a.info(x);
        if xs.len == 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) {
            let name = if op == ReduceOp::Max { "max" } else { "min" };
            panic!("dualtape: {name}: the input is empty (0 elements); it has no {name}imum");
        }
        let node = NewNode::now(Op::Reduce(op, x), 1, needs_grad);
        self.record(&mut a, node, |cx| {
            let x = &cx.earlier[xs.range()];
            cx.out[0] = match op {
                ReduceOp::Sum => kernels::sum(cx.par, x, cx.scratch),
                ReduceOp::Mean => kernels::sum(cx.par, x, cx.scratch) / T::from(x.len()).unwrap(),
                ReduceOp::Norm => kernels::norm(cx.par, x, cx.scratch),
                ReduceOp::Max => kernels::max(cx.par, x),
                ReduceOp::Min => kernels::min(cx.par, x),
            };
        })
    }

    /// Records `Σ a·b`.
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub(crate) fn record_dot(&self, a: NodeId, b: NodeId) -> NodeId {
        let mut arena = self.arena_mut();
        let ((sa, ga), (sb, gb)) = (arena.info(a), arena.info(b));
        if sa.len != sb.len {
            panic!(
                "dualtape: dot: length mismatch: left has {} elements, right has {}",
                sa.len, sb.len
            );
        }
        let node = NewNode::now(Op::Dot(a, b), 1, ga || gb);
        self.record(&mut arena, node, |cx| {
            let (a, b) = (&cx.earlier[sa.range()], &cx.earlier[sb.range()]);
            cx.out[0] = kernels::dot(cx.par, a, b, cx.scratch)
        })
    }
}

/// Appends a node to `a` whose values (`span`, in `values` state) and kept
/// derivative (`kept` elements from `a.partials_used`) are in place, moving
/// the arenas' counters past them.
#[inline(always)]
fn push<T: Real>(
    a: &mut Arena<T>,
    op: Op<T>,
    needs_grad: bool,
    values: ValueState,
    span: Span,
    kept: usize,
) -> NodeId {
    let partial = Span {
        start: a.partials_used,
        len: kept,
    };
    a.used = span.start + span.len;
    a.partials_used += kept;
    // A leaf's gradient is always kept (see `Arena::retained`).
    let retain = matches!(op, Op::Leaf);
    let id = NodeId(a.nodes.len() as u32);
    a.nodes.push(Node {
        op,
        span,
        partial,
        needs_grad,
        values,
        retain,
    });
    if retain {
        a.retained.push(id);
    }
    id
}

/// The output length of an op of two inputs of `la` and `lb` elements (a
/// binary op, `map2`). The op's `name` is looked up for the panic message
/// only: on the recording path a binary op's cost a jump through a table per
/// node.
#[track_caller]
#[inline]
pub(crate) fn broadcast_len(name: impl FnOnce() -> &'static str, la: usize, lb: usize) -> usize {
    match (la, lb) {
        _ if la == lb => la,
        (1, _) => lb,
        (_, 1) => la,
        _ => panic!(
            "dualtape: {}: length mismatch: left has {la} elements, right has {lb} \
             (only equal lengths or a length-1 side broadcast)",
            name()
        ),
    }
}

/// An input of `span` as an operand of an op with `len` output elements.
pub(crate) fn operand<T: Copy>(values: &[T], span: Span, len: usize) -> Operand<'_, T> {
    broadcast(&values[span.range()], len)
}

/// An input's values `v` as an operand of an op with `len` output elements:
/// broadcast if `v` has one element and the op more.
pub(crate) fn broadcast<T: Copy>(v: &[T], len: usize) -> Operand<'_, T> {
    if v.len() == 1 && len != 1 {
        Operand::Splat(v[0])
    } else {
        Operand::Slice(v)
    }
}
