//! Scale: long tapes sweep correctly, and a tape past its node limit is
//! refused with a clear panic, never a wrapped-around id.
//!
//! Node ids are `u32`, so a tape holds at most `MAX_NODES = 2³² − 1` nodes;
//! reaching that takes hundreds of GiB, so the limit is tested through
//! `Tape::with_node_limit`, which goes through the same check. The chains
//! below cross 2²² nodes (2¹⁸ in an unoptimised build, to stay quick).

use std::panic::{AssertUnwindSafe, catch_unwind};

use dualtape::Tape;
use dualtape::tape::MAX_NODES;

/// Nodes in the long chains: past 2²² in release.
const LONG: usize = if cfg!(debug_assertions) {
    (1 << 18) + 3
} else {
    (1 << 22) + 3
};

/// The message a panic carried.
fn message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn node_ids_are_u32_and_the_limit_says_so() {
    assert_eq!(MAX_NODES, u32::MAX as usize);
}

/// `x + 1 + 1 + … + 1` over `LONG` nodes: the value is exact (integers below
/// 2⁵³) and the gradient is 1, carried through every node of the sweep.
#[test]
fn long_sum_chain_has_gradient_one() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[0.5]);
    let mut y = x;
    for _ in 1..LONG {
        y = y + 1.0;
    }
    assert_eq!(tape.len(), LONG);
    assert_eq!(y.item(), 0.5 + (LONG - 1) as f64);
    let g = y.backward();
    assert_eq!(g.wrt(x), [1.0]);
}

/// `y = x·x·…·x = xᴺ` as a chain of `Var · Var` products: every node adds
/// into the one leaf, so the leaf's adjoint is the sum of `N` contributions,
/// `N·xᴺ⁻¹`; at `x = −1` that is exactly `±N`, with the sign of the parity.
#[test]
fn long_product_chain_accumulates_into_one_leaf() {
    let n = LONG / 2; // each step records one node; leave room in the budget
    let tape = Tape::<f64>::new();
    let x = tape.var(&[-1.0]);
    let mut y = x;
    for _ in 1..n {
        y = y * x;
    }
    let sign = if n.is_multiple_of(2) { 1.0 } else { -1.0 };
    assert_eq!(y.item(), sign); // (−1)ᴺ
    let g = y.backward();
    assert_eq!(g.wrt(x), [-sign * n as f64]); // N·(−1)ᴺ⁻¹
}

/// Recording up to the limit works; the next node panics naming the limit,
/// leaves the tape as it was (the sweep still runs), and `clear` lifts it.
#[test]
fn a_tape_at_its_node_limit_refuses_more() {
    let limit = LONG;
    let mut tape = Tape::<f32>::with_node_limit(limit);
    {
        let x = tape.var(&[2.0]);
        let mut y = x;
        for _ in 1..limit {
            y = 1.0 * y; // a node that keeps the value: y = 2
        }
        assert_eq!(tape.len(), limit);
        let err = catch_unwind(AssertUnwindSafe(|| y + 1.0)).expect_err("past the limit");
        let msg = message(err);
        assert!(
            msg.contains("the tape is full") && msg.contains(&limit.to_string()),
            "{msg}"
        );
        assert_eq!(tape.len(), limit, "a refused node leaves no trace");
        assert_eq!(y.item(), 2.0);
        let g = y.backward();
        assert_eq!(g.wrt(x), [1.0]);
    }
    tape.clear();
    let x = tape.var(&[3.0]);
    assert_eq!((x * x).item(), 9.0);
}

/// A small limit is enforced for every kind of recording, inputs included.
#[test]
fn the_limit_counts_every_node() {
    let tape = Tape::<f64>::with_node_limit(3);
    let a = tape.var(&[1.0, 2.0]);
    let b = tape.constant(&[3.0, 4.0]);
    let _c = a.dot(b);
    for attempt in [
        &(|| {
            tape.var(&[0.0]);
        }) as &dyn Fn(),
        &|| {
            tape.constant(&[0.0]);
        },
        &|| {
            let _ = a + b;
        },
        &|| {
            a.sum();
        },
        &|| {
            a.exp();
        },
    ] {
        let err = catch_unwind(AssertUnwindSafe(attempt)).expect_err("the tape is full");
        assert!(message(err).contains("the tape is full"));
    }
    assert_eq!(tape.len(), 3);
}
