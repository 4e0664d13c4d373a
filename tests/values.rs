//! Values a fused run did not store: a flush keeps in memory only the values
//! something reads next (the run's last node, what the caller asked for, what
//! the backward sweep's rules read) and drops the others. Whatever asks for a
//! dropped value later gets it recomputed, bitwise as the eager tape has it:
//! `value()` on a free tape (computed into the arena), `value()` while a
//! `Grads` or another value borrows the tape (computed aside), an op recorded
//! on it, and a custom op's backward rule.
//!
//! Every tape here first holds NaN where the run's values will go, so a
//! value read without being recomputed shows.

mod common;

use common::{bits, poisoned};
use dualtape::{Tape, Var};

/// Several fusion blocks and a tail.
const N: usize = 10_000;

fn xs() -> Vec<f64> {
    (0..N).map(|i| 0.5 + (i as f64 * 0.37).sin()).collect()
}

/// The chain the tests read: `sq`, `neg`, `e` and `t` are intermediates the
/// backward sweep does not read (only `e`'s own rule reads its output).
fn chain(x: Var<'_, f64>) -> [Var<'_, f64>; 5] {
    let sq = x * x;
    let neg = -sq;
    let e = neg.exp();
    let t = e * 3.0 + x;
    let out = t * 0.5;
    [sq, neg, e, t, out]
}

/// Values and gradient of [`chain`] on a fresh eager tape: the reference.
fn eager() -> (Vec<Vec<u64>>, Vec<u64>) {
    let tape = Tape::<f64>::new();
    tape.set_fusion(false);
    let x = tape.var(&xs());
    let nodes = chain(x);
    let values = nodes.iter().map(|v| bits(&v.value())).collect();
    let g = nodes[4].sum().backward();
    (values, bits(g.wrt(x)))
}

#[test]
fn values_read_while_the_gradients_are_alive_are_computed_aside() {
    let (want_values, want_grad) = eager();
    let tape = poisoned(10 * N, true);
    let x = tape.var(&xs());
    let nodes = chain(x);
    let g = nodes[4].sum().backward();
    // The tape is borrowed by `g`: dropped values are computed aside.
    let got: Vec<Vec<u64>> = nodes.iter().map(|v| bits(&v.value())).collect();
    assert_eq!(got, want_values);
    assert_eq!(bits(g.wrt(x)), want_grad);
    // So is a `Var`'s Debug form, which shows its values.
    assert!(format!("{:?}", nodes[0]).contains("value"));
    drop(g);
    // With the tape free they are computed into it, the same bits.
    let got: Vec<Vec<u64>> = nodes.iter().map(|v| bits(&v.value())).collect();
    assert_eq!(got, want_values);
}

#[test]
fn two_values_borrowed_at_once() {
    let (want_values, _) = eager();
    let tape = poisoned(10 * N, true);
    let x = tape.var(&xs());
    let [sq, neg, ..] = chain(x);
    let (a, b) = (sq.value(), neg.value()); // the second while the first borrows
    assert_eq!(bits(&a), want_values[0]);
    assert_eq!(bits(&b), want_values[1]);
}

#[test]
fn an_op_recorded_on_a_dropped_value_recomputes_it() {
    let run = |tape: &Tape<f64>| {
        let x = tape.var(&xs());
        let [sq, neg, _, t, out] = chain(x);
        let _ = out.value(); // flushes the chain: sq, neg and t are dropped
        let later = (sq * neg + t).sum(); // reads all three
        let g = later.backward();
        (bits(&later.value()), bits(g.wrt(x)))
    };
    let eager = poisoned(0, false);
    let fused = poisoned(12 * N, true);
    assert_eq!(run(&fused), run(&eager));
}

#[test]
fn a_custom_op_reads_a_dropped_input() {
    let run = |tape: &Tape<f64>| {
        let x = tape.var(&xs());
        let [sq, _, _, _, out] = chain(x);
        let _ = out.value(); // sq is dropped
        // cube(sq) by hand, from x (sq stays dropped), its backward reading
        // the input's values.
        let cube: Vec<f64> = xs().iter().map(|x| (x * x).powi(3)).collect();
        let c = tape.custom(&[sq], &cube, |cx| {
            for i in 0..cx.output().len() {
                let v = cx.input(0)[i];
                cx.grad_input_mut(0)[i] = 3.0 * v * v * cx.grad_output()[i];
            }
        });
        let g = c.sum().backward();
        bits(g.wrt(x))
    };
    let eager = poisoned(0, false);
    let fused = poisoned(12 * N, true);
    let want = run(&eager);
    assert!(want.iter().all(|b| !f64::from_bits(*b).is_nan()));
    assert_eq!(run(&fused), want);
}

/// Dropped nodes that share dropped inputs (`z₊ = z + 2z`, thirteen times):
/// read while the gradients borrow the tape, each is computed once from the
/// others' fresh values (not once per path to it), bitwise as the eager tape
/// has them.
#[test]
fn values_computed_aside_share_their_inputs() {
    let run = |tape: &Tape<f64>| {
        let x = tape.var(&xs());
        let mut zs = vec![x * 2.0];
        for _ in 0..13 {
            let z = *zs.last().unwrap();
            zs.push(z + z * 2.0); // scale and add read no values: all dropped
        }
        let g = zs.last().unwrap().sum().backward();
        let values: Vec<Vec<u64>> = zs.iter().map(|z| bits(&z.value())).collect();
        (values, bits(g.wrt(x)))
    };
    let eager = poisoned(0, false);
    let fused = poisoned(30 * N, true);
    assert_eq!(run(&fused), run(&eager));
}
