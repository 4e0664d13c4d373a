//! Recording: allocate a node's output span, run its forward kernel, push it.

use arrayvec::ArrayVec;

use super::fuse::{self, MAX_PENDING, Pending};
use super::node::{
    BinaryOp, Node, NodeId, Op, ReduceOp, Span, UnaryOp, ValueState, with_binary_rule,
    with_unary_rule,
};
use super::{Arena, Tape};
use crate::kernels::{self, Operand, Par};
use crate::real::Real;
use crate::rules::UnaryRule;

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
    /// Whether its rule keeps a derivative in the partials arena.
    pub keeps_partial: bool,
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
            keeps_partial: false,
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
    /// Inlined: on a length-1 vector the op is a handful of instructions, and
    /// the call, its closure and the arguments spilled for it cost more (one
    /// quarter of a length-1 chain's recording, counted with callgrind).
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
            keeps_partial,
            when,
        } = node;
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
                When::Now => full || fuse::reads_deferred(&a.nodes, &op),
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
        let start = a.used;
        let end = start + len;
        if a.values.len() < end {
            a.values.resize(end, T::zero());
        }
        let pstart = a.partials_used;
        let pend = if keeps_partial { pstart + len } else { pstart };
        if a.partials.len() < pend {
            a.partials.resize(pend, T::zero());
        }
        match when {
            When::Now => {
                let (earlier, rest) = a.values.split_at_mut(start);
                forward(RecordCx {
                    earlier,
                    out: &mut rest[..len],
                    partial: &mut a.partials[pstart..pend],
                    scratch: &mut a.scratch,
                    par,
                });
            }
            When::Deferred => {
                a.pending.get_or_insert(Pending { first: id, len });
            }
        }
        a.used = end;
        a.partials_used = pend;
        let partial = Span {
            start: pstart,
            len: pend - pstart,
        };
        // A leaf's gradient is always kept (see `Arena::retained`).
        let retain = matches!(op, Op::Leaf);
        a.nodes.push(Node {
            op,
            span: Span { start, len },
            partial,
            needs_grad,
            values: match when {
                When::Now => ValueState::Computed,
                When::Deferred => ValueState::Deferred,
            },
            retain,
        });
        let id = NodeId(id as u32);
        if retain {
            a.retained.push(id);
        }
        id
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
                keeps_partial: keeps_partial::<T, _>(&rule),
                when: self.when(len),
            };
            self.record(&mut a, node, |cx| {
                let x = &cx.earlier[start..start + cx.out.len()];
                kernels::unary(cx.par, rule, x, cx.out, cx.partial)
            })
        })
    }

    /// Records `f(a, b)` elementwise, broadcasting a length-1 side.
    ///
    /// # Panics
    /// If the lengths differ and neither is 1.
    #[track_caller]
    pub(crate) fn record_binary(&self, op: BinaryOp, a: NodeId, b: NodeId) -> NodeId {
        let mut arena = self.arena_mut();
        let ((sa, ga), (sb, gb)) = (arena.info(a), arena.info(b));
        let len = broadcast_len(op.name(), sa.len, sb.len);
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

/// The output length of an elementwise op on inputs of `la` and `lb` elements.
#[track_caller]
#[inline]
pub(crate) fn broadcast_len(op: &str, la: usize, lb: usize) -> usize {
    match (la, lb) {
        _ if la == lb => la,
        (1, _) => lb,
        (_, 1) => la,
        _ => panic!(
            "dualtape: {op}: length mismatch: left has {la} elements, right has {lb} \
             (only equal lengths or a length-1 side broadcast)"
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
