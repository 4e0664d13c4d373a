//! Elementwise closures as one node: [`Var::map`] and [`Var::map2`].
//!
//! The closure runs on [`Elem`] bundles when the node is recorded: one pass
//! computes its values and its derivative with respect to each input, which
//! the node keeps in the partials arena. The backward rule is then one
//! product per input, `∂f/∂x_k · g`: a chain of elementwise functions costs
//! one node, one kernel forward and one backward, instead of a node, a kernel
//! and a sweep step per function.

use super::backward::two_mut;
use super::fuse::TopAdjoint;
use super::node::{Node, NodeId, Op};
use super::record::{NewNode, broadcast, broadcast_len};
use super::{Arena, Tape, Var};
use crate::elem::Elem;
use crate::kernels::{self, MapFn, Par, Sink};
use crate::real::Real;

impl<'t, T: Real> Var<'t, T> {
    /// `f(x)` elementwise, recorded as one node: `f` is plain arithmetic on
    /// [`Elem`] (the functions a `Var` has), compiled into one kernel that
    /// computes the values and the derivative in one pass. The gradient is
    /// that of the same ops recorded one by one, up to rounding (the chain
    /// rule's factors are multiplied in another order), but where a
    /// derivative that is exactly 0 meets an infinite one: forward mode keeps
    /// the 0 ([`Elem`]), so `x.map(|x| (x * x).sqrt())` at 0 has gradient 0
    /// where the ops one by one (and PyTorch) give NaN.
    ///
    /// A map costs one node whatever `f` holds, and a pass over the vector
    /// for its values and derivative, one for its backward: on short vectors,
    /// where each recorded op is a fixed cost, and on chains whose
    /// intermediates would not fit the cache, it is the fast way to write an
    /// elementwise function. It keeps the derivative (one vector) on the tape
    /// until it is cleared, even when the input needs no gradient.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(&[1.0, 2.0]);
    /// let y = x.map(|x| 3.0 * x.powi(3) - x.sin()); // one node
    /// let g = y.backward_with(&[1.0, 1.0]);
    /// assert_eq!(g.wrt(x), [9.0 - 1f64.cos(), 36.0 - 2f64.cos()]);
    /// ```
    ///
    /// # Panics
    /// If the tape is full.
    #[track_caller]
    pub fn map<F>(self, f: F) -> Self
    where
        F: Fn(Elem<T, 1>) -> Elem<T, 1> + Sync,
    {
        let id = self
            .tape()
            .record_map(Op::Map(self.id()), [self.id()], &|[x]| f(x));
        Var::new(self.tape(), id)
    }

    /// `f(self, other)` elementwise, recorded as one node, as [`Var::map`]:
    /// one pass computes the values and both partial derivatives. A side of
    /// length 1 broadcasts, as in the binary ops, and its gradient is the sum
    /// over the elements it touched. It keeps two vectors of derivatives on
    /// the tape until it is cleared.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// // The notebook's Q = 3a³ − b², as one node.
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(&[2.0, 3.0]);
    /// let b = tape.var(&[6.0, 4.0]);
    /// let q = a.map2(b, |a, b| 3.0 * a.powi(3) - b.powi(2));
    /// assert_eq!(*q.value(), [-12.0, 65.0]);
    /// let g = q.backward_with(&[1.0, 1.0]);
    /// assert_eq!(g.wrt(a), [36.0, 81.0]); // 9a²
    /// assert_eq!(g.wrt(b), [-12.0, -8.0]); // −2b
    /// ```
    ///
    /// # Panics
    /// If the lengths differ and neither is 1, `other` is from another tape,
    /// or the tape is full.
    #[track_caller]
    pub fn map2<F>(self, other: Self, f: F) -> Self
    where
        F: Fn(Elem<T, 2>, Elem<T, 2>) -> Elem<T, 2> + Sync,
    {
        self.same_tape(other, "map2");
        let (tape, ids) = (self.tape(), [self.id(), other.id()]);
        let id = tape.record_map(Op::Map2(ids[0], ids[1]), ids, &|[a, b]| f(a, b));
        Var::new(tape, id)
    }
}

impl<T: Real> Tape<T> {
    /// Records `op`, a map of `inputs` by `f`, running `f` now.
    #[track_caller]
    fn record_map<const K: usize>(
        &self,
        op: Op<T>,
        inputs: [NodeId; K],
        f: &impl MapFn<T, K>,
    ) -> NodeId {
        let mut a = self.arena_mut();
        let info = inputs.map(|id| a.info(id));
        let lens = info.map(|(s, _)| s.len);
        let len = match *lens.as_slice() {
            [n] => n,
            [la, lb] => broadcast_len(|| "map2", la, lb),
            _ => unreachable!("dualtape: internal: maps take one or two inputs"),
        };
        let needs_grad = info.iter().any(|&(_, g)| g);
        let node = NewNode {
            kept: K * len,
            ..NewNode::now(op, len, needs_grad)
        };
        self.record(&mut a, node, |cx| {
            let operands = info.map(|(s, _)| broadcast(&cx.earlier[s.range()], len));
            kernels::map(cx.par, f, operands, cx.out, cx.partial);
        })
    }
}

/// Whether node `k` is a map whose inputs are all as long as it: its
/// backward can read a splat adjoint (see `backward::splat_below`).
pub(super) fn takes_splat<T: Real>(nodes: &[Node<T>], k: usize) -> bool {
    let node = &nodes[k];
    let full = |id: NodeId| nodes[id.index()].span.len == node.span.len;
    match node.op {
        Op::Map(x) => full(x),
        Op::Map2(l, r) => full(l) && full(r),
        _ => false,
    }
}

/// The backward of map node `i`: each input's adjoint (=|+=) its kept
/// partial times the node's adjoint (from the arena unless `given`), summed
/// over the elements for a broadcast input.
pub(super) fn backward<T: Real>(
    a: &mut Arena<T>,
    par: Par,
    i: usize,
    given: Option<TopAdjoint<'_, T>>,
) {
    let Arena {
        nodes,
        adjoints,
        partials,
        written,
        scratch,
        ..
    } = a;
    let node = &nodes[i];
    let (first, second) = match node.op {
        Op::Map(x) => (x, None),
        Op::Map2(l, r) => (l, Some(r)),
        _ => unreachable!("dualtape: internal: not a map node"),
    };
    let (n, p0) = (node.span.len, node.partial.start);
    let (lower, upper) = adjoints.split_at_mut(node.span.start);
    let g = match given {
        None => Grad::Slice(&upper[..n]),
        Some(TopAdjoint::Seed(s)) => Grad::Slice(s),
        Some(TopAdjoint::Splat(v)) => Grad::Splat(v),
    };
    // Marks `x`'s adjoint written; true if it was (add to it, else overwrite).
    let mut already_written = |x: NodeId| core::mem::replace(&mut written[x.index()], true);
    if let (Some(r), Grad::Slice(g)) = (second, g) {
        let (nl, nr) = (&nodes[first.index()], &nodes[r.index()]);
        let wants_full = |x: &Node<T>| x.needs_grad && x.span.len == n;
        if first != r && wants_full(nl) && wants_full(nr) {
            // Both partials times the one adjoint, read once.
            let (dl, dr) = two_mut(lower, nl.span, nr.span);
            let (dl, dr) = (
                Sink {
                    dst: dl,
                    add: already_written(first),
                },
                Sink {
                    dst: dr,
                    add: already_written(r),
                },
            );
            let (pl, pr) = partials[p0..p0 + 2 * n].split_at(n);
            return kernels::mul_pair(par, pl, pr, g, dl, dr);
        }
    }
    for (k, x) in core::iter::once(first).chain(second).enumerate() {
        let input = &nodes[x.index()];
        if !input.needs_grad {
            continue;
        }
        let p = &partials[p0 + k * n..][..n];
        let add = already_written(x);
        let dst = &mut lower[input.span.range()];
        match g {
            Grad::Slice(g) if input.span.len == n => kernels::mul(par, p, g, Sink { dst, add }),
            // A broadcast input: Σ ∂f/∂x·g over the elements it touched.
            Grad::Slice(g) => {
                let v = kernels::dot(par, p, g, scratch);
                kernels::put_scalar(Sink { dst, add }, v);
            }
            // `takes_splat`: every input is full length.
            Grad::Splat(v) => kernels::scale(par, p, v, Sink { dst, add }),
        }
    }
}

/// A map node's adjoint: a vector, or one value everywhere.
#[derive(Clone, Copy)]
enum Grad<'g, T> {
    Slice(&'g [T]),
    Splat(T),
}
