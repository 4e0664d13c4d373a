//! The reverse sweep and its result, [`Grads`]: the adjoint rule of every op,
//! in four places by the shape of the node. Elementwise nodes run in loops
//! over arenas borrowed once, one on scalars ([`backward_scalars`]) and one
//! calling a kernel per node ([`backward_vectors`]), or block by block in a
//! fused run (`tape::fuse`); maps by their kept partials (`tape::map`);
//! reductions, dot products and custom ops one at a time ([`backward_node`]).

use core::cell::Ref;

use super::fuse::{self, TopAdjoint};
use super::node::{NodeId, Op, ReduceOp, Span, with_binary_rule, with_unary_rule};
use super::record::operand;
use super::{Arena, Tape, Var};
use crate::kernels::{self, Par, Sink};
use crate::real::Real;
use crate::rules::{BinaryRule, UnaryRule};

/// The gradients of one backward sweep: the adjoint of every node that needs
/// one, read by leaf with [`Grads::wrt`].
///
/// `Grads` borrows its tape: drop it before recording more on the tape (doing
/// so panics, saying why) or clearing it (which does not compile).
pub struct Grads<'t, T: Real> {
    tape: &'t Tape<T>,
    arena: Ref<'t, Arena<T>>,
    output: NodeId,
}

impl<'t, T: Real> Grads<'t, T> {
    /// `∂(output·seed)/∂x`: the gradient with respect to `x`, one element per
    /// element of `x`. Zeros where the output does not depend on `x`.
    ///
    /// `x` is a leaf ([`Tape::var`]), or an intermediate marked with
    /// [`Var::retain_grad`] before the sweep: as in PyTorch, the adjoints of
    /// other intermediates are working storage the sweep need not keep (long
    /// elementwise chains hold them in block-local scratch).
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(&[1.0, 2.0]);
    /// let h = (x * x).retain_grad(); // x²: keep its adjoint
    /// let y = (h * 3.0).sum();
    /// let grads = y.backward();
    /// assert_eq!(grads.wrt(h), &[3.0, 3.0]);
    /// assert_eq!(grads.wrt(x), &[6.0, 12.0]);
    /// ```
    ///
    /// # Panics
    /// If `x` is from another tape, was recorded after the output, needs no
    /// gradient (a constant, or computed from constants only), or is an
    /// intermediate not marked with [`Var::retain_grad`].
    #[track_caller]
    pub fn wrt(&self, x: Var<'t, T>) -> &[T] {
        assert!(
            core::ptr::eq(self.tape, x.tape()),
            "dualtape: Grads::wrt: the variable belongs to another tape"
        );
        let id = x.id();
        assert!(
            id <= self.output,
            "dualtape: Grads::wrt: node {} was recorded after the output (node {}); \
             it cannot influence it",
            id.0,
            self.output.0
        );
        let node = &self.arena.nodes[id.index()];
        assert!(
            node.needs_grad,
            "dualtape: Grads::wrt: node {} is a constant (it depends on no `var`) and has no gradient",
            id.0
        );
        assert!(
            node.retain,
            "dualtape: Grads::wrt: node {} is an intermediate (not a `Tape::var`) and its \
             gradient was not kept; call `.retain_grad()` on it before `backward` to keep it",
            id.0
        );
        &self.arena.adjoints[node.span.range()]
    }
}

impl<T: Real> core::fmt::Debug for Grads<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Grads")
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

/// Two disjoint spans of one buffer, mutably. Inlined: returned through the
/// stack, its two slices cost a store-forwarding stall per binary node (12 %
/// of a length-1 chain's gradient, by `perf`).
#[inline(always)]
pub(super) fn two_mut<T>(buf: &mut [T], x: Span, y: Span) -> (&mut [T], &mut [T]) {
    if x.start + x.len <= y.start {
        let (lo, hi) = buf.split_at_mut(y.start);
        (&mut lo[x.range()], &mut hi[..y.len])
    } else {
        let (lo, hi) = buf.split_at_mut(x.start);
        (&mut hi[..x.len], &mut lo[y.range()])
    }
}

impl<T: Real> Tape<T> {
    /// Sweeps from `output` down to node 0 with the output adjoint `seed` (as
    /// long as the output).
    #[track_caller]
    pub(crate) fn sweep(&self, output: NodeId, seed: &[T]) -> Grads<'_, T> {
        let par = self.par();
        {
            let mut guard = self.arena_mut();
            let a = &mut *guard;
            fuse::flush(a, par, &[output]);
            let used = a.used;
            if a.adjoints.len() < used {
                a.adjoints.resize(used, T::zero());
            }
            // Until this sweep ends, no input holds a finished gradient.
            a.swept = 0;
            a.written.clear();
            a.written.resize(output.index() + 1, false);
            let out = a.nodes[output.index()];
            // The output's adjoint is the seed: read in place, unless its
            // gradient is kept (or it is one element: a copy costs nothing).
            let in_place = !out.retain && out.span.len > 1;
            if !in_place {
                a.adjoints[out.span.range()].copy_from_slice(seed);
            }
            a.written[output.index()] = out.needs_grad;

            let fusion = self.fusion();
            let seed_of = |i: usize| (in_place && i == output.index()).then_some(seed);
            // The one value node `i − 1`'s adjoint holds everywhere, if a sum
            // left it unstored.
            let mut splat = None;
            let mut i = output.index() + 1;
            while i > 0 {
                let top = i - 1;
                // Fields, not a copy of the node: a 64-byte copy to the stack
                // read back a byte at a time stalled store forwarding on every
                // node (half the sweep's own time, by `perf annotate`).
                let (needs_grad, len, op) = {
                    let node = &a.nodes[top];
                    (node.needs_grad, node.span.len, node.op)
                };
                let no_adjoint = !needs_grad || !a.written[top];
                i = if no_adjoint || op.is_input() {
                    top // nothing to propagate, or nothing below it
                } else if len == 1 && matches!(op, Op::Unary(..) | Op::Binary(..)) {
                    backward_scalars(a, i)
                } else if fusion && fuse::fusable(&a.nodes, top, len) {
                    let given = top_adjoint(&mut splat, seed_of(top));
                    fuse::backward_run(a, par, top, given)
                } else if matches!(op, Op::Unary(..) | Op::Binary(..)) {
                    backward_vectors(a, par, fusion, i, seed_of(top))
                } else if matches!(op, Op::Map(_) | Op::Map2(..)) {
                    // d f(x₁, …, x_K) = Σ_k ∂f/∂x_k·dx_k, the ∂f/∂x_k kept
                    let given = top_adjoint(&mut splat, seed_of(top));
                    super::map::backward(a, par, top, given);
                    top
                } else if fusion
                    && let Op::Reduce(op @ (ReduceOp::Sum | ReduceOp::Mean), x) = op
                    && let Some(v) = splat_below(a, top, op, x)
                {
                    splat = Some(v);
                    top
                } else {
                    backward_node(a, par, top, seed_of(top));
                    top
                };
            }

            // Kept gradients the output does not depend on are zeros.
            for k in 0..a.retained.len() {
                let i = a.retained[k].index();
                let n = &a.nodes[i];
                if i <= output.index() && n.needs_grad && !a.written[i] {
                    a.adjoints[n.span.range()].fill(T::zero());
                    a.written[i] = true;
                }
            }
            a.swept = output.index() + 1;
        }
        Grads {
            tape: self,
            arena: self.arena(),
            output,
        }
    }
}

/// The adjoint of the node the sweep is at when it is not in the arena: the
/// splat a sum above left (taken), or the sweep's seed.
fn top_adjoint<'s, T: Copy>(
    splat: &mut Option<T>,
    seed: Option<&'s [T]>,
) -> Option<TopAdjoint<'s, T>> {
    match splat.take() {
        Some(v) => Some(TopAdjoint::Splat(v)),
        None => seed.map(TopAdjoint::Seed),
    }
}

/// The rule of node `i`, a sum or mean (`op`) of `x`, when `x` is the node
/// just below it, fused or a map without a broadcast input, not kept and
/// read by nothing else: marks `x`'s adjoint written and returns the one
/// value the rule would fill it with, for `x`'s backward to read as a splat
/// instead of from memory (the same products, so the same bits).
fn splat_below<T: Real>(a: &mut Arena<T>, i: usize, op: ReduceOp, x: NodeId) -> Option<T> {
    let (k, input) = (x.index(), a.nodes[x.index()]);
    // Every node above `i` is swept: `k`'s adjoint unwritten means `i` is
    // its only consumer.
    let alone = k + 1 == i && !a.written[k];
    let reads_splat =
        fuse::fusable(&a.nodes, k, input.span.len) || super::map::takes_splat(&a.nodes, k);
    if !alone || input.retain || !reads_splat {
        return None;
    }
    a.written[k] = true;
    let g0 = a.adjoints[a.nodes[i].span.start];
    Some(match op {
        ReduceOp::Mean => g0 / T::from(input.span.len).unwrap(),
        _ => g0,
    })
}

/// Runs node `i`'s adjoint rule on its own: its inputs' adjoints get their
/// contributions. `seed` is the node's adjoint when it is not in the arena.
/// Node `i` is a reduction, a dot product or a custom op: the sweep runs
/// elementwise nodes in its loops.
fn backward_node<T: Real>(a: &mut Arena<T>, par: Par, i: usize, seed: Option<&[T]>) {
    let node = &a.nodes[i];
    let (lower, upper) = a.adjoints.split_at_mut(node.span.start);
    let g = seed.unwrap_or(&upper[..node.span.len]);
    let vals = |id: NodeId| &a.values[a.nodes[id.index()].span.range()];
    let y = &a.values[node.span.range()];
    // Marks `id` written and returns its sink: overwrite on the first
    // contribution, add after. `None` if `id` needs no gradient.
    let mut sink_of = |id: NodeId| -> Option<(Span, bool)> {
        let n = &a.nodes[id.index()];
        n.needs_grad.then(|| {
            let add = a.written[id.index()];
            a.written[id.index()] = true;
            (n.span, add)
        })
    };
    match node.op {
        Op::Leaf | Op::Constant => {
            unreachable!("dualtape: internal: the sweep skips inputs, which have no inputs")
        }
        Op::Unary(..) | Op::Binary(..) => {
            unreachable!("dualtape: internal: the sweep runs elementwise nodes in its own loops")
        }
        Op::Reduce(op, x) => {
            if let Some((sx, add)) = sink_of(x) {
                let dx = Sink {
                    dst: &mut lower[sx.range()],
                    add,
                };
                let (xv, g0, y0) = (vals(x), g[0], y[0]);
                match op {
                    // d Σx = Σdx
                    ReduceOp::Sum => kernels::fill(par, dx, g0),
                    // d (Σx/n) = Σdx/n
                    ReduceOp::Mean => kernels::fill(par, dx, g0 / T::from(xv.len()).unwrap()),
                    // d‖x‖ = xᵀdx/‖x‖ (0 at x = 0)
                    ReduceOp::Norm => kernels::norm_backward(par, xv, y0, g0, dx),
                    // d max x = dx_k at the k that attain it, shared among ties
                    ReduceOp::Max | ReduceOp::Min => {
                        let ties = kernels::count_eq(par, xv, y0);
                        let share = g0 / T::from(ties.max(1)).unwrap();
                        kernels::extremum_backward(par, xv, y0, share, dx);
                    }
                }
            }
        }
        // d(a·b) = bᵀda + aᵀdb
        Op::Dot(l, r) => {
            let (g0, (vl, vr)) = (g[0], (vals(l), vals(r)));
            match (sink_of(l), sink_of(r)) {
                (Some((sl, addl)), Some((sr, addr))) if l != r => {
                    let (dl, dr) = two_mut(lower, sl, sr);
                    kernels::scale_swapped(
                        par,
                        vl,
                        vr,
                        g0,
                        Sink { dst: dl, add: addl },
                        Sink { dst: dr, add: addr },
                    );
                }
                (Some((s, add)), Some(_)) => {
                    // a·a: d = 2a, as a·(2g) in one pass; where 2g
                    // overflows (|g| > MAX/2) as a·g + a·g, which
                    // stays finite for |a| < 1 (and 0 at a = 0).
                    let two_g = g0 + g0;
                    let dst = &mut lower[s.range()];
                    if two_g.is_finite() || !g0.is_finite() {
                        kernels::scale(par, vl, two_g, Sink { dst, add });
                    } else {
                        kernels::scale(par, vl, g0, Sink { dst, add });
                        let dst = &mut lower[s.range()];
                        kernels::scale(par, vl, g0, Sink { dst, add: true });
                    }
                }
                (Some((s, add)), None) => kernels::scale(
                    par,
                    vr,
                    g0,
                    Sink {
                        dst: &mut lower[s.range()],
                        add,
                    },
                ),
                (None, Some((s, add))) => kernels::scale(
                    par,
                    vl,
                    g0,
                    Sink {
                        dst: &mut lower[s.range()],
                        add,
                    },
                ),
                (None, None) => {}
            }
        }
        Op::Map(_) | Op::Map2(..) => {
            unreachable!("dualtape: internal: the sweep runs map nodes itself")
        }
        Op::Custom(k) => {
            super::custom::backward(
                par,
                &a.customs[k as usize],
                &a.nodes,
                &a.values,
                y,
                g,
                lower,
                &mut a.written,
            );
        }
    }
}

/// The rules of the elementwise nodes that run node by node (more than one
/// element, and not in a fused run) from node `i − 1` down, each a kernel
/// call on its spans. Skips the nodes without an adjoint (of any op and
/// length), as the sweep does, and stops at the first other node: returns
/// the index above it. `seed` is node `i − 1`'s adjoint when it is not in the
/// arena (the sweep's output, read in place).
///
/// The caller has checked that node `i − 1` is such a node, with an
/// adjoint. One loop over arenas borrowed once, as [`backward_scalars`]: on
/// short vectors a pass of the sweep's own loop and a call of the general
/// rule per node cost more than the kernel (at n = 16, W4 took 6 730
/// instructions per evaluation through them, 6 364 here; callgrind).
fn backward_vectors<T: Real>(
    a: &mut Arena<T>,
    par: Par,
    fusion: bool,
    mut i: usize,
    mut seed: Option<&[T]>,
) -> usize {
    let Arena {
        nodes,
        values,
        partials,
        adjoints,
        written,
        scratch,
        ..
    } = a;
    let (nodes, written) = (&nodes[..i], &mut written[..i]);
    let (values, partials) = (&values[..], &partials[..]);
    let from = i;
    while i > 0 {
        let top = i - 1;
        let node = &nodes[top];
        let given = seed.take();
        if !node.needs_grad || !written[top] || node.op.is_input() {
            i = top; // nothing to propagate, or nothing below it
            continue;
        }
        let len = node.span.len;
        let elementwise = matches!(node.op, Op::Unary(..) | Op::Binary(..));
        if !elementwise || len == 1 || (fusion && fuse::fusable(nodes, top, len)) {
            break;
        }
        let (lower, upper) = adjoints.split_at_mut(node.span.start);
        let g = given.unwrap_or(&upper[..len]);
        let y = &values[node.span.range()];
        let vals = |id: NodeId| &values[nodes[id.index()].span.range()];
        // Marks `id` written and returns its sink: overwrite on the first
        // contribution, add after. `None` if `id` needs no gradient.
        let mut sink_of = |id: NodeId| -> Option<(Span, bool)> {
            let n = &nodes[id.index()];
            n.needs_grad
                .then(|| (n.span, core::mem::replace(&mut written[id.index()], true)))
        };
        match node.op {
            // d f(x) = f'(x)·dx (f' from the rule, or kept by the forward pass)
            Op::Unary(op, x) => {
                if let Some((sx, add)) = sink_of(x) {
                    let p = &partials[node.partial.range()];
                    let dx = Sink {
                        dst: &mut lower[sx.range()],
                        add,
                    };
                    with_unary_rule!(op, rule => kernels::unary_backward(par, rule, vals(x), y, p, g, dx));
                }
            }
            // d f(a, b) = ∂f/∂a·da + ∂f/∂b·db, both in one pass
            Op::Binary(op, l, r) if l == r => {
                if let Some((sx, add)) = sink_of(l) {
                    let dx = Sink {
                        dst: &mut lower[sx.range()],
                        add,
                    };
                    with_binary_rule!(op, rule => kernels::binary_backward_same(par, rule, vals(l), y, g, dx));
                }
            }
            Op::Binary(op, l, r) => {
                let (ol, or) = (
                    operand(values, nodes[l.index()].span, len),
                    operand(values, nodes[r.index()].span, len),
                );
                let (dl, dr) = match (sink_of(l), sink_of(r)) {
                    (Some((sl, addl)), Some((sr, addr))) => {
                        let (dl, dr) = two_mut(lower, sl, sr);
                        (
                            Some(Sink { dst: dl, add: addl }),
                            Some(Sink { dst: dr, add: addr }),
                        )
                    }
                    (Some((sl, add)), None) => (
                        Some(Sink {
                            dst: &mut lower[sl.range()],
                            add,
                        }),
                        None,
                    ),
                    (None, Some((sr, add))) => (
                        None,
                        Some(Sink {
                            dst: &mut lower[sr.range()],
                            add,
                        }),
                    ),
                    (None, None) => (None, None),
                };
                with_binary_rule!(op, rule => kernels::binary_backward(par, rule, ol, or, y, g, dl, dr, scratch));
            }
            _ => unreachable!("dualtape: internal: the loop stops at other ops"),
        }
        i = top;
    }
    debug_assert!(
        i < from,
        "dualtape: internal: the vector loop handled no node"
    );
    i
}

/// The rules of the length-1 elementwise nodes from node `i − 1` down, on
/// scalars read straight from the arenas: the arithmetic of the kernels'
/// length-1 paths (so the same bits), without slicing four buffers for one
/// element. Skips the nodes without an adjoint (of any op and length), as the
/// sweep does, and stops at the first other node: returns the index above
/// it. The caller has checked that node `i − 1` is one of them, with an
/// adjoint.
///
/// One loop over arenas borrowed once: a chain of scalar ops is most of a
/// scalar function's tape, and its nodes are a few instructions each. A
/// binary node took 78 instructions through the sweep's loop, 57 here
/// (callgrind).
fn backward_scalars<T: Real>(a: &mut Arena<T>, mut i: usize) -> usize {
    let Arena {
        nodes,
        values,
        adjoints,
        written,
        ..
    } = a;
    let (nodes, written) = (&nodes[..i], &mut written[..i]);
    let from = i;
    while i > 0 {
        let top = i - 1;
        let node = &nodes[top];
        if !node.needs_grad || !written[top] {
            i = top;
            continue;
        }
        if node.span.len != 1 {
            break;
        }
        // Each input's node is read once: the stores below could alias it.
        let input = |id: NodeId| ScalarInput {
            index: id.index(),
            at: nodes[id.index()].span.start,
            needs_grad: nodes[id.index()].needs_grad,
        };
        let (y, g) = (values[node.span.start], adjoints[node.span.start]);
        // Puts `v` into the input's adjoint (if it needs one): overwrite on
        // the first contribution, add after.
        let mut put = |x: ScalarInput, v: T| {
            if x.needs_grad {
                let add = core::mem::replace(&mut written[x.index], true);
                let d = &mut adjoints[x.at];
                *d = if add { *d + v } else { v };
            }
        };
        match node.op {
            Op::Unary(op, x) => {
                let x = input(x);
                let d = with_unary_rule!(op, rule => rule.deriv(values[x.at], y));
                put(x, d * g);
            }
            Op::Binary(op, l, r) if l == r => {
                let x = input(l);
                let v = values[x.at];
                let (p, q) = with_binary_rule!(op, rule => rule.partials(v, v, y));
                put(x, p * g + q * g);
            }
            Op::Binary(op, l, r) => {
                let (l, r) = (input(l), input(r));
                let (pl, pr) =
                    with_binary_rule!(op, rule => rule.partials(values[l.at], values[r.at], y));
                put(l, pl * g);
                put(r, pr * g);
            }
            _ => break,
        }
        i = top;
    }
    debug_assert!(
        i < from,
        "dualtape: internal: the scalar loop handled no node"
    );
    i
}

/// What [`backward_scalars`] reads of a length-1 input's node.
#[derive(Clone, Copy)]
struct ScalarInput {
    /// Its id, as an index.
    index: usize,
    /// Its offset in the value and adjoint arenas.
    at: usize,
    /// Whether it takes a gradient.
    needs_grad: bool,
}
