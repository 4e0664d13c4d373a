//! Ops on vars of one element: the tape records and sweeps them on scalars
//! read straight from its arenas, without its kernels. Their values and
//! gradients must still be the bits of the kernels' one-element arithmetic,
//! which is their scalar twins' (`dualtape::kernels::scalar`): every unary
//! and binary op, on every pair of edge-case values, for f32 and f64.
//!
//! Each case also runs with the op's input read a second time (`op(x) + x`),
//! so that the input's adjoint is written first and added to after, and with
//! the second operand a constant, which takes no gradient.

mod common;

use common::{TestReal, bitwise_mismatch, special_values};
use dualtape::Tape;
use dualtape::kernels::{Operand, Sink, scalar};
use dualtape::rules::{self, BinaryRule, UnaryRule};

/// A seed other than 1 (unary cases also run with 1), so that a rule that
/// ignored its seed shows.
const SEED: f64 = -1.5;

/// The values every case runs on: the edge cases and a few ordinary numbers.
fn values<T: TestReal>() -> Vec<T> {
    let mut v = special_values::<T>();
    v.extend([0.3, -0.7, 4.25].map(T::lit));
    v
}

/// `(y, dy/dx·g)` by the scalar twins, with `dx` overwritten.
fn unary_twin<T: TestReal, R: UnaryRule<T>>(rule: R, x: T, g: T) -> (T, T) {
    let (mut y, mut p, mut dx) = ([T::zero()], [T::zero()], [T::zero()]);
    scalar::unary(rule, &[x], &mut y, &mut p);
    scalar::unary_backward(rule, &[x], &y, &[g], Sink::write(&mut dx));
    (y[0], dx[0])
}

/// Holds the tape's `f` at every value and seed to `rule`'s twin: the value,
/// the gradient, and the gradient of `f(x) + x`, which the sweep computes as
/// `g` first and `f'(x)·g` added to it.
fn unary_case<T: TestReal, R: UnaryRule<T>>(
    name: &str,
    rule: R,
    f: impl for<'t> Fn(dualtape::Var<'t, T>) -> dualtape::Var<'t, T>,
) {
    let mut tape = Tape::<T>::new();
    for x in values::<T>() {
        for g in [T::one(), T::lit(SEED)] {
            let (y, dx) = unary_twin(rule, x, g);
            let (mut add, mut ga) = ([T::zero()], [g]);
            scalar::binary(
                rules::Add,
                Operand::Slice(&[y]),
                Operand::Slice(&[x]),
                &mut add,
            );
            scalar::unary_backward(rule, &[x], &[y], &[g], Sink::add(&mut ga));

            tape.clear();
            let v = tape.var(&[x]);
            let out = f(v);
            let grads = out.backward_with(&[g]);
            let got = [out.item(), grads.wrt(v)[0]];
            drop(grads);
            let twice = f(v) + v;
            let got_twice = [twice.item(), twice.backward_with(&[g]).wrt(v)[0]];
            let what = format!("{name} ({}) at x = {x:?}, seed {g:?}", T::NAME);
            if let Some(m) = bitwise_mismatch(&got, &[y, dx]) {
                panic!("{what}: [value, gradient] {m}");
            }
            if let Some(m) = bitwise_mismatch(&got_twice, &[add[0], ga[0]]) {
                panic!("{what}, read twice: [value, gradient] {m}");
            }
        }
    }
}

/// Holds the tape's `a ∘ b` at every pair of values to `rule`'s twin: the
/// value and both gradients; with `b` a constant; `a ∘ a` against the twin of
/// the same-operand rule; and `(a ∘ b) + a`, whose `a` adjoint is written,
/// then added to.
fn binary_case<T: TestReal, R: BinaryRule<T>>(
    name: &str,
    rule: R,
    f: impl for<'t> Fn(dualtape::Var<'t, T>, dualtape::Var<'t, T>) -> dualtape::Var<'t, T>,
) {
    let mut tape = Tape::<T>::new();
    let g = T::lit(SEED);
    for a in values::<T>() {
        for b in values::<T>() {
            let (sa, sb) = (Operand::Slice(&[a][..]), Operand::Slice(&[b][..]));
            let mut y = [T::zero()];
            scalar::binary(rule, sa, sb, &mut y);
            let (mut da, mut db) = ([T::zero()], [T::zero()]);
            let (ra, rb) = (Sink::write(&mut da), Sink::write(&mut db));
            scalar::binary_backward(rule, sa, sb, &y, &[g], Some(ra), Some(rb));
            let mut da_twice = [g];
            let ra = Sink::add(&mut da_twice);
            scalar::binary_backward(rule, sa, sb, &y, &[g], Some(ra), None);
            let mut add = [T::zero()];
            scalar::binary(rules::Add, Operand::Slice(&y), sa, &mut add);

            tape.clear();
            let (va, vb, cb) = (tape.var(&[a]), tape.var(&[b]), tape.constant(&[b]));
            let out = f(va, vb);
            let grads = out.backward_with(&[g]);
            let got = [out.item(), grads.wrt(va)[0], grads.wrt(vb)[0]];
            drop(grads);
            let with_constant = f(va, cb);
            let got_constant = with_constant.backward_with(&[g]).wrt(va)[0];
            let twice = f(va, vb) + va;
            let got_twice = [twice.item(), twice.backward_with(&[g]).wrt(va)[0]];

            let what = format!("{name} ({}) at a = {a:?}, b = {b:?}", T::NAME);
            if let Some(m) = bitwise_mismatch(&got, &[y[0], da[0], db[0]]) {
                panic!("{what}: [value, da, db] {m}");
            }
            if let Some(m) = bitwise_mismatch(&[got_constant], &da) {
                panic!("{what}, b constant: da {m}");
            }
            if let Some(m) = bitwise_mismatch(&got_twice, &[add[0], da_twice[0]]) {
                panic!("{what}, a read twice: [value, da] {m}");
            }
        }
        // a ∘ a: one node reading one input twice.
        let (mut y, mut da) = ([T::zero()], [T::zero()]);
        scalar::binary(rule, Operand::Slice(&[a]), Operand::Slice(&[a]), &mut y);
        scalar::binary_backward_same(rule, &[a], &y, &[g], Sink::write(&mut da));
        tape.clear();
        let va = tape.var(&[a]);
        let out = f(va, va);
        let got = [out.item(), out.backward_with(&[g]).wrt(va)[0]];
        if let Some(m) = bitwise_mismatch(&got, &[y[0], da[0]]) {
            panic!(
                "{name} ({}) of a = {a:?} with itself: [value, da] {m}",
                T::NAME
            );
        }
    }
}

fn every_unary_op<T: TestReal>() {
    let (c, p) = (T::lit(-2.5), T::lit(0.75));
    unary_case::<T, _>("exp", rules::Exp, |x| x.exp());
    unary_case::<T, _>("ln", rules::Ln, |x| x.ln());
    unary_case::<T, _>("sqrt", rules::Sqrt, |x| x.sqrt());
    unary_case::<T, _>("sin", rules::Sin, |x| x.sin());
    unary_case::<T, _>("cos", rules::Cos, |x| x.cos());
    unary_case::<T, _>("tanh", rules::Tanh, |x| x.tanh());
    unary_case::<T, _>("sigmoid", rules::Sigmoid, |x| x.sigmoid());
    unary_case::<T, _>("relu", rules::Relu, |x| x.relu());
    unary_case::<T, _>("abs", rules::Abs, |x| x.abs());
    unary_case::<T, _>("recip", rules::Recip, |x| x.recip());
    for n in [-3, 0, 2, 3, 7] {
        unary_case::<T, _>(&format!("powi({n})"), rules::Powi { n }, move |x| x.powi(n));
    }
    unary_case::<T, _>("powf", rules::Powf { p }, move |x| x.powf(p));
    unary_case::<T, _>("x·c", rules::Scale { c }, move |x| x * c);
    unary_case::<T, _>("−x", rules::Scale { c: -T::one() }, |x| -x);
    unary_case::<T, _>("x + c", rules::Offset { c }, move |x| x + c);
    unary_case::<T, _>("c − x", rules::SubFrom { c }, move |x| x.scalar_rsub(c));
    unary_case::<T, _>("x / c", rules::DivBy { c }, move |x| x / c);
    unary_case::<T, _>("c / x", rules::DivInto { c }, move |x| x.scalar_rdiv(c));
}

fn every_binary_op<T: TestReal>() {
    binary_case::<T, _>("a + b", rules::Add, |a, b| a + b);
    binary_case::<T, _>("a − b", rules::Sub, |a, b| a - b);
    binary_case::<T, _>("a·b", rules::Mul, |a, b| a * b);
    binary_case::<T, _>("a / b", rules::Div, |a, b| a / b);
    binary_case::<T, _>("a^b", rules::Pow, |a, b| a.pow(b));
}

#[test]
fn unary_ops_on_one_element_are_the_kernels_bits() {
    every_unary_op::<f64>();
    every_unary_op::<f32>();
}

#[test]
fn binary_ops_on_one_element_are_the_kernels_bits() {
    every_binary_op::<f64>();
    every_binary_op::<f32>();
}

/// `y = (Σ (a·b))·a` on one element each: the sweep leaves its scalar loop
/// at the sum (a reduction, which its own rule handles) and comes back to it
/// for `a·b`. The gradients must be the twins': `a` written by the top
/// product, then added to by the lower one.
fn handover_at_a_reduction<T: TestReal>() {
    let mut tape = Tape::<T>::new();
    let g = T::lit(SEED);
    for a in values::<T>() {
        for b in [T::lit(0.3), T::lit(-2.0), T::lit(1e-30)] {
            tape.clear();
            let (va, vb) = (tape.var(&[a]), tape.var(&[b]));
            let m = va * vb;
            let s = m.sum();
            let y = s * va;
            let grads = y.backward_with(&[g]);
            let got = [grads.wrt(va)[0], grads.wrt(vb)[0]];
            let (m, s, y) = (m.value()[0], s.value()[0], y.value()[0]);

            let (mut ds, mut da, mut db) = ([T::zero()], [T::zero()], [T::zero()]);
            let (ss, sa) = (Operand::Slice(&[s][..]), Operand::Slice(&[a][..]));
            let (w_ds, w_da) = (Sink::write(&mut ds), Sink::write(&mut da));
            scalar::binary_backward(rules::Mul, ss, sa, &[y], &[g], Some(w_ds), Some(w_da));
            // d Σm = ds, then d(a·b) adds to a and writes b.
            let sb = Operand::Slice(&[b][..]);
            let (add_da, w_db) = (Sink::add(&mut da), Sink::write(&mut db));
            scalar::binary_backward(rules::Mul, sa, sb, &[m], &ds, Some(add_da), Some(w_db));
            if let Some(e) = bitwise_mismatch(&got, &[da[0], db[0]]) {
                panic!(
                    "(Σ a·b)·a ({}) at a = {a:?}, b = {b:?}: [da, db] {e}",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn the_sweep_leaves_and_rejoins_its_scalar_loop_at_a_reduction() {
    handover_at_a_reduction::<f64>();
    handover_at_a_reduction::<f32>();
}
