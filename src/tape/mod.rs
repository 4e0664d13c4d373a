//! The arena tape: [`Tape`] records, [`Var`] is the handle user code holds.

mod backward;
mod custom;
mod fuse;
mod map;
pub(crate) mod node;
mod record;
mod value;
mod var;

use core::cell::{Cell, RefCell, RefMut};

pub use backward::Grads;
pub use custom::CustomBackward;
pub use node::{NodeId, Span};
pub use value::ValueRef;
pub use var::Var;

use crate::kernels::fused::BlockScratch;
use crate::kernels::{self, Par};
use crate::real::Real;
use node::{Node, Op, ValueState};

/// The largest number of nodes a tape can hold: ids are `u32`.
pub const MAX_NODES: usize = u32::MAX as usize;

/// A recording of vector operations, for reverse-mode differentiation.
///
/// A tape is an arena: every node is a small plain struct in one `Vec`, every
/// node's output a span of one value buffer. [`Tape::var`] and
/// [`Tape::constant`] put vectors on it; arithmetic on the returned [`Var`]s
/// records further nodes (computing their values at once, as PyTorch's eager
/// mode does); [`Var::backward`] sweeps the nodes in reverse and returns the
/// [`Grads`].
///
/// [`Tape::clear`] empties it and keeps every buffer, so evaluating the same
/// function again allocates nothing.
///
/// ```
/// use dualtape::Tape;
///
/// let mut tape = Tape::<f64>::new();
/// for step in 0..3 {
///     tape.clear();
///     let x = tape.var(&[1.0, 2.0, 3.0]);
///     let y = (x * x).sum();               // Σ x²
///     let grads = y.backward();
///     assert_eq!(grads.wrt(x), &[2.0, 4.0, 6.0]); // 2x
/// #   let _ = step;
/// }
/// ```
///
/// # Limits
/// At most [`MAX_NODES`] (2³² − 1) nodes; element offsets are `usize`, so the
/// element count is bounded by memory alone. Recording past the node limit
/// panics; [`Tape::with_node_limit`] sets a lower one.
pub struct Tape<T: Real> {
    arena: RefCell<Arena<T>>,
    par: Cell<Par>,
    fusion: Cell<bool>,
    node_limit: usize,
}

/// Everything a tape holds. Buffers only grow; `truncate` rewinds the counters.
pub(crate) struct Arena<T: Real> {
    /// Every recorded node, in recording order (a topological order).
    pub nodes: Vec<Node<T>>,
    /// Every node's output, back to back. Its length is the high-water mark:
    /// elements past `used` are stale values of nodes forgotten by `truncate`.
    pub values: Vec<T>,
    /// How much of `values` the current recording uses.
    pub used: usize,
    /// Local derivatives kept by forward passes (sin, cos), back to back.
    pub partials: Vec<T>,
    /// How much of `partials` the current recording uses.
    pub partials_used: usize,
    /// Every node's adjoint, at the offsets of its value. Stale until the sweep
    /// writes it: a node's first contribution overwrites, later ones add.
    pub adjoints: Vec<T>,
    /// Per node: whether the current sweep has written its adjoint yet.
    pub written: Vec<bool>,
    /// The nodes whose gradients [`Grads::wrt`] may read (leaves, and
    /// intermediates after [`Var::retain_grad`]): the sweep zero-fills those
    /// its output does not reach, and no other adjoint.
    pub retained: Vec<NodeId>,
    /// Per-chunk partial sums of the reductions (see `kernels::par`).
    pub scratch: Vec<T>,
    /// User-defined ops' backward rules and inputs, by `Op::Custom` index.
    pub customs: Vec<custom::CustomNode<T>>,
    /// The deferred nodes whose values are not computed yet, if any.
    pub pending: Option<fuse::Pending>,
    /// Whether a flush dropped some kept node's values
    /// ([`node::ValueState::Dropped`]): only then must readers check their inputs.
    pub dropped: bool,
    /// Fused backward runs' block-local adjoints (see `tape::fuse`).
    pub block_scratch: BlockScratch<T>,
    /// The inputs before this node hold the gradients of the last backward
    /// sweep in `adjoints`: those up to its output, and kept by every
    /// truncation since.
    pub swept: usize,
}

impl<T: Real> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> Tape<T> {
    /// An empty tape that runs large kernels on the current rayon pool ([`Par::Rayon`]).
    pub fn new() -> Self {
        Tape {
            arena: RefCell::new(Arena {
                nodes: Vec::new(),
                values: Vec::new(),
                used: 0,
                partials: Vec::new(),
                partials_used: 0,
                adjoints: Vec::new(),
                written: Vec::new(),
                retained: Vec::new(),
                scratch: Vec::new(),
                customs: Vec::new(),
                pending: None,
                dropped: false,
                block_scratch: BlockScratch::default(),
                swept: 0,
            }),
            par: Cell::new(Par::Rayon),
            fusion: Cell::new(true),
            node_limit: MAX_NODES,
        }
    }

    /// An empty tape that refuses to record more than `limit` nodes (capped at
    /// [`MAX_NODES`]): a guard against a runaway loop filling memory.
    pub fn with_node_limit(limit: usize) -> Self {
        Tape {
            node_limit: limit.min(MAX_NODES),
            ..Self::new()
        }
    }

    /// Chooses where kernels run: [`Par::Sequential`] on the calling thread, or
    /// [`Par::Rayon`] on the current rayon pool for vectors of at least
    /// [`crate::kernels::PAR_MIN_LEN`] elements. Values and gradients are
    /// bitwise identical either way.
    ///
    /// ```
    /// use dualtape::{Par, Tape};
    /// let tape = Tape::<f32>::new();
    /// tape.set_par(Par::Sequential);
    /// assert_eq!(tape.par(), Par::Sequential);
    /// ```
    pub fn set_par(&self, par: Par) {
        self.par.set(par);
    }

    /// Where kernels run (see [`Tape::set_par`]).
    pub fn par(&self) -> Par {
        self.par.get()
    }

    /// Turns fusion on (the default) or off.
    ///
    /// With fusion on, chains of elementwise ops on vectors of a few hundred
    /// elements or more are recorded without running, then computed block by
    /// block while each block sits in L1 (when a value is needed: a reduction,
    /// [`Var::value`], [`Var::backward`]), and swept backward block by block:
    /// a chain of ten ops on a long vector moves its data through memory a few
    /// times instead of dozens. Off, every op runs as it is recorded.
    ///
    /// Values and gradients are bitwise identical either way; only memory
    /// traffic changes. The setting applies to ops recorded (and sweeps begun)
    /// after the call.
    ///
    /// ```
    /// use dualtape::Tape;
    /// let x: Vec<f64> = (0..5000).map(|i| i as f64 / 5000.0).collect();
    /// let grad = |fused: bool| {
    ///     let tape = Tape::<f64>::new();
    ///     tape.set_fusion(fused);
    ///     let v = tape.var(&x);
    ///     let y = ((v * v).sin() * v.exp()).sum();
    ///     y.backward().wrt(v).to_vec()
    /// };
    /// assert_eq!(grad(true), grad(false));
    /// ```
    pub fn set_fusion(&self, on: bool) {
        self.fusion.set(on);
    }

    /// Whether fusion is on (see [`Tape::set_fusion`]).
    pub fn fusion(&self) -> bool {
        self.fusion.get()
    }

    /// Records `values` as an input that needs a gradient (a leaf, PyTorch's
    /// `requires_grad=True`).
    ///
    /// # Panics
    /// If the tape is at its node limit, or a [`Var::value`] or [`Grads`] borrow
    /// of it is alive.
    #[track_caller]
    pub fn var(&self, values: &[T]) -> Var<'_, T> {
        self.input(values, true)
    }

    /// Records `values` as an input that needs no gradient. Ops on constants
    /// alone are computed but skipped by the backward sweep.
    ///
    /// # Panics
    /// As [`Tape::var`].
    #[track_caller]
    pub fn constant(&self, values: &[T]) -> Var<'_, T> {
        self.input(values, false)
    }

    #[track_caller]
    fn input(&self, values: &[T], needs_grad: bool) -> Var<'_, T> {
        // The op from the flag, here: an `Op` built by the caller and passed
        // by reference was read back wider than it was written, stalling
        // store forwarding (a quarter of `input`'s time at n = 16, `perf`).
        let op = if needs_grad { Op::Leaf } else { Op::Constant };
        let node = record::NewNode::now(op, values.len(), needs_grad);
        let id = self.record(&mut self.arena_mut(), node, |cx| {
            kernels::copy(cx.par, values, cx.out)
        });
        Var::new(self, id)
    }

    /// Number of nodes on the tape: recorded since the last [`Tape::clear`], and
    /// not forgotten by [`Tape::truncate`].
    pub fn len(&self) -> usize {
        self.arena.borrow().nodes.len()
    }

    /// Whether the tape holds no node ([`Tape::len`] is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every node and keeps every buffer's capacity, so recording the
    /// same computation again allocates nothing.
    ///
    /// Taking `&mut self` means no [`Var`] of the tape can outlive this call:
    ///
    /// ```compile_fail,E0502
    /// let mut tape = dualtape::Tape::<f64>::new();
    /// let x = tape.var(&[1.0]);
    /// tape.clear();
    /// let y = x * 2.0; // error: `tape` is borrowed by `x`
    /// ```
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Forgets every node after the first `len` and keeps those, with their
    /// values, and every buffer's capacity; `len` at or past [`Tape::len`]
    /// changes nothing (as [`Vec::truncate`]).
    ///
    /// Inputs recorded once before the first evaluation then stay on the tape
    /// across evaluations, and are not copied in again for each: the loop over
    /// fixed data, or over many seeds at one point. [`Tape::get`] hands out a
    /// kept node's [`Var`] again, [`Tape::update`] changes an input's values
    /// in place.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let x = tape.var(&[3.0, 4.0]).id(); // recorded (copied) once
    /// let inputs = tape.len();
    /// for _ in 0..3 {
    ///     tape.truncate(inputs); // forgets the last evaluation, keeps `x`
    ///     let x = tape.get(x).expect("x is kept");
    ///     let grads = (x * x).sum().backward();
    ///     assert_eq!(grads.wrt(x), &[6.0, 8.0]);
    /// }
    /// ```
    ///
    /// Taking `&mut self` ends every [`Var`] of the tape, as [`Tape::clear`].
    pub fn truncate(&mut self, len: usize) {
        let par = self.par();
        let a = self.arena.get_mut();
        if len >= a.nodes.len() {
            return;
        }
        let (used, partials_used) = a.nodes[..len].last().map_or((0, 0), |n| {
            (n.span.start + n.span.len, n.partial.start + n.partial.len)
        });
        if !a.customs.is_empty() {
            let forgotten = a.nodes[len..]
                .iter()
                .filter(|n| matches!(n.op, Op::Custom(_)))
                .count();
            a.customs.truncate(a.customs.len() - forgotten);
        }
        a.nodes.truncate(len);
        a.retained.retain(|id| id.index() < len);
        a.used = used;
        a.partials_used = partials_used;
        a.swept = a.swept.min(len);
        match a.pending {
            // A deferred run begun among the kept nodes: those get their
            // values now (the run ends at the cut, so the forgotten ones are
            // not computed).
            Some(p) if p.first < len => fuse::flush(a, par, &[]),
            _ => a.pending = None,
        }
        // Only a kept node a flush left without its values keeps the flag up.
        a.dropped = a.dropped && a.nodes.iter().any(|n| n.values == ValueState::Dropped);
    }

    /// Changes input `id`'s values in place: `f` gets them, and their gradient
    /// from the last backward sweep. Returns what `f` returns.
    ///
    /// The gradient is that sweep's, at the values the input had then (zeros
    /// if its output does not depend on the input): every input of one
    /// evaluation can be stepped by it in turn, and a second `update` before
    /// the next sweep gets the same gradient again. It is `None` for a
    /// constant, and for an input recorded after the last sweep's output (or
    /// after a truncation or clear that forgot that output).
    ///
    /// First, the nodes from the first computed one after `id` on are
    /// forgotten (as by [`Tape::truncate`]): they may read the old values.
    /// Inputs recorded before that stay, so a tape that records all its inputs
    /// first keeps all of them: the optimiser's step. An input recorded after
    /// a computed node is forgotten with it when an earlier input is updated.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let w = tape.var(&[1.0, -2.0]).id();
    /// let inputs = tape.len();
    /// for _ in 0..50 {
    ///     let w = tape.get(w).expect("inputs are kept");
    ///     let loss = ((w - 3.0) * (w - 3.0)).sum(); // minimum at w = 3
    ///     drop(loss.backward());
    ///     tape.update(w.id(), |w, grad| {
    ///         let grad = grad.expect("a sweep just ran");
    ///         w.iter_mut().zip(grad).for_each(|(w, g)| *w -= 0.25 * g);
    ///     });
    ///     assert_eq!(tape.len(), inputs);
    /// }
    /// let w = tape.get(w).unwrap();
    /// assert!(w.value().iter().all(|&w| (w - 3.0).abs() < 1e-9));
    /// ```
    ///
    /// # Panics
    /// If the tape holds no node `id`, or node `id` is not an input
    /// ([`Tape::var`] or [`Tape::constant`]).
    #[track_caller]
    pub fn update<R>(&mut self, id: NodeId, f: impl FnOnce(&mut [T], Option<&[T]>) -> R) -> R {
        let a = self.arena.get_mut();
        let i = id.index();
        let Some(node) = a.nodes.get(i) else {
            panic!(
                "dualtape: update: the tape holds no node {i} (it holds {}); was the id \
                 recorded before a clear or truncate, or on another tape?",
                a.nodes.len()
            );
        };
        if !node.op.is_input() {
            panic!(
                "dualtape: update: node {i} is not an input (`Tape::var` or `Tape::constant`) \
                 but computed from other nodes; only inputs can be changed in place"
            );
        }
        let (span, needs_grad) = (node.span, node.needs_grad);
        let computed = a.nodes[i..].iter().position(|n| !n.op.is_input());
        if let Some(k) = computed {
            self.truncate(i + k);
        }
        let a = self.arena.get_mut();
        let grad = (i < a.swept && needs_grad).then(|| &a.adjoints[span.range()]);
        f(&mut a.values[span.range()], grad)
    }

    /// Node `id` as a [`Var`] of this tape, or `None` if the tape holds fewer
    /// nodes: how code gets back to a node kept by [`Tape::truncate`] once the
    /// `&mut` call has ended its `Var`s.
    ///
    /// Ids are indices: an id from another tape, or from before a
    /// [`Tape::clear`] or [`Tape::truncate`] that forgot its node, names
    /// whatever node this tape holds at that index.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// let tape = Tape::<f32>::new();
    /// let x = tape.var(&[1.0, 2.0]);
    /// assert_eq!(tape.get(x.id()).map(|v| v.len()), Some(2));
    /// ```
    pub fn get(&self, id: NodeId) -> Option<Var<'_, T>> {
        (id.index() < self.len()).then(|| Var::new(self, id))
    }

    /// The arena, for recording. Panics, naming the cause, while a borrow from
    /// `Var::value` or `Grads` is alive.
    #[track_caller]
    pub(crate) fn arena_mut(&self) -> RefMut<'_, Arena<T>> {
        match self.arena.try_borrow_mut() {
            Ok(a) => a,
            Err(_) => panic!(
                "dualtape: cannot record on or sweep this tape while a `Var::value()` or `Grads` \
                 borrow of it is alive; drop that borrow first"
            ),
        }
    }

    /// The arena, for reading.
    #[track_caller]
    pub(crate) fn arena(&self) -> core::cell::Ref<'_, Arena<T>> {
        match self.arena.try_borrow() {
            Ok(a) => a,
            Err(_) => unreachable!("dualtape: the tape is never borrowed mutably between calls"),
        }
    }
}

impl<T: Real> Arena<T> {
    /// The output span of `id` and whether it needs a gradient.
    pub(crate) fn info(&self, id: NodeId) -> (Span, bool) {
        let n = &self.nodes[id.index()];
        (n.span, n.needs_grad)
    }
}

impl<T: Real> core::fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let a = self.arena();
        f.debug_struct("Tape")
            .field("nodes", &a.nodes.len())
            .field("elements", &a.used)
            .field("par", &self.par.get())
            .finish()
    }
}
