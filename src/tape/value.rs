//! Reading a node's values: [`ValueRef`], and the recomputation of values a
//! fused run did not store (see `tape::fuse`).

use core::cell::Ref;
use core::ops::Deref;

use super::node::{NodeId, ValueState};
use super::{Arena, Tape, fuse};
use crate::kernels::Par;
use crate::real::Real;

/// A [`Var`](super::Var)'s values, as [`Var::value`](super::Var::value)
/// returns them; it derefs to `&[T]`.
///
/// It borrows the tape's value arena, or (for values a fused run did not
/// store, read while the tape was borrowed) holds a copy of its own.
/// Recording on the tape while a borrowing `ValueRef` is alive panics, saying
/// so: copy the values out (`x.value().to_vec()`) to keep them.
///
/// ```
/// use dualtape::Tape;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(&[1.0, 2.0]);
/// let y = x * 3.0;
/// assert_eq!(&*y.value(), &[3.0, 6.0]);
/// assert_eq!(y.value()[1], 6.0);
/// ```
pub struct ValueRef<'t, T: Real>(Inner<'t, T>);

enum Inner<'t, T> {
    /// In the tape's value arena.
    Arena(Ref<'t, [T]>),
    /// Computed aside: the values were not stored and the tape was borrowed
    /// (by [`Grads`](super::Grads) or another `ValueRef`), so they could not be
    /// computed into it.
    Aside(Vec<T>),
}

impl<T: Real> Deref for ValueRef<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.0 {
            Inner::Arena(values) => values,
            Inner::Aside(values) => values,
        }
    }
}

impl<T: Real> core::fmt::Debug for ValueRef<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Real> Tape<T> {
    /// Node `id`'s values: in the arena (computed into it first if the tape is
    /// free to), or computed aside while a borrow of the tape is alive.
    pub(crate) fn values_of(&self, id: NodeId) -> ValueRef<'_, T> {
        if let Ok(mut a) = self.arena.try_borrow_mut() {
            fuse::ensure_computed(&mut a, self.par(), &[id]);
        }
        let a = self.arena();
        let (state, span) = {
            let node = &a.nodes[id.index()];
            (node.values, node.span)
        };
        ValueRef(if state == ValueState::Computed {
            Inner::Arena(Ref::map(a, |a| &a.values[span.range()]))
        } else {
            Inner::Aside(aside(&a, self.par(), id))
        })
    }
}

/// Node `id`'s values computed without writing to the arena: each of its
/// uncomputed ancestors once, in recording order, into buffers of their own,
/// from the values the arena holds.
fn aside<T: Real>(a: &Arena<T>, par: Par, id: NodeId) -> Vec<T> {
    let computed = |k: NodeId| a.nodes[k.index()].values == ValueState::Computed;
    let mut chain = Vec::new();
    let mut todo = vec![id];
    while let Some(k) = todo.pop() {
        if !computed(k) && !chain.contains(&k) {
            chain.push(k);
            todo.extend(a.nodes[k.index()].op.inputs());
        }
    }
    chain.sort_unstable();
    let mut done: Vec<(NodeId, Vec<T>)> = Vec::with_capacity(chain.len());
    for k in chain {
        let node = a.nodes[k.index()];
        let (mut out, mut partial) = (
            vec![T::zero(); node.span.len],
            vec![T::zero(); node.partial.len],
        );
        let input = |x: NodeId| match done.iter().find(|(d, _)| *d == x) {
            Some((_, v)) => v.as_slice(),
            None => &a.values[a.nodes[x.index()].span.range()],
        };
        fuse::forward_whole(par, node.op, input, &mut out, &mut partial);
        done.push((k, out));
    }
    match done.pop() {
        Some((_, values)) => values,
        None => a.values[a.nodes[id.index()].span.range()].to_vec(),
    }
}
