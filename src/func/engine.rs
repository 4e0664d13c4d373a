//! How the functional API runs: record the inputs on a tape of the right
//! scalar, call the closure, sweep or read tangents. Everything here works on
//! a list of input vectors; the one-input API passes a list of one.

use super::Matrix;
use crate::dual::{Dual, DualVec};
use crate::real::{Math, Real};
use crate::tape::{Grads, Tape, Var};

/// The closure every function takes, on a tape of `S`.
pub(crate) trait Func<S: Real>: for<'t, 'a> Fn(&'a [Var<'t, S>]) -> Var<'t, S> {}
impl<S: Real, F: for<'t, 'a> Fn(&'a [Var<'t, S>]) -> Var<'t, S>> Func<S> for F {}

/// The input vectors, checked: at least one, none empty.
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'x, T> {
    /// The calling function's name, for panic messages.
    pub op: &'static str,
    xs: &'x [&'x [T]],
    /// Elements across all inputs.
    pub n: usize,
}

impl<'x, T: Real> Inputs<'x, T> {
    #[track_caller]
    pub fn new(op: &'static str, xs: &'x [&'x [T]]) -> Self {
        assert!(
            !xs.is_empty(),
            "dualtape: {op}: no inputs given (the slice of inputs is empty)"
        );
        for (k, x) in xs.iter().enumerate() {
            assert!(
                !x.is_empty(),
                "dualtape: {op}: input {k} is empty (0 elements); every input needs at least one"
            );
        }
        let n = xs.iter().map(|x| x.len()).sum();
        Inputs { op, xs, n }
    }

    /// The input vectors.
    pub fn slices(&self) -> &'x [&'x [T]] {
        self.xs
    }

    /// Records every input as a leaf of `tape`; element `j` (counted across
    /// inputs) as `lift(j, xⱼ)`.
    pub fn record<'t, S: Real>(
        &self,
        tape: &'t Tape<S>,
        mut lift: impl FnMut(usize, T) -> S,
    ) -> Vec<Var<'t, S>> {
        let mut j = 0;
        let mut buf = Vec::new();
        self.xs
            .iter()
            .map(|x| {
                buf.clear();
                buf.extend(x.iter().map(|&v| {
                    j += 1;
                    lift(j - 1, v)
                }));
                tape.var(&buf)
            })
            .collect()
    }

    /// `len` checked against the input's length, naming the vector.
    #[track_caller]
    fn check_len(&self, what: &str, len: usize) {
        assert!(
            len == self.n,
            "dualtape: {}: {what} has {len} elements, the input has {}; they must match",
            self.op,
            self.n
        );
    }
}

/// `f(vars)`, checked to be recorded on `tape`.
#[track_caller]
pub(crate) fn call<'t, S: Real, F: Func<S>>(
    op: &str,
    tape: &'t Tape<S>,
    f: &F,
    vars: &[Var<'t, S>],
) -> Var<'t, S> {
    let y = f(vars);
    assert!(
        core::ptr::eq(y.tape(), tape),
        "dualtape: {op}: the closure returned a Var of another tape; its result must be \
         computed from the Vars it is given"
    );
    y
}

/// Panics unless `y` is a scalar.
#[track_caller]
fn scalar<S: Real>(op: &str, y: Var<'_, S>) {
    let m = y.len();
    assert!(
        m == 1,
        "dualtape: {op}: f(x) has {m} elements; {op} needs a scalar output (1 element)"
    );
}

/// Calls `put(j, adjoint of xⱼ)` for every input element, `j` counted across inputs.
fn each_adjoint<'t, S: Real>(g: &Grads<'t, S>, vars: &[Var<'t, S>], mut put: impl FnMut(usize, S)) {
    let mut j = 0;
    for &v in vars {
        for &a in g.wrt(v) {
            put(j, a);
            j += 1;
        }
    }
}

/// The unit tangents `e₀ … e_{LANES−1}`, one per lane.
fn unit_lanes<T: Real>() -> Vec<T::Lanes> {
    let mut buf = vec![T::zero(); T::LANES];
    (0..T::LANES)
        .map(|k| {
            buf.fill(T::zero());
            buf[k] = T::one();
            T::load(&buf)
        })
        .collect()
}

/// The tangent of element `j` in the pass whose lanes seed columns `c0..`.
fn seed<T: Real>(units: &[T::Lanes], j: usize, c0: usize) -> T::Lanes {
    match j.checked_sub(c0) {
        Some(k) if k < units.len() => units[k],
        _ => T::Lanes::splat(T::zero()),
    }
}

#[track_caller]
pub(crate) fn value_and_grad<T: Real>(op: &str, f: &impl Func<T>, x: Inputs<'_, T>) -> (T, Vec<T>) {
    let tape = Tape::new();
    let vars = x.record(&tape, |_, v| v);
    let y = call(op, &tape, f, &vars);
    scalar(op, y);
    let value = y.item();
    let mut grad = vec![T::zero(); x.n];
    each_adjoint(&y.backward(), &vars, |j, a| grad[j] = a);
    (value, grad)
}

#[track_caller]
pub(crate) fn vjp<T: Real>(f: &impl Func<T>, x: Inputs<'_, T>, u: &[T]) -> Vec<T> {
    let tape = Tape::new();
    let vars = x.record(&tape, |_, v| v);
    let y = call(x.op, &tape, f, &vars);
    let m = y.len();
    assert!(
        u.len() == m,
        "dualtape: vjp: the cotangent u has {} elements, the output f(x) has {m}; they must match",
        u.len()
    );
    let mut out = vec![T::zero(); x.n];
    each_adjoint(&y.backward_with(u), &vars, |j, a| out[j] = a);
    out
}

#[track_caller]
pub(crate) fn jvp<T: Real>(f: &impl Func<Dual<T>>, x: Inputs<'_, T>, v: &[T]) -> Vec<T> {
    x.check_len("the tangent v", v.len());
    let tape = Tape::new();
    let vars = x.record(&tape, |j, xj| Dual::new(xj, v[j]));
    let y = call(x.op, &tape, f, &vars);
    y.value().iter().map(|d| d.eps).collect()
}

#[track_caller]
pub(crate) fn hvp<T: Real>(f: &impl Func<Dual<T>>, x: Inputs<'_, T>, v: &[T]) -> Vec<T> {
    x.check_len("the vector v", v.len());
    let tape = Tape::new();
    let vars = x.record(&tape, |j, xj| Dual::new(xj, v[j]));
    let y = call(x.op, &tape, f, &vars);
    scalar(x.op, y);
    let mut out = vec![T::zero(); x.n];
    each_adjoint(&y.backward(), &vars, |j, a| out[j] = a.eps);
    out
}

#[track_caller]
pub(crate) fn jacobian_rev<T: Real>(f: &impl Func<T>, x: Inputs<'_, T>) -> Matrix<T> {
    let tape = Tape::new();
    let vars = x.record(&tape, |_, v| v);
    let y = call(x.op, &tape, f, &vars);
    let m = y.len();
    let mut jac = Matrix::filled(m, x.n, T::zero());
    let mut seed = vec![T::zero(); m];
    for i in 0..m {
        seed[i] = T::one();
        let row = jac.row_mut(i);
        each_adjoint(&y.backward_with(&seed), &vars, |j, a| row[j] = a);
        seed[i] = T::zero();
    }
    jac
}

#[track_caller]
pub(crate) fn jacobian_fwd<T: Real>(
    op: &str,
    f: &impl Func<DualVec<T>>,
    x: Inputs<'_, T>,
) -> Matrix<T> {
    let (units, n) = (unit_lanes::<T>(), x.n);
    let mut lanes = vec![T::zero(); T::LANES];
    let mut tape = Tape::new();
    let mut jac: Option<Matrix<T>> = None;
    for c0 in (0..n).step_by(T::LANES) {
        tape.clear();
        let vars = x.record(&tape, |j, xj| Dual::new(xj, seed::<T>(&units, j, c0)));
        let y = call(op, &tape, f, &vars);
        let m = y.len();
        let jac = jac.get_or_insert_with(|| Matrix::filled(m, n, T::zero()));
        assert!(
            jac.rows() == m,
            "dualtape: {op}: f(x) has {m} elements on this pass and had {} on the first; \
             f must return the same length every time",
            jac.rows()
        );
        let width = T::LANES.min(n - c0);
        for (i, d) in y.value().iter().enumerate() {
            T::store(d.eps, &mut lanes);
            jac.row_mut(i)[c0..c0 + width].copy_from_slice(&lanes[..width]);
        }
    }
    jac.expect("at least one input element, so at least one pass")
}

#[track_caller]
pub(crate) fn jacobian<T: Real>(f: &impl Func<DualVec<T>>, x: Inputs<'_, T>) -> Matrix<T> {
    let (units, n) = (unit_lanes::<T>(), x.n);
    let tape = Tape::new();
    // Zero tangents: every value and every local partial has tangent 0.
    let vars = x.record(&tape, |_, v| DualVec::constant(v));
    let y = call(x.op, &tape, f, &vars);
    let m = y.len();
    if m >= n {
        return jacobian_fwd(x.op, f, x);
    }
    // The sweep is linear in the seed, and with zero-tangent partials
    // (p, 0)·(g, ġ) = (p·g, p·ġ): the seed's value and each tangent lane carry
    // a row of their own through one sweep, LANES + 1 rows at a time.
    let mut jac = Matrix::filled(m, n, T::zero());
    let mut seeds = vec![DualVec::constant(T::zero()); m];
    let mut lanes = vec![T::zero(); T::LANES];
    for r0 in (0..m).step_by(T::LANES + 1) {
        let extra = T::LANES.min(m - r0 - 1);
        seeds.fill(DualVec::constant(T::zero()));
        seeds[r0].re = T::one();
        for k in 0..extra {
            seeds[r0 + 1 + k].eps = units[k];
        }
        each_adjoint(&y.backward_with(&seeds), &vars, |j, a| {
            jac[(r0, j)] = a.re;
            T::store(a.eps, &mut lanes);
            for (k, &l) in lanes[..extra].iter().enumerate() {
                jac[(r0 + 1 + k, j)] = l;
            }
        });
    }
    jac
}

#[track_caller]
pub(crate) fn hessian<T: Real>(f: &impl Func<DualVec<T>>, x: Inputs<'_, T>) -> Matrix<T> {
    let (units, n) = (unit_lanes::<T>(), x.n);
    let mut lanes = vec![T::zero(); T::LANES];
    let mut hess = Matrix::filled(n, n, T::zero());
    let mut tape = Tape::new();
    for c0 in (0..n).step_by(T::LANES) {
        tape.clear();
        let vars = x.record(&tape, |j, xj| Dual::new(xj, seed::<T>(&units, j, c0)));
        let y = call(x.op, &tape, f, &vars);
        scalar(x.op, y);
        let width = T::LANES.min(n - c0);
        each_adjoint(&y.backward(), &vars, |j, a| {
            T::store(a.eps, &mut lanes);
            hess.row_mut(j)[c0..c0 + width].copy_from_slice(&lanes[..width]);
        });
    }
    hess
}
