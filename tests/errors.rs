//! Every panic of the core, with the message it promises (STYLE habit 10: the
//! message names the op and shows both values). Each test does one thing
//! wrong, once, after everything before it went right.

use dualtape::Tape;

// --- lengths ---------------------------------------------------------------

#[test]
#[should_panic(expected = "dualtape: add: length mismatch: left has 2 elements, right has 3")]
fn add_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(&[1.0, 2.0]), tape.var(&[1.0, 2.0, 3.0]));
    let _ = a + b;
}

#[test]
#[should_panic(expected = "dualtape: sub: length mismatch: left has 3 elements, right has 2")]
fn sub_of_mismatched_lengths() {
    let tape = Tape::<f32>::new();
    let (a, b) = (tape.var(&[1.0, 2.0, 3.0]), tape.constant(&[1.0, 2.0]));
    let _ = a - b;
}

#[test]
#[should_panic(expected = "dualtape: mul: length mismatch: left has 4 elements, right has 2")]
fn mul_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(&[1.0; 4]), tape.var(&[1.0; 2]));
    let _ = a * b;
}

#[test]
#[should_panic(expected = "dualtape: div: length mismatch: left has 2 elements, right has 5")]
fn div_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(&[1.0; 2]), tape.var(&[1.0; 5]));
    let _ = a / b;
}

#[test]
#[should_panic(expected = "dualtape: pow: length mismatch: left has 3 elements, right has 0")]
fn pow_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, e) = (tape.var(&[1.0; 3]), tape.var(&[]));
    let _ = a.pow(e);
}

/// Length 1 broadcasts, any other length does not; and `dot` never broadcasts.
#[test]
#[should_panic(expected = "dualtape: dot: length mismatch: left has 3 elements, right has 1")]
fn dot_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(&[1.0; 3]), tape.var(&[2.0]));
    let _ = a * b; // broadcasts: fine
    let _ = a.dot(b);
}

#[test]
#[should_panic(expected = "dualtape: backward_with: the seed has 2 elements, the output has 3")]
fn seed_of_the_wrong_length() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0, 3.0]);
    let _ = (x * x).backward_with(&[1.0, 1.0]);
}

#[test]
#[should_panic(
    expected = "dualtape: backward: the output has 3 elements; backward() needs exactly 1"
)]
fn backward_of_a_vector() {
    let tape = Tape::<f32>::new();
    let x = tape.var(&[1.0, 2.0, 3.0]);
    let _ = x.sin().backward();
}

#[test]
#[should_panic(expected = "dualtape: item: the variable has 3 elements, not 1")]
fn item_of_a_vector() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0, 3.0]);
    assert_eq!(x.sum().item(), 6.0);
    let _ = x.item();
}

#[test]
#[should_panic(expected = "dualtape: max: the input is empty (0 elements); it has no maximum")]
fn max_of_empty() {
    let tape = Tape::<f64>::new();
    let _ = tape.var(&[]).max();
}

#[test]
#[should_panic(expected = "dualtape: min: the input is empty (0 elements); it has no minimum")]
fn min_of_empty() {
    let tape = Tape::<f32>::new();
    let _ = tape.var(&[]).min();
}

// --- tapes -----------------------------------------------------------------

#[test]
#[should_panic(expected = "dualtape: mul: the operands belong to different tapes")]
fn binary_op_across_tapes() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let _ = t1.var(&[1.0]) * t2.var(&[2.0]);
}

#[test]
#[should_panic(expected = "dualtape: dot: the operands belong to different tapes")]
fn dot_across_tapes() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let _ = t1.var(&[1.0, 2.0]).dot(t2.var(&[2.0, 3.0]));
}

#[test]
#[should_panic(expected = "dualtape: Grads::wrt: the variable belongs to another tape")]
fn wrt_of_another_tapes_var() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let x = t1.var(&[1.0]);
    let other = t2.var(&[1.0]);
    let g = (x * x).backward();
    let _ = g.wrt(other);
}

#[test]
#[should_panic(
    expected = "dualtape: Grads::wrt: node 1 is a constant (it depends on no `var`) and has no gradient"
)]
fn wrt_of_a_constant() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let c = tape.constant(&[3.0, 4.0]);
    let g = x.dot(c).backward();
    assert_eq!(g.wrt(x), [3.0, 4.0]);
    let _ = g.wrt(c);
}

#[test]
#[should_panic(
    expected = "dualtape: Grads::wrt: node 2 was recorded after the output (node 1); it cannot influence it"
)]
fn wrt_of_a_later_node() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0]);
    let y = x * 2.0; // node 1
    let later = x * 3.0; // node 2
    let g = y.backward();
    let _ = g.wrt(later);
}

#[test]
#[should_panic(
    expected = "dualtape: Grads::wrt: node 1 is an intermediate (not a `Tape::var`) and its \
                gradient was not kept; call `.retain_grad()` on it before `backward` to keep it"
)]
fn wrt_of_an_intermediate_not_retained() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let h = x * x; // node 1
    let g = h.sum().backward();
    assert_eq!(g.wrt(x), [2.0, 4.0]);
    let _ = g.wrt(h);
}

#[test]
#[should_panic(
    expected = "dualtape: Var::retain_grad: node 1 is a constant (it depends on no `var`) and has \
                no gradient to keep"
)]
fn retain_grad_of_a_constant() {
    let tape = Tape::<f64>::new();
    let c = tape.constant(&[1.0, 2.0]);
    let _ = (c * 2.0).retain_grad();
}

// --- borrows and limits ----------------------------------------------------

#[test]
#[should_panic(
    expected = "dualtape: cannot record on or sweep this tape while a `Var::value()` or `Grads` borrow of it is alive"
)]
fn recording_while_a_value_borrow_is_alive() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let v = x.value();
    let _ = x * 2.0;
    drop(v);
}

#[test]
#[should_panic(
    expected = "dualtape: cannot record on or sweep this tape while a `Var::value()` or `Grads` borrow of it is alive"
)]
fn recording_while_grads_are_alive() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let g = x.sum().backward();
    let _ = x * 2.0;
    drop(g);
}

#[test]
#[should_panic(
    expected = "dualtape: cannot record on or sweep this tape while a `Var::value()` or `Grads` borrow of it is alive"
)]
fn sweeping_while_other_grads_are_alive() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let y = x.sum();
    let g = y.backward();
    let _ = y.backward();
    drop(g);
}

#[test]
#[should_panic(expected = "dualtape: the tape is full: it holds 3 nodes, its limit")]
fn node_limit() {
    let tape = Tape::<f64>::with_node_limit(3);
    let x = tape.var(&[1.0]); // node 0
    let y = x.sin() + 1.0; // nodes 1, 2
    let _ = y * 2.0; // node 3: one too many
}

/// The limit counts nodes since the last `clear`: a cleared tape records again.
#[test]
fn node_limit_resets_on_clear() {
    let mut tape = Tape::<f64>::with_node_limit(2);
    for _ in 0..3 {
        tape.clear();
        let x = tape.var(&[1.0]);
        assert_eq!((x * 2.0).item(), 2.0);
    }
}

/// Each message points at the caller's line (`#[track_caller]`), not inside
/// the crate.
#[test]
fn panics_point_at_the_callers_line() {
    let hook = std::panic::take_hook();
    let location = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = location.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(l) = info.location() {
            *seen.lock().unwrap() = l.file().to_string();
        }
    }));
    let result = std::panic::catch_unwind(|| {
        let tape = Tape::<f64>::new();
        let (a, b) = (tape.var(&[1.0, 2.0]), tape.var(&[1.0, 2.0, 3.0]));
        let _ = a + b;
    });
    std::panic::set_hook(hook);
    assert!(result.is_err());
    assert!(
        location.lock().unwrap().ends_with("errors.rs"),
        "{}",
        location.lock().unwrap()
    );
}
