//! Random programs of ops over random inputs, on the tape and on a scalar
//! reference interpreter: values and gradients of every node must agree (NaN
//! where NaN, ±inf where ±inf, otherwise within a tolerance set by the op's
//! condition). The decoder and the oracle live in `tests/program/`, shared
//! with the `cargo fuzz` target in `fuzz/`, which explores the same space far
//! longer (`cargo +nightly fuzz run program` in `fuzz/`). The core bugs the
//! random programs found are pinned below as regression tests.

#[path = "program/mod.rs"]
mod program;

use program::run::{check, check_bytes};
use program::{Binary, Program, Reduce, Step, Unary};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2048,
        max_shrink_iters: 4096,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any bytes decode to a valid program, and the tape agrees with the oracle.
    #[test]
    fn random_programs(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_bytes(&data);
    }
}

/// A short program by hand: `y = Σ (x·x + sin x)`, `x` a vector of 5.
#[test]
fn hand_written_program() {
    check(&Program {
        steps: vec![
            Step::Input {
                values: vec![0.0, -1.5, 2.0, 1e-310, 3.0],
                var: true,
            },
            Step::Binary(Binary::Mul, 0, 0),
            Step::Unary(Unary::Sin, 0),
            Step::Binary(Binary::Add, 1, 2),
            Step::Reduce(Reduce::Sum, 3),
        ],
        seed: None,
    });
}

/// The oracle can fail: it rejects results off by more than its tolerance,
/// NaN for a number, a number for NaN, the wrong sign of an exact zero, and
/// inf where the window does not reach the overflow threshold.
#[test]
fn oracle_rejects_a_wrong_value() {
    use program::reference::{Approx, F64, near};
    let want = near(&F64, 1.0, 8.0, 0.0);
    assert!(want.admits(1.0 + 4.0 * f64::EPSILON, &F64));
    assert!(!want.admits(1.0 + 1e-12, &F64));
    assert!(!want.admits(f64::NAN, &F64));
    assert!(!Approx::Nan.admits(0.0, &F64));
    assert!(!Approx::Exact(-0.0).admits(0.0, &F64));
    assert!(
        Approx::Near {
            v: f64::MAX,
            tol: 1e300
        }
        .admits(f64::INFINITY, &F64)
    );
    assert!(!Approx::Near { v: 1.0, tol: 1.0 }.admits(f64::INFINITY, &F64));
}

// Regressions: bugs the random programs found in the core, each pinned
// twice, by its math and as a program for the oracle. Lengths 5 and 9 run
// the scalar path (shorter than a lane bundle) and the SIMD body.

/// `max` of a vector holding NaN is NaN, and its gradient goes to the NaN
/// elements, shared (PyTorch); it used to be 0 everywhere.
#[test]
fn max_with_nan_passes_the_gradient_to_the_nans() {
    use dualtape::Tape;
    for n in [5, 9] {
        let xs: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 1 { f64::NAN } else { i as f64 })
            .collect();
        let nans = (n / 2) as f64;
        let tape = Tape::<f64>::new();
        let x = tape.var(&xs);
        for y in [x.max(), x.min()] {
            assert!(y.item().is_nan());
            let g = y.backward();
            for (i, &d) in g.wrt(x).iter().enumerate() {
                assert_eq!(d, if i % 2 == 1 { 1.0 / nans } else { 0.0 }, "n = {n}, {i}");
            }
        }
        check(&Program {
            steps: vec![
                Step::Input {
                    values: xs,
                    var: true,
                },
                Step::Reduce(Reduce::Max, 0),
            ],
            seed: None,
        });
    }
}

/// `d(x·x) = x·g + x·g`: for |x| > MAX/2 the fused `(x + x)·g` overflowed to
/// inf (NaN for g = 0) where the gradient `2x·g` is finite.
#[test]
fn square_of_huge_values_with_a_small_seed() {
    use dualtape::Tape;
    for n in [1, 5, 9] {
        let tape = Tape::<f64>::new();
        let x = tape.var(&vec![1e308; n]);
        let g = (x * x).backward_with(&vec![1e-300; n]);
        assert!(g.wrt(x).iter().all(|&d| d == 2e8), "{:?}", g.wrt(x)); // 2·1e308·1e-300
        drop(g);
        let g = (x * x).backward_with(&vec![0.0; n]);
        assert!(g.wrt(x).iter().all(|&d| d == 0.0), "{:?}", g.wrt(x));
        check(&Program {
            steps: vec![
                Step::Input {
                    values: vec![1e308; n],
                    var: true,
                },
                Step::Binary(Binary::Mul, 0, 0),
            ],
            seed: Some(vec![1e-300; n]),
        });
    }
}

/// `d(x·x)/dx = 2x·g` for `x.dot(x)`: with |g| > MAX/2 the single pass
/// `x·(2g)` gave inf for |x| < 1/2 and NaN at x = 0.
#[test]
fn dot_with_itself_under_a_huge_seed() {
    use dualtape::Tape;
    for n in [5, 9] {
        let xs: Vec<f64> = [0.5, 0.0, -0.25, 0.25]
            .iter()
            .copied()
            .cycle()
            .take(n)
            .collect();
        let tape = Tape::<f64>::new();
        let x = tape.var(&xs);
        let g = x.dot(x).backward_with(&[f64::MAX]);
        for (&d, &v) in g.wrt(x).iter().zip(&xs) {
            assert_eq!(d, v * f64::MAX + v * f64::MAX, "x = {v}"); // 2x·MAX
        }
        check(&Program {
            steps: vec![
                Step::Input {
                    values: xs,
                    var: true,
                },
                Step::Dot(0, 0),
            ],
            seed: Some(vec![f64::MAX]),
        });
    }
}

/// `∂(a/b)/∂b = −(a/b)/b`: as `−y·(1/b)` it was NaN for a = 0 and inf for any
/// small `y` once `b` is subnormal (1/b overflows where y/b need not).
#[test]
fn division_by_a_subnormal() {
    use dualtape::Tape;
    for n in [1, 5, 9] {
        let tape = Tape::<f64>::new();
        let a = tape.var(&vec![0.0; n]);
        let b = tape.var(&vec![1e-310; n]);
        let g = (a / b).backward_with(&vec![1.0; n]);
        assert!(g.wrt(b).iter().all(|&d| d == 0.0), "{:?}", g.wrt(b));
        assert!(g.wrt(a).iter().all(|&d| d == f64::INFINITY)); // 1/b = 1e310
        drop(g);
        let a = tape.var(&vec![5e-324; n]);
        let g = (a / b).backward_with(&vec![1.0; n]);
        let want = -(5e-324 / 1e-310) / 1e-310; // −4.9e296, finite
        assert!(g.wrt(b).iter().all(|&d| d == want), "{:?}", g.wrt(b));
        check(&Program {
            steps: vec![
                Step::Input {
                    values: [5e-324, 0.0, -1.0]
                        .iter()
                        .copied()
                        .cycle()
                        .take(n)
                        .collect(),
                    var: true,
                },
                Step::Input {
                    values: vec![1e-310; n],
                    var: true,
                },
                Step::Binary(Binary::Div, 0, 1),
                Step::Reduce(Reduce::Sum, 2),
            ],
            seed: None,
        });
    }
}

/// `d xⁿ = n·xⁿ⁻¹` for `n = i32::MIN`: `n − 1` wrapped to `i32::MAX` (and
/// panicked in debug builds).
#[test]
fn powi_of_the_most_negative_exponent() {
    use dualtape::Tape;
    let tape = Tape::<f64>::new();
    let x = tape.var(&[88.8, -1.0, 1.0, 0.5, 88.8]);
    let g = x.powi(i32::MIN).backward_with(&[1.0; 5]);
    let n = f64::from(i32::MIN);
    // 88.8ⁿ⁻¹ = 0; (−1)ⁿ⁻¹ = −1; 1ⁿ⁻¹ = 1; 0.5ⁿ⁻¹ = inf
    assert_eq!(g.wrt(x), [0.0 * n, -n, n, f64::NEG_INFINITY, 0.0 * n]);
    check(&Program {
        steps: vec![
            Step::Input {
                values: vec![88.8, -1.0, 1.0, 0.5, 88.8, 3.0, -0.0, 1e-300, 1e300],
                var: true,
            },
            Step::Unary(Unary::Powi(i32::MIN), 0),
        ],
        seed: Some(vec![1.0; 9]),
    });
}

/// Replays one case from its bytes, as proptest prints them or as a fuzzer
/// artifact holds them: `PROGRAM_BYTES="16,170,0" cargo test --release --test
/// program replay -- --ignored --nocapture`, or `PROGRAM_FILE=path`.
#[test]
#[ignore = "a debugging aid: replays the case named by PROGRAM_BYTES or PROGRAM_FILE"]
fn replay() {
    let data: Vec<u8> = if let Ok(path) = std::env::var("PROGRAM_FILE") {
        std::fs::read(path).expect("PROGRAM_FILE is readable")
    } else {
        let list = std::env::var("PROGRAM_BYTES").unwrap_or_default();
        list.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("bytes are 0..=255"))
            .collect()
    };
    println!("program:\n{}", program::decode(&data));
    check_bytes(&data);
}
