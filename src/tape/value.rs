//! Reading a node's values: [`ValueRef`], and the recomputation of values a
//! fused run did not store (see `tape::fuse`).

use core::cell::Ref;
use core::ops::Deref;

use super::node::{NodeId, Op, ValueState, with_binary_rule, with_unary_rule};
use super::{Arena, Tape, fuse};
use crate::kernels::{self, Operand, Par};
use crate::real::Real;

/// A [`Var`](super::Var)'s values, as [`Var::value`](super::Var::value)
/// returns them: a slice (it derefs to `&[T]`) that borrows the tape.
///
/// Recording on the tape while it is alive panics, saying so: copy the values
/// out (`x.value().to_vec()`) to keep them.
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
    /// Makes `ids`' values readable in the value arena: flushes the pending
    /// run, if any (keeping `ids`' values), and recomputes any a flush dropped.
    ///
    /// # Panics
    /// If a [`ValueRef`] or [`Grads`](super::Grads) borrow of the tape is alive
    /// and there is something to compute.
    #[track_caller]
    pub(crate) fn compute(&self, ids: &[NodeId]) {
        let ready = {
            let a = self.arena();
            let computed = |id: &NodeId| a.nodes[id.index()].values == ValueState::Computed;
            a.pending.is_none() && ids.iter().all(computed)
        };
        if !ready {
            let mut a = self.arena_mut();
            fuse::flush(&mut a, self.par(), ids);
            for &id in ids {
                fuse::materialize(&mut a, self.par(), id);
            }
        }
    }

    /// Node `id`'s values: in the arena (computed into it first if the tape is
    /// free to), or computed aside while a borrow of the tape is alive.
    pub(crate) fn values_of(&self, id: NodeId) -> ValueRef<'_, T> {
        if let Ok(mut a) = self.arena.try_borrow_mut()
            && (a.pending.is_some() || a.nodes[id.index()].values != ValueState::Computed)
        {
            fuse::flush(&mut a, self.par(), &[id]);
            fuse::materialize(&mut a, self.par(), id);
        }
        let a = self.arena();
        let node = a.nodes[id.index()];
        ValueRef(if node.values == ValueState::Computed {
            Inner::Arena(Ref::map(a, |a| &a.values[node.span.range()]))
        } else {
            Inner::Aside(aside(&a, self.par(), id))
        })
    }
}

/// Node `id`'s values without writing to the arena: read from it where they
/// are there, else computed from the inputs' (recursively) with the kernel a
/// fused run uses, so the same bits.
fn aside<T: Real>(a: &Arena<T>, par: Par, id: NodeId) -> Vec<T> {
    let node = a.nodes[id.index()];
    if node.values == ValueState::Computed {
        return a.values[node.span.range()].to_vec();
    }
    let len = node.span.len;
    let mut out = vec![T::zero(); len];
    match node.op {
        Op::Unary(op, x) => {
            let (x, mut partial) = (aside(a, par, x), vec![T::zero(); node.partial.len]);
            with_unary_rule!(op, rule => kernels::unary(par, rule, &x, &mut out, &mut partial));
        }
        Op::Binary(op, l, r) => {
            let (l, r) = (aside(a, par, l), aside(a, par, r));
            let (ol, or) = (broadcast(&l, len), broadcast(&r, len));
            with_binary_rule!(op, rule => kernels::binary(par, rule, ol, or, &mut out));
        }
        _ => unreachable!("dualtape: internal: only elementwise nodes go unstored"),
    }
    out
}

/// `v` as an operand of an op with `len` output elements.
fn broadcast<T: Copy>(v: &[T], len: usize) -> Operand<'_, T> {
    if v.len() == 1 && len != 1 {
        Operand::Splat(v[0])
    } else {
        Operand::Slice(v)
    }
}
