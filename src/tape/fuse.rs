//! Fused runs of elementwise nodes: deferred forward, block-by-block backward.
//!
//! An elementwise node of at least [`fuse_min_len`] elements is recorded
//! without running it ("deferred"). Deferred nodes are computed together,
//! block by block ([`kernels::fused`]), when something needs their values
//! ([`flush`]): an op that is not elementwise reads one, [`Var::value`], the
//! backward sweep, a deferred node of another length arrives, or the pending
//! run reaches [`MAX_PENDING`] nodes. The backward sweep likewise runs each
//! maximal run of such nodes block by block ([`backward_run`]).
//!
//! A flush stores only the values something reads next: what the caller
//! asked for (the op being recorded reads, [`Var::value`], the sweep's
//! output) and what the backward sweep's rules read
//! ([`UnaryRule::DERIV_READS_X`] and the like). The others stay in block
//! scratch ([`ValueState::Dropped`]); whatever asks for one later (an op
//! recorded on it, [`Var::value`], a custom op) gets it recomputed, into the
//! arena ([`materialize`]) or, while a borrow of the tape is alive, into a
//! buffer of its own (`tape::value`). In `3a³ − b²` that leaves `a³`, `3a³`
//! and `b²` out of memory: three of the four vectors the forward pass wrote.
//!
//! A backward run keeps in block-local scratch every adjoint that only it
//! writes and reads and nobody asked to keep ([`Node::retain`]): those vectors
//! never reach memory. The run's top adjoint may come from outside the arena
//! too ([`TopAdjoint`]): the sweep's seed read in place, or the one value a
//! sum's rule would have filled it with.
//!
//! Each node's kernel is the eager one, called on one block at a time: every
//! element goes through the same lane body in the same order, so values and
//! gradients are bitwise those of running node by node, which
//! [`Tape::set_fusion`]`(false)` does and the tests compare against.
//!
//! [`Var::value`]: super::Var::value
//! [`Tape::set_fusion`]: super::Tape::set_fusion

use core::ops::Range;

use arrayvec::ArrayVec;

use super::Arena;
use super::node::{
    BinaryOp, Node, NodeId, Op, UnaryOp, ValueState, with_binary_rule, with_unary_rule,
};
use super::record::broadcast;
use crate::kernels::fused::{MAX_SLOTS, block_len, for_blocks};
use crate::kernels::{self, Operand, Par, Sink};
use crate::real::Real;
use crate::rules::{BinaryRule, UnaryRule};

/// The most nodes (deferred or not) a pending forward run spans before it is
/// flushed, and the most nodes one backward run takes.
pub(crate) const MAX_PENDING: usize = 32;

/// The shortest elementwise node that is deferred and fused: one block (2048
/// `f64`, 4096 `f32`). Shorter chains sit in L2 whole and gain nothing from
/// fusing (at 1024 `f64` elements W2 and W3 ran 5–10 % slower fused, from the
/// planning), so they run node by node.
pub(crate) fn fuse_min_len<T: Real>() -> usize {
    block_len::<T>()
}

/// The deferred nodes awaiting [`flush`]: from node `first` on, all of length `len`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending {
    pub first: usize,
    pub len: usize,
}

/// Whether recording `op` (not deferred) must flush first: it reads a node
/// whose values are not computed yet.
pub(crate) fn reads_deferred<T: Real>(nodes: &[Node<T>], op: &Op<T>) -> bool {
    op.inputs()
        .any(|id| nodes[id.index()].values == ValueState::Deferred)
}

/// Whether `op` is compute-bound (see [`crate::rules::UnaryRule::HEAVY`]):
/// a run with one such node splits across threads from `PAR_MIN_LEN` on.
fn heavy<T: Real>(op: &Op<T>) -> bool {
    fn unary<T: Real, R: UnaryRule<T>>(_: R) -> bool {
        R::HEAVY
    }
    fn binary<T: Real, R: BinaryRule<T>>(_: R) -> bool {
        R::HEAVY
    }
    match *op {
        Op::Unary(op, _) => with_unary_rule!(op, rule => unary::<T, _>(rule)),
        Op::Binary(op, ..) => with_binary_rule!(op, rule => binary::<T, _>(rule)),
        _ => false,
    }
}

/// Where a fused step reads an input: a slot of the run (`for_blocks`' mutable
/// vectors, by index), a vector computed before the run (absolute element
/// offset into the value arena), or one broadcast value.
#[derive(Clone, Copy, Debug)]
enum Src<T> {
    Slot(usize),
    Before(usize),
    Splat(T),
}

/// One deferred node's forward kernel. `out` and `partial` are slot indices;
/// partial slots follow every value slot.
#[derive(Clone, Copy, Debug)]
enum Forward<T> {
    Unary {
        op: UnaryOp<T>,
        x: Src<T>,
        out: usize,
        partial: Option<usize>,
    },
    Binary {
        op: BinaryOp,
        a: Src<T>,
        b: Src<T>,
        out: usize,
    },
}

/// Which values `op`'s adjoint rule reads: its first input's, its second
/// input's (for a binary op) and its own output's.
fn backward_reads<T: Real>(op: &Op<T>) -> [bool; 3] {
    fn unary<T: Real, R: UnaryRule<T>>(_: R) -> [bool; 3] {
        [R::DERIV_READS_X, false, R::DERIV_READS_Y]
    }
    fn binary<T: Real, R: BinaryRule<T>>(_: R) -> [bool; 3] {
        [R::PARTIALS_READ_A, R::PARTIALS_READ_B, R::PARTIALS_READ_Y]
    }
    match *op {
        Op::Unary(op, _) => with_unary_rule!(op, rule => unary::<T, _>(rule)),
        Op::Binary(op, ..) => with_binary_rule!(op, rule => binary::<T, _>(rule)),
        // Never deferred; their values are always computed.
        _ => [true; 3],
    }
}

/// Which nodes of the run `run` (node `first` on) keep their values in the
/// arena when it is flushed: those computed already, those in `keep` (what
/// the caller reads next), and those the backward sweep reads (the inputs and
/// outputs whose adjoint rules need them, [`backward_reads`]). The others are
/// dropped: whatever asks for them later recomputes them ([`materialize`],
/// or aside while the tape is borrowed).
fn stored_values<T: Real>(
    run: &[Node<T>],
    first: usize,
    keep: &[NodeId],
) -> ArrayVec<bool, MAX_PENDING> {
    let mut stored: ArrayVec<bool, MAX_PENDING> = run
        .iter()
        .map(|n| n.values != ValueState::Deferred)
        .collect();
    let mut mark = |id: NodeId| {
        if let Some(s) = id
            .index()
            .checked_sub(first)
            .and_then(|k| stored.get_mut(k))
        {
            *s = true;
        }
    };
    keep.iter().copied().for_each(&mut mark);
    for (k, node) in run.iter().enumerate() {
        if !node.needs_grad {
            continue;
        }
        let [first_input, second_input, output] = backward_reads(&node.op);
        let mut inputs = node.op.inputs();
        if let Some(x) = inputs.next().filter(|_| first_input) {
            mark(x);
        }
        if let Some(x) = inputs.next().filter(|_| second_input) {
            mark(x);
        }
        if output {
            mark(NodeId((first + k) as u32));
        }
    }
    stored
}

/// Computes every deferred node's values, block by block, and clears the
/// pending run. Values nothing reads next ([`stored_values`]; `keep` names
/// what the caller reads) stay in block scratch and never reach memory.
///
/// Inlined up to the pending check: the run's planning keeps kilobytes of
/// slices on the stack, which every call would otherwise set up, pending run
/// or not (3 % of a length-16 `x·x` gradient, by `perf`).
#[inline(always)]
pub(crate) fn flush<T: Real>(a: &mut Arena<T>, par: Par, keep: &[NodeId]) {
    if let Some(pending) = a.pending.take() {
        flush_run(a, par, keep, pending);
    }
}

/// [`flush`] of the pending run `Pending { first, len }`.
fn flush_run<T: Real>(a: &mut Arena<T>, par: Par, keep: &[NodeId], pending: Pending) {
    let Pending { first, len } = pending;
    let stored = stored_values(&a.nodes[first..], first, keep);
    let (before_nodes, run_nodes) = a.nodes.split_at_mut(first);
    let (before, mut rest) = a.values[..a.used].split_at_mut(run_nodes[0].span.start);
    let before: &[T] = before;
    let mut partials_rest = &mut a.partials[run_nodes[0].partial.start..a.partials_used];

    // The vectors the run writes to or reads from memory, in slot order.
    let mut slots = ArrayVec::<&mut [T], MAX_SLOTS>::new();
    // Per slot: whether its block lives in scratch (a dropped node's values).
    let mut is_local = ArrayVec::<bool, MAX_SLOTS>::new();
    let mut partial_slots = ArrayVec::<&mut [T], MAX_PENDING>::new();
    let mut steps = ArrayVec::<Forward<T>, MAX_PENDING>::new();
    // How each node of the run is read by later ones.
    let mut srcs = ArrayVec::<Src<T>, MAX_PENDING>::new();
    let mut is_heavy = false;

    for (node, &stored) in run_nodes.iter_mut().zip(&stored) {
        let (values, tail) = core::mem::take(&mut rest).split_at_mut(node.span.len);
        rest = tail;
        let (partial, tail) = core::mem::take(&mut partials_rest).split_at_mut(node.partial.len);
        partials_rest = tail;
        let src_of = |id: NodeId| -> Src<T> {
            match id.index().checked_sub(first) {
                Some(k) => srcs[k],
                None => {
                    let span = before_nodes[id.index()].span;
                    if span.len == len {
                        Src::Before(span.start)
                    } else {
                        Src::Splat(before[span.start])
                    }
                }
            }
        };
        let src = if node.values == ValueState::Deferred {
            node.values = if stored {
                ValueState::Computed
            } else {
                a.dropped = true;
                ValueState::Dropped
            };
            is_heavy |= heavy(&node.op);
            let out = is_local.len();
            steps.push(match node.op {
                Op::Unary(op, x) => Forward::Unary {
                    op,
                    x: src_of(x),
                    out,
                    partial: (!partial.is_empty()).then(|| partial_slots.len()),
                },
                Op::Binary(op, l, r) => Forward::Binary {
                    op,
                    a: src_of(l),
                    b: src_of(r),
                    out,
                },
                _ => unreachable!("dualtape: internal: only elementwise nodes are deferred"),
            });
            if stored {
                slots.push(values);
            }
            is_local.push(!stored);
            if !partial.is_empty() {
                partial_slots.push(partial);
            }
            Src::Slot(out)
        } else if node.span.len == len {
            // Computed already (a `var` recorded mid-run): a slot only read.
            slots.push(values);
            is_local.push(false);
            Src::Slot(is_local.len() - 1)
        } else {
            // Length 1 (the only other length a run's node can read).
            Src::Splat(values.first().copied().unwrap_or_else(T::zero))
        };
        srcs.push(src);
    }
    let first_partial = is_local.len();
    is_local.extend(partial_slots.iter().map(|_| false));
    slots.extend(partial_slots);
    let block = block_len::<T>();
    let n_local = is_local.iter().filter(|&&local| local).count();
    let run = |slots: &mut [&mut [T]], scratch: &mut [T], base: usize, range: Range<usize>| {
        // Every slot's block, in the arena or (dropped values) in scratch.
        let mut views = block_views(slots, &is_local, scratch, &range);
        let at = range.start + base..range.end + base;
        for step in &steps {
            match *step {
                Forward::Unary {
                    op,
                    x,
                    out,
                    partial,
                } => {
                    let (lo, hi) = views.split_at_mut(out);
                    let (y, after) = hi.split_first_mut().expect("out is a slot");
                    let x = slice(lo, before, x, &at);
                    let p: &mut [T] = match partial {
                        Some(k) => &mut *after[first_partial + k - out - 1],
                        None => &mut [],
                    };
                    with_unary_rule!(op, rule => kernels::unary(Par::Sequential, rule, x, y, p));
                }
                Forward::Binary { op, a, b, out } => {
                    let (lo, hi) = views.split_at_mut(out);
                    let (oa, ob) = (operand(lo, before, a, &at), operand(lo, before, b, &at));
                    with_binary_rule!(op, rule => kernels::binary(Par::Sequential, rule, oa, ob, &mut *hi[0]));
                }
            }
        }
    };
    let par = par.for_work(is_heavy, len);
    for_blocks(
        par,
        &mut slots,
        len,
        &mut a.block_scratch,
        n_local * block,
        &run,
    );
}

/// One block of every slot of a fused run, in slot order: where `is_local`,
/// the next [`block_len`] slab of `scratch`; elsewhere the next vector of
/// `stored` (the slots in memory), cut to `range`.
fn block_views<'s, T: Real>(
    stored: &'s mut [&mut [T]],
    is_local: &[bool],
    scratch: &'s mut [T],
    range: &Range<usize>,
) -> ArrayVec<&'s mut [T], MAX_SLOTS> {
    let mut stored = stored.iter_mut();
    let mut local = scratch.chunks_exact_mut(block_len::<T>());
    let mut view = |is_local: bool| -> &'s mut [T] {
        if is_local {
            &mut local.next().expect("a scratch slab per local slot")[..range.len()]
        } else {
            &mut stored.next().expect("a vector per slot in memory")[range.clone()]
        }
    };
    is_local.iter().map(|&l| view(l)).collect()
}

/// Flushes the pending run, if any (keeping `ids`' values), and recomputes
/// any of `ids` a flush dropped: their values are then in the arena.
pub(crate) fn ensure_computed<T: Real>(a: &mut Arena<T>, par: Par, ids: &[NodeId]) {
    flush(a, par, ids);
    if a.dropped {
        for &id in ids {
            materialize(a, par, id);
        }
    }
}

/// Recomputes node `id`'s values into the arena if a flush dropped them, its
/// dropped inputs first.
pub(crate) fn materialize<T: Real>(a: &mut Arena<T>, par: Par, id: NodeId) {
    if a.nodes[id.index()].values != ValueState::Dropped {
        return;
    }
    let node = a.nodes[id.index()];
    for input in node.op.inputs() {
        materialize(a, par, input);
    }
    let (earlier, rest) = a.values.split_at_mut(node.span.start);
    let nodes = &a.nodes;
    let input = |x: NodeId| &earlier[nodes[x.index()].span.range()];
    let (out, partial) = (
        &mut rest[..node.span.len],
        &mut a.partials[node.partial.range()],
    );
    forward_whole(par, node.op, input, out, partial);
    a.nodes[id.index()].values = ValueState::Computed;
}

/// Elementwise op `op`'s forward kernel over whole vectors, reading input `x`'s
/// values from `input(x)`: the kernel a fused run calls block by block, so
/// the same bits.
pub(crate) fn forward_whole<'v, T: Real>(
    par: Par,
    op: Op<T>,
    input: impl Fn(NodeId) -> &'v [T],
    out: &mut [T],
    partial: &mut [T],
) {
    match op {
        Op::Unary(op, x) => {
            with_unary_rule!(op, rule => kernels::unary(par, rule, input(x), out, partial));
        }
        Op::Binary(op, l, r) => {
            let len = out.len();
            let (ol, or) = (broadcast(input(l), len), broadcast(input(r), len));
            with_binary_rule!(op, rule => kernels::binary(par, rule, ol, or, out));
        }
        _ => unreachable!("dualtape: internal: only elementwise nodes are deferred"),
    }
}

/// An input of a fused step for the block at `at` (element offsets in the
/// whole vector): a slot's view of the block, or a slice of a vector computed
/// before the run.
fn operand<'s, T: Real>(
    views: &'s [&mut [T]],
    before: &'s [T],
    src: Src<T>,
    at: &Range<usize>,
) -> Operand<'s, T> {
    match src {
        Src::Slot(k) => Operand::Slice(&*views[k]),
        Src::Before(start) => Operand::Slice(&before[start + at.start..start + at.end]),
        Src::Splat(v) => Operand::Splat(v),
    }
}

/// A unary step's input (never broadcast: a unary node has its input's length).
fn slice<'s, T: Real>(
    views: &'s [&mut [T]],
    before: &'s [T],
    src: Src<T>,
    at: &Range<usize>,
) -> &'s [T] {
    match operand(views, before, src, at) {
        Operand::Slice(s) => s,
        Operand::Splat(_) => unreachable!("dualtape: internal: a unary input is never broadcast"),
    }
}

/// Whether node `i` can join a fused backward run of `len`-element nodes: an
/// elementwise node of that length whose inputs needing a gradient have it too
/// (a broadcast input's adjoint is a sum over the whole vector: not blockwise).
///
/// Inlined: the sweep's loops ask it of every elementwise node, and most
/// are too short to fuse.
#[inline]
pub(crate) fn fusable<T: Real>(nodes: &[Node<T>], i: usize, len: usize) -> bool {
    let node = &nodes[i];
    let full_or_constant = |id: NodeId| {
        let input = &nodes[id.index()];
        input.span.len == len || !input.needs_grad
    };
    node.span.len == len
        && len >= fuse_min_len::<T>()
        && match node.op {
            Op::Unary(..) => true,
            Op::Binary(_, l, r) => full_or_constant(l) && full_or_constant(r),
            _ => false,
        }
}

/// Where a step reads its node's adjoint: a slot, or the run's top adjoint
/// that is not in the arena ([`TopAdjoint`]).
#[derive(Clone, Copy, Debug)]
enum Grad {
    Slot(usize),
    Top,
}

/// The adjoint of a run's top node when the sweep did not store it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TopAdjoint<'s, T> {
    /// The sweep's seed, read in place (the top is the output).
    Seed(&'s [T]),
    /// One value everywhere: the top's only consumer is a sum or mean, whose
    /// rule would fill the adjoint with it.
    Splat(T),
}

/// An adjoint contribution's destination: a slot, and whether to add to it
/// (or overwrite it: the node's first contribution).
type SinkAt = (usize, bool);

/// One node's backward kernel in a fused run. Values and partials are read by
/// absolute offset into their arenas; `g` and the sinks are slots of the
/// run's adjoints, which are ordered by node, so every sink's slot lies below
/// `g`'s (or `g` is the top's adjoint from outside the arena).
#[derive(Clone, Copy, Debug)]
enum Backward<T> {
    Unary {
        op: UnaryOp<T>,
        x: usize,
        y: usize,
        partial: Option<usize>,
        g: Grad,
        dx: SinkAt,
    },
    /// `f(x, x)`: both partials into one sink, in one pass.
    Same {
        op: BinaryOp,
        x: usize,
        y: usize,
        g: Grad,
        dx: SinkAt,
    },
    Binary {
        op: BinaryOp,
        a: Src<T>,
        b: Src<T>,
        y: usize,
        g: Grad,
        da: Option<SinkAt>,
        db: Option<SinkAt>,
    },
}

/// Sweeps the fused run that starts at node `top` (fusable, needing a gradient,
/// its adjoint written) block by block: `top` and the nodes below it down to the
/// first one that is not [`fusable`] or a run's worth of nodes. Returns `i`:
/// every node from `i` to `top` is swept; the sweep goes on at `i − 1`.
///
/// A node of the run whose every adjoint contribution comes from the run, and
/// whose gradient nobody asked to keep ([`Node::retain`]), gets its adjoint in
/// block-local scratch: written, read and dropped while the block is in cache,
/// never stored to the adjoint arena. The arithmetic is the same, so are the bits.
///
/// `given` is `top`'s adjoint when it is not in the arena.
pub(crate) fn backward_run<T: Real>(
    a: &mut Arena<T>,
    par: Par,
    top: usize,
    given: Option<TopAdjoint<'_, T>>,
) -> usize {
    let Arena {
        nodes,
        values,
        partials,
        adjoints,
        written,
        block_scratch,
        ..
    } = a;
    let len = nodes[top].span.len;
    let mut steps = ArrayVec::<Backward<T>, MAX_PENDING>::new();
    // Nodes whose adjoints the run reads or writes; each becomes a slot (the
    // planning stops before they would outnumber `MAX_SLOTS`).
    let mut ids = ArrayVec::<usize, MAX_SLOTS>::new();
    // Of those, the ones the run writes first, and the ones it steps through.
    let mut born = ArrayVec::<usize, MAX_SLOTS>::new();
    let mut stepped = ArrayVec::<usize, MAX_PENDING>::new();
    let mut is_heavy = false;
    let mut i = top + 1;
    while i > 0 {
        let j = i - 1;
        let node = nodes[j];
        let swept = !node.needs_grad || !written[j] || node.op.is_input();
        if !swept {
            if !fusable(nodes, j, len) || steps.is_full() || ids.remaining_capacity() < 3 {
                break;
            }
            // Plans a contribution to `id`'s adjoint, as the eager sweep makes it.
            let mut sink = |id: NodeId| -> Option<SinkAt> {
                let k = id.index();
                nodes[k].needs_grad.then(|| {
                    if !ids.contains(&k) {
                        ids.push(k);
                    }
                    let add = core::mem::replace(&mut written[k], true);
                    if !add {
                        born.push(k);
                    }
                    (k, add)
                })
            };
            let value_src = |id: NodeId| {
                let span = nodes[id.index()].span;
                if span.len == len {
                    Src::Before(span.start)
                } else {
                    Src::Splat(values[span.start])
                }
            };
            let y = node.span.start;
            let g = if given.is_some() && j == top {
                Grad::Top
            } else {
                Grad::Slot(j)
            };
            is_heavy |= heavy(&node.op);
            steps.push(match node.op {
                Op::Unary(op, x) => Backward::Unary {
                    op,
                    x: nodes[x.index()].span.start,
                    y,
                    partial: (node.partial.len > 0).then_some(node.partial.start),
                    g,
                    dx: sink(x).expect("a unary node needs a gradient only through its input"),
                },
                Op::Binary(op, l, r) if l == r => Backward::Same {
                    op,
                    x: nodes[l.index()].span.start,
                    y,
                    g,
                    dx: sink(l).expect("f(x, x) needs a gradient only through x"),
                },
                Op::Binary(op, l, r) => Backward::Binary {
                    op,
                    a: value_src(l),
                    b: value_src(r),
                    y,
                    g,
                    da: sink(l),
                    db: sink(r),
                },
                _ => unreachable!("dualtape: internal: only elementwise nodes are fused"),
            });
            stepped.push(j);
            if matches!(g, Grad::Slot(_)) && !ids.contains(&j) {
                ids.push(j);
            }
        }
        i = j;
    }

    let local = |id: &usize| stepped.contains(id) && born.contains(id) && !nodes[*id].retain;
    let mut steps = pass_through(&steps, &stepped, local);
    // An adjoint passed through is read where it was passed from: no slot.
    ids.retain(|id| steps.iter().any(|step| step.adjoints().any(|a| a == *id)));

    // Node ids to slots: the adjoints in node (= arena) order, each in the
    // arena or, if only this run touches it, in scratch.
    ids.sort_unstable();
    let is_local: ArrayVec<bool, MAX_SLOTS> = ids.iter().map(local).collect();
    let slot = |id: usize| {
        ids.binary_search(&id)
            .expect("every planned node has a slot")
    };
    let slot_sink = |(id, add): SinkAt| (slot(id), add);
    let slot_grad = |g: Grad| match g {
        Grad::Slot(id) => Grad::Slot(slot(id)),
        Grad::Top => Grad::Top,
    };
    for step in &mut steps {
        match step {
            Backward::Unary { g, dx, .. } | Backward::Same { g, dx, .. } => {
                (*g, *dx) = (slot_grad(*g), slot_sink(*dx));
            }
            Backward::Binary { g, da, db, .. } => {
                (*g, *da, *db) = (slot_grad(*g), da.map(slot_sink), db.map(slot_sink));
            }
        }
    }
    let mut slots = ArrayVec::<&mut [T], MAX_SLOTS>::new();
    let (mut rest, mut at) = (&mut adjoints[..], 0);
    for (&id, _) in ids.iter().zip(&is_local).filter(|(_, local)| !**local) {
        let span = nodes[id].span;
        let (_, tail) = core::mem::take(&mut rest).split_at_mut(span.start - at);
        let (adjoint, tail) = tail.split_at_mut(span.len);
        slots.push(adjoint);
        (rest, at) = (tail, span.start + span.len);
    }
    let block = block_len::<T>();
    let n_local = is_local.iter().filter(|&&local| local).count();
    // A splatted top adjoint is filled into one more block of scratch.
    let n_splat = usize::from(matches!(given, Some(TopAdjoint::Splat(_))));

    let (values, partials): (&[T], &[T]) = (values, partials);
    let run = |slots: &mut [&mut [T]], scratch: &mut [T], base: usize, range: Range<usize>| {
        let at = |start: usize| start + base + range.start..start + base + range.end;
        let value = |src: Src<T>| match src {
            Src::Before(start) => Operand::Slice(&values[at(start)]),
            Src::Splat(v) => Operand::Splat(v),
            Src::Slot(_) => unreachable!("dualtape: internal: backward reads values in place"),
        };
        let (scratch, splat) = scratch.split_at_mut(n_local * block);
        let top: &[T] = match given {
            Some(TopAdjoint::Seed(seed)) => &seed[at(0)],
            Some(TopAdjoint::Splat(v)) => {
                let splat = &mut splat[..range.len()];
                splat.fill(v);
                splat
            }
            None => &[],
        };
        // Every slot's adjoint for this block, in slot order.
        let mut views = block_views(slots, &is_local, scratch, &range);
        for step in &steps {
            match *step {
                Backward::Unary {
                    op,
                    x,
                    y,
                    partial,
                    g,
                    dx,
                } => {
                    let (g, dx) = adjoint_and_sink(&mut views, top, g, dx);
                    let p = partial.map_or(&[][..], |p| &partials[at(p)]);
                    let (x, y) = (&values[at(x)], &values[at(y)]);
                    with_unary_rule!(op, rule => kernels::unary_backward(Par::Sequential, rule, x, y, p, g, dx));
                }
                Backward::Same { op, x, y, g, dx } => {
                    let (g, dx) = adjoint_and_sink(&mut views, top, g, dx);
                    let (x, y) = (&values[at(x)], &values[at(y)]);
                    with_binary_rule!(op, rule => kernels::binary_backward_same(Par::Sequential, rule, x, y, g, dx));
                }
                Backward::Binary {
                    op,
                    a,
                    b,
                    y,
                    g,
                    da,
                    db,
                } => {
                    let (sinks, g): (&mut [&mut [T]], &[T]) = match g {
                        Grad::Slot(g) => {
                            let (lo, hi) = views.split_at_mut(g);
                            (lo, &*hi[0])
                        }
                        Grad::Top => (&mut views, top),
                    };
                    let (da, db) = two_sinks(sinks, da, db);
                    let (a, b, y) = (value(a), value(b), &values[at(y)]);
                    // A broadcast input needs no gradient here: no reduction scratch.
                    let mut no_scratch = Vec::new();
                    with_binary_rule!(op, rule => kernels::binary_backward(
                        Par::Sequential, rule, a, b, y, g, da, db, &mut no_scratch
                    ));
                }
            }
        }
    };
    let par = par.for_work(is_heavy, len);
    let scratch_len = (n_local + n_splat) * block;
    for_blocks(par, &mut slots, len, block_scratch, scratch_len, &run);
    i
}

impl<T> Backward<T> {
    /// Where the step reads its node's adjoint.
    fn grad_mut(&mut self) -> &mut Grad {
        match self {
            Backward::Unary { g, .. } | Backward::Same { g, .. } | Backward::Binary { g, .. } => g,
        }
    }

    /// Where the step writes its inputs' adjoint contributions.
    fn sinks(&self) -> [Option<SinkAt>; 2] {
        match *self {
            Backward::Unary { dx, .. } | Backward::Same { dx, .. } => [Some(dx), None],
            Backward::Binary { da, db, .. } => [da, db],
        }
    }

    /// The node ids of the adjoints this step reads or writes (before slots
    /// are assigned).
    fn adjoints(mut self) -> impl Iterator<Item = usize> {
        let g = match *self.grad_mut() {
            Grad::Slot(id) => Some(id),
            Grad::Top => None,
        };
        let sinks = self.sinks().into_iter().flatten();
        g.into_iter().chain(sinks.map(|(id, _)| id))
    }
}

/// Passes adjoints through instead of copying them. A step whose partial
/// with respect to an input is exactly 1 (`x + c`, both sides of `a + b`, `a`
/// in `a − b`) sets that input's adjoint to its own, unchanged (`g·1` is `g`,
/// bit for bit), when it is the input's first contribution. Where the input
/// gets no other contribution and its adjoint lives in block scratch
/// (`local`: only the run touches it), the input's own step reads this
/// step's adjoint in place instead, and the copy is dropped: a whole step
/// for `x + c`, and for `a + b` when both sides pass. `stepped` names each
/// step's node.
///
/// In `3a³ − b²`, `3a³`'s adjoint is then the seed itself; in W4 both terms
/// under the final `+` read the sum's splat.
fn pass_through<T: Real>(
    steps: &[Backward<T>],
    stepped: &[usize],
    local: impl Fn(&usize) -> bool,
) -> ArrayVec<Backward<T>, MAX_PENDING> {
    // An adjoint some step adds to has more than one contribution.
    let added = |k: usize| (steps.iter()).any(|s| s.sinks().contains(&Some((k, true))));
    // Node → where its adjoint is read instead.
    let mut passed = ArrayVec::<(usize, Grad), MAX_PENDING>::new();
    let mut kept = ArrayVec::<Backward<T>, MAX_PENDING>::new();
    for (mut step, &j) in steps.iter().copied().zip(stepped) {
        let g = step.grad_mut();
        if let Grad::Slot(id) = *g
            && let Some(&(_, to)) = passed.iter().find(|(k, _)| *k == id)
        {
            *g = to;
        }
        let g = *g;
        // Passes `k`'s first contribution, `g` itself, if nothing else adds to it.
        let mut pass = |k: usize| {
            debug_assert!(k < j, "an input comes before its consumer");
            let passes = local(&k) && !added(k);
            if passes {
                passed.push((k, g));
            }
            passes
        };
        let has_work = match &mut step {
            Backward::Unary {
                op: UnaryOp::Offset(_),
                dx: (k, false),
                ..
            } => !pass(*k),
            Backward::Binary { op, da, db, .. } => {
                let sides = match op {
                    BinaryOp::Add => [true, true],
                    BinaryOp::Sub => [true, false],
                    _ => [false, false],
                };
                for (sink, one) in [&mut *da, &mut *db].into_iter().zip(sides) {
                    if one
                        && let Some((k, false)) = *sink
                        && pass(k)
                    {
                        *sink = None;
                    }
                }
                da.is_some() || db.is_some()
            }
            _ => true,
        };
        if has_work {
            kept.push(step);
        }
    }
    kept
}

/// A unary step's adjoint `g` (read: a slot or the top's) and its input's
/// sink (below it).
fn adjoint_and_sink<'s, T>(
    views: &'s mut [&mut [T]],
    top: &'s [T],
    g: Grad,
    (d, add): SinkAt,
) -> (&'s [T], Sink<'s, T>) {
    match g {
        Grad::Slot(g) => {
            let (lo, hi) = views.split_at_mut(g);
            let dst = &mut *lo[d];
            (&*hi[0], Sink { dst, add })
        }
        Grad::Top => {
            let dst = &mut *views[d];
            (top, Sink { dst, add })
        }
    }
}

/// The sinks of a binary step's two distinct inputs.
fn two_sinks<'s, T>(
    views: &'s mut [&mut [T]],
    da: Option<SinkAt>,
    db: Option<SinkAt>,
) -> (Option<Sink<'s, T>>, Option<Sink<'s, T>>) {
    let sink = |dst: &'s mut [T], add| Sink { dst, add };
    match (da, db) {
        (Some((ka, adda)), Some((kb, addb))) => {
            let (lo, hi) = views.split_at_mut(ka.max(kb));
            let (high, low) = (&mut *hi[0], &mut *lo[ka.min(kb)]);
            if ka < kb {
                (Some(sink(low, adda)), Some(sink(high, addb)))
            } else {
                (Some(sink(high, adda)), Some(sink(low, addb)))
            }
        }
        (Some((k, add)), None) => (Some(sink(&mut *views[k], add)), None),
        (None, Some((k, add))) => (None, Some(sink(&mut *views[k], add))),
        (None, None) => (None, None),
    }
}
