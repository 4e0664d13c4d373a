//! User-defined ops: forward values computed by the user, a backward rule
//! supplied as a closure (PyTorch's `autograd.Function`, JAX's `custom_vjp`).

use super::fuse;
use super::node::{Node, NodeId, Op};
use super::record::NewNode;
use super::{Tape, Var};
use crate::kernels::{self, Par, Sink};
use crate::real::Real;

/// A custom op's backward rule: reads inputs, output and output adjoint,
/// writes the inputs' adjoint contributions.
type BackwardRule<T> = Box<dyn Fn(&mut CustomBackward<'_, T>)>;

/// A custom op's inputs and backward rule, kept on the tape until `clear` or
/// `truncate` forgets its node.
pub(crate) struct CustomNode<T> {
    inputs: Vec<NodeId>,
    rule: BackwardRule<T>,
}

/// What a custom op's backward rule reads and writes.
///
/// The rule reads the inputs' values, the op's output and the output's adjoint
/// (`grad_output`), and writes each input's adjoint contribution
/// (`grad_input_mut(k)`, zero-filled before the call).
pub struct CustomBackward<'a, T> {
    inputs: Vec<&'a [T]>,
    output: &'a [T],
    grad_output: &'a [T],
    grads: Vec<Vec<T>>,
}

impl<T: Real> CustomBackward<'_, T> {
    /// Values of input `k` (in the order given to [`Tape::custom`]).
    ///
    /// # Panics
    /// If there is no input `k`.
    pub fn input(&self, k: usize) -> &[T] {
        self.inputs[k]
    }

    /// The op's output values.
    pub fn output(&self) -> &[T] {
        self.output
    }

    /// The adjoint of the op's output: `∂L/∂output`.
    pub fn grad_output(&self) -> &[T] {
        self.grad_output
    }

    /// Where to write `∂L/∂input_k` (zero-filled, one element per element of input `k`).
    ///
    /// # Panics
    /// If there is no input `k`.
    pub fn grad_input_mut(&mut self, k: usize) -> &mut [T] {
        &mut self.grads[k]
    }
}

impl<T: Real> Tape<T> {
    /// Records a user-defined op: `output` holds its values (computed by the
    /// caller from the inputs' values), `backward` its vector-Jacobian product.
    ///
    /// The closure is boxed once per recorded op (custom ops are the one place
    /// a tape allocates per node), and each sweep allocates the buffers it hands
    /// to the rule.
    ///
    /// ```
    /// use dualtape::Tape;
    ///
    /// // softplus(x) = ln(1 + eˣ), d/dx = σ(x)
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(&[0.0, 1.0]);
    /// let out: Vec<f64> = x.value().iter().map(|v| v.exp().ln_1p()).collect();
    /// let y = tape.custom(&[x], &out, |cx| {
    ///     for i in 0..cx.output().len() {
    ///         let s = 1.0 / (1.0 + (-cx.input(0)[i]).exp());
    ///         cx.grad_input_mut(0)[i] = s * cx.grad_output()[i];
    ///     }
    /// });
    /// let g = y.sum().backward();
    /// assert!((g.wrt(x)[0] - 0.5).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// If an input is from another tape, or the tape is full.
    #[track_caller]
    pub fn custom<'t>(
        &'t self,
        inputs: &[Var<'t, T>],
        output: &[T],
        backward: impl Fn(&mut CustomBackward<'_, T>) + 'static,
    ) -> Var<'t, T> {
        for (k, v) in inputs.iter().enumerate() {
            assert!(
                core::ptr::eq(v.tape(), self),
                "dualtape: custom: input {k} belongs to another tape"
            );
        }
        // Its backward rule reads the inputs' values from the arena.
        let ids: Vec<NodeId> = inputs.iter().map(|v| v.id()).collect();
        let mut a = self.arena_mut();
        fuse::ensure_computed(&mut a, self.par(), &ids);
        let needs_grad = ids.iter().any(|&id| a.info(id).1);
        let index = a.customs.len() as u32;
        let node = NewNode::now(Op::Custom(index), output.len(), needs_grad);
        let id = self.record(&mut a, node, |cx| cx.out.copy_from_slice(output));
        a.customs.push(CustomNode {
            inputs: ids,
            rule: Box::new(backward),
        });
        Var::new(self, id)
    }
}

/// Runs a custom node's rule and adds its results into the inputs' adjoints.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward<T: Real>(
    par: Par,
    node: &CustomNode<T>,
    nodes: &[Node<T>],
    values: &[T],
    output: &[T],
    grad_output: &[T],
    lower: &mut [T],
    written: &mut [bool],
) {
    let span = |id: NodeId| nodes[id.index()].span;
    let mut cx = CustomBackward {
        inputs: node
            .inputs
            .iter()
            .map(|&id| &values[span(id).range()])
            .collect(),
        output,
        grad_output,
        grads: node
            .inputs
            .iter()
            .map(|&id| vec![T::zero(); span(id).len])
            .collect(),
    };
    (node.rule)(&mut cx);
    for (&id, grad) in node.inputs.iter().zip(&cx.grads) {
        if !nodes[id.index()].needs_grad {
            continue;
        }
        let add = core::mem::replace(&mut written[id.index()], true);
        // × 1 is exact: this is the adjoint accumulation kernel.
        kernels::scale(
            par,
            grad,
            T::one(),
            Sink {
                dst: &mut lower[span(id).range()],
                add,
            },
        );
    }
}
