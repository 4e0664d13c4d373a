//! Inputs that stay on the tape across evaluations: `Tape::truncate` forgets
//! the evaluation and keeps the nodes before it, `Tape::get` hands a kept
//! node out again, `Tape::update` changes an input's values in place. Every
//! evaluation on a truncated tape must give the bits a fresh tape gives, fused
//! or not, whatever state the forgotten nodes were in.

use std::rc::Rc;

mod common;

use common::{bits, poisoned};
use dualtape::{Tape, Var};

/// Several fusion blocks and a tail.
const LONG: usize = 10_000;

fn xs(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 + (i as f64 * 0.37 + phase).sin())
        .collect()
}

/// A chain of elementwise ops and a sum: its value and gradient, as bits.
fn evaluate(x: Var<'_, f64>) -> (u64, Vec<u64>) {
    evaluate_on(x, x)
}

/// The chain of [`evaluate`] on `v`, and its gradient with respect to `x`.
fn evaluate_on<'t>(v: Var<'t, f64>, x: Var<'t, f64>) -> (u64, Vec<u64>) {
    let sq = v * v;
    let y = ((-sq).exp() * 3.0 + v.sin() / (sq + 1.0)).sum();
    let grads = y.backward();
    (y.item().to_bits(), bits(grads.wrt(x)))
}

/// [`evaluate`] on a fresh tape: the reference.
fn fresh(x: &[f64], fusion: bool) -> (u64, Vec<u64>) {
    let tape = Tape::<f64>::new();
    tape.set_fusion(fusion);
    evaluate(tape.var(x))
}

#[test]
fn a_truncated_tape_evaluates_again_on_its_kept_inputs() {
    for fusion in [true, false] {
        for n in [1, 16, LONG] {
            let x = xs(n, 0.0);
            let want = fresh(&x, fusion);
            let mut tape = Tape::<f64>::new();
            tape.set_fusion(fusion);
            let id = tape.var(&x).id();
            for round in 0..4 {
                tape.truncate(1);
                assert_eq!(tape.len(), 1);
                let xv = tape.get(id).expect("the input is kept");
                assert_eq!(bits(&xv.value()), bits(&x), "round {round}");
                assert_eq!(evaluate(xv), want, "fusion {fusion}, n {n}, round {round}");
            }
        }
    }
}

#[test]
fn truncate_past_the_end_changes_nothing_and_to_zero_clears() {
    let mut tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]).id();
    let y = (tape.get(x).unwrap() * 2.0).id();
    tape.truncate(2);
    tape.truncate(7);
    assert_eq!(tape.len(), 2);
    assert_eq!(&*tape.get(y).unwrap().value(), &[2.0, 4.0]);
    tape.truncate(0);
    assert!(tape.is_empty());
    assert!(tape.get(x).is_none());
    // Recording starts over at the front, as after `clear`.
    let z = tape.var(&[5.0]);
    assert_eq!((z.id(), z.item()), (x, 5.0));
}

#[test]
fn get_is_none_past_the_last_node() {
    let mut tape = Tape::<f32>::new();
    let x = tape.var(&[1.0]);
    let y = x.exp();
    assert_eq!(tape.get(y.id()).map(|v| v.item()), Some(1.0f32.exp()));
    let (xid, yid) = (x.id(), y.id());
    tape.truncate(1);
    assert!(tape.get(xid).is_some());
    assert!(tape.get(yid).is_none());
}

/// Truncating inside a pending fused run computes the kept deferred nodes
/// (those a flush leaves out of memory are recomputed when read or recorded
/// on), and forgets the others.
#[test]
fn truncating_inside_a_fused_run_keeps_the_kept_nodes_values() {
    let x = xs(LONG, 1.0);
    let reference = {
        let tape = Tape::<f64>::new();
        tape.set_fusion(false);
        let xv = tape.var(&x);
        let a = xv * xv;
        let b = a.exp();
        let (ea, eb) = (evaluate_on(a, xv), evaluate_on(b, xv));
        (ea, eb, bits(&a.value()), bits(&b.value()))
    };
    for pending in [true, false] {
        let mut tape = poisoned(10 * LONG, true);
        let xv = tape.var(&x);
        let a = xv * xv;
        let b = a.exp();
        let c = b.sin() * 2.0;
        if !pending {
            // A flush that keeps `c`'s values and what the sweep reads: `a`
            // (read by no rule: `exp`'s reads its output) is dropped.
            let _ = c.sum();
        }
        let (xid, aid, bid) = (xv.id(), a.id(), b.id());
        tape.truncate(3);
        let xv = tape.get(xid).unwrap();
        let (a, b) = (tape.get(aid).unwrap(), tape.get(bid).unwrap());
        // Recorded on before any read: the dropped `a` must be recomputed.
        let (ea, eb) = (evaluate_on(a, xv), evaluate_on(b, xv));
        let (av, bv) = (bits(&a.value()), bits(&b.value()));
        assert_eq!((ea, eb, av, bv), reference, "pending {pending}");
    }
}

/// A deferred run that began after the cut is forgotten whole.
#[test]
fn truncating_before_a_fused_run_forgets_it() {
    let x = xs(LONG, 2.0);
    let want = fresh(&x, false);
    let mut tape = poisoned(10 * LONG, true);
    let xv = tape.var(&x);
    let _computed = xv.sum();
    let _deferred = xv.exp() * 2.0;
    let xid = xv.id();
    tape.truncate(1);
    assert_eq!(evaluate(tape.get(xid).unwrap()), want);
}

#[test]
fn truncate_forgets_the_custom_ops_and_retained_gradients_after_it() {
    let mut tape = Tape::<f64>::new();
    let x = tape.var(&[0.5, -1.0]);
    let out: Vec<f64> = x.value().iter().map(|v| v * v * v).collect();
    // x³ by hand, kept; a second custom op after the cut.
    let cube = tape.custom(&[x], &out, |cx| {
        for i in 0..cx.output().len() {
            let v = cx.input(0)[i];
            cx.grad_input_mut(0)[i] = 3.0 * v * v * cx.grad_output()[i];
        }
    });
    let (xid, cid) = (x.id(), cube.id());
    // The forgotten op's rule holds a counted reference: truncating drops it.
    let held = Rc::new(());
    let in_rule = Rc::clone(&held);
    let twice = tape.custom(&[cube], &[0.0, 0.0], move |_| {
        let _ = &in_rule;
        panic!("forgotten")
    });
    let _ = twice.retain_grad();
    assert_eq!(Rc::strong_count(&held), 2);
    tape.truncate(2);
    assert_eq!(Rc::strong_count(&held), 1);
    let (x, cube) = (tape.get(xid).unwrap(), tape.get(cid).unwrap());
    // A custom op recorded after the cut takes the forgotten one's place; the
    // kept one keeps its own rule.
    let neg = tape.custom(&[x], &[-0.5, 1.0], |cx| {
        for i in 0..2 {
            cx.grad_input_mut(0)[i] = -cx.grad_output()[i];
        }
    });
    let g = (cube * 2.0 + neg).sum().backward();
    // d/dx (2x³ − x) = 6x² − 1
    assert_eq!(g.wrt(x), &[0.5, 5.0]);
}

#[test]
fn update_steps_an_input_by_its_gradient() {
    let mut tape = Tape::<f64>::new();
    let w = tape.var(&[1.0, -2.0, 0.25]).id();
    let data = tape.constant(&[3.0, 1.0, -4.0]).id();
    let inputs = tape.len();
    for _ in 0..60 {
        let (w, data) = (tape.get(w).unwrap(), tape.get(data).unwrap());
        let loss = ((w - data) * (w - data)).sum();
        drop(loss.backward());
        tape.update(w.id(), |w, grad| {
            let grad = grad.expect("a sweep just ran");
            w.iter_mut().zip(grad).for_each(|(w, g)| *w -= 0.25 * g);
        });
        assert_eq!(tape.len(), inputs, "the evaluation is forgotten");
    }
    let w = tape.get(w).unwrap();
    for (w, d) in w.value().iter().zip([3.0, 1.0, -4.0]) {
        assert!((w - d).abs() < 1e-12, "{w} vs {d}");
    }
}

#[test]
fn update_hands_a_gradient_only_when_a_sweep_computed_one() {
    let mut tape = Tape::<f64>::new();
    let w = tape.var(&[2.0]).id();
    let c = tape.constant(&[7.0]).id();
    // No sweep yet.
    tape.update(w, |v, g| {
        assert_eq!((&*v, g), (&[2.0][..], None));
        v[0] = 3.0;
    });
    let y = tape.get(w).unwrap() * tape.get(c).unwrap();
    assert_eq!(y.item(), 21.0);
    drop(y.backward());
    // A constant has no gradient; its new values reach the next evaluation.
    tape.update(c, |v, g| {
        assert!(g.is_none());
        v[0] = 5.0;
    });
    // The product computed from the old 7 is forgotten: it was the only
    // computed node. The sweep's gradients stay with the inputs, at the old
    // point: ∂(w·c)/∂w = 7.
    assert_eq!(tape.len(), 2);
    tape.update(w, |_, g| assert_eq!(g, Some(&[7.0][..])));
    // An input recorded where the sweep's output was has no gradient yet.
    let z = tape.var(&[1.0]).id();
    assert_eq!(z.index(), 2);
    tape.update(z, |_, g| assert!(g.is_none()));
    let y = tape.get(w).unwrap() * tape.get(c).unwrap();
    assert_eq!(y.item(), 15.0);
    drop(y.backward());
    let got = tape.update(w, |_, g| g.map(<[f64]>::to_vec));
    assert_eq!(got, Some(vec![5.0]));
    // The sweep's output came after `z`: its gradient is zero there.
    tape.update(z, |_, g| assert_eq!(g, Some(&[0.0][..])));
}

#[test]
fn update_keeps_inputs_recorded_before_the_first_computed_node_after_it() {
    let mut tape = Tape::<f64>::new();
    let a = tape.var(&[1.0]).id();
    let b = tape.var(&[2.0]).id();
    let ab = (tape.get(a).unwrap() + tape.get(b).unwrap()).id();
    let c = tape.var(&[3.0]).id();
    let abc = (tape.get(ab).unwrap() * tape.get(c).unwrap()).id();
    assert_eq!(tape.len(), 5);
    // `c` changes: `abc` read it and goes; `ab` did not, and stays.
    tape.update(c, |v, _| v[0] = 4.0);
    assert_eq!(tape.len(), 4);
    assert!(tape.get(abc).is_none());
    assert_eq!(tape.get(ab).unwrap().item(), 3.0);
    // `a` changes: everything from `ab` on goes; `b` stays.
    tape.update(a, |v, _| v[0] = 10.0);
    assert_eq!(tape.len(), 2);
    assert_eq!(tape.get(b).unwrap().item(), 2.0);
    let sum = tape.get(a).unwrap() + tape.get(b).unwrap();
    assert_eq!(sum.item(), 12.0);
}

/// An input recorded inside a pending fused run, updated: the run is cut
/// before the first node that read it, and the next evaluation sees the new
/// values.
#[test]
fn update_of_an_input_inside_a_fused_run() {
    let (x, w0, w1) = (xs(LONG, 0.3), xs(LONG, 0.9), xs(LONG, 1.7));
    let want = {
        let tape = Tape::<f64>::new();
        tape.set_fusion(false);
        let (xv, wv) = (tape.var(&x), tape.var(&w1));
        let g = (xv.exp() * wv).sum().backward();
        (bits(g.wrt(xv)), bits(g.wrt(wv)))
    };
    let mut tape = poisoned(10 * LONG, true);
    let xv = tape.var(&x);
    let e = xv.exp();
    let wv = tape.var(&w0);
    let _ = e * wv;
    let (xid, eid, wid) = (xv.id(), e.id(), wv.id());
    tape.update(wid, |w, _| w.copy_from_slice(&w1));
    assert_eq!(tape.len(), 3);
    let (xv, e, wv) = (
        tape.get(xid).unwrap(),
        tape.get(eid).unwrap(),
        tape.get(wid).unwrap(),
    );
    let g = (e * wv).sum().backward();
    assert_eq!((bits(g.wrt(xv)), bits(g.wrt(wv))), want);
}

#[test]
#[should_panic(expected = "update: node 1 is not an input")]
fn update_of_a_computed_node_panics_naming_it() {
    let mut tape = Tape::<f64>::new();
    let y = tape.var(&[1.0]).exp().id();
    tape.update(y, |_, _| ());
}

#[test]
#[should_panic(expected = "update: the tape holds no node 3 (it holds 1)")]
fn update_of_a_node_the_tape_does_not_hold_panics_naming_it() {
    let mut tape = Tape::<f64>::new();
    let x = tape.var(&[1.0]);
    let y = (x * 2.0).exp().exp().id();
    tape.truncate(1);
    tape.update(y, |_, _| ());
}
