//! The seed workloads W1–W4 at every size, each beside the hand-written loops
//! that compute the same value and gradient: `seed/W*/type/n/{ad, ad_resident,
//! handwritten_scalar, handwritten_simd}`, and for W3 and W4 `ad_map`.
//!
//! One evaluation is record + forward + backward on a reused tape (the loop an
//! optimiser runs; `benches/steady.rs` compares it with a fresh tape), with
//! kernels on the calling thread (`Par::Sequential`; `benches/parallel.rs`
//! measures threads). `ad` clears the tape and records (copies) the inputs
//! each time; `ad_resident` records them once and truncates the tape back to
//! them (`Tape::truncate`), as a loop over fixed data or an optimiser that
//! updates its parameters in place (`Tape::update`) does. `ad_map` is
//! `ad_resident` with the workload's elementwise chain written as one mapped
//! node (`Var::map`, `Var::map2`): W3 a map and its sweep, W4 a map and a
//! sum. Before timing, each case runs once every way and the baselines'
//! values and gradients are checked against the tape's.

#[allow(dead_code)]
mod common;

use std::hint::black_box;

use common::Scalar;
use common::config::{SIZES, configure, id};
use common::data::{ones, uniform};
use common::seed::*;
use criterion::{Criterion, criterion_group, criterion_main};
use dualtape::{NodeId, Tape, Var};

/// A workload of one input with a scalar output (W1, W4): the tape against
/// both hand-written loops, which return the value and write the gradient.
/// The tape's side takes the input as a `Var`: recorded just before (`ad`) or
/// kept on the tape (`ad_resident`, `ad_map`).
struct Single<T: Scalar> {
    /// Evaluates, results `black_box`ed.
    eval: Eval<T>,
    /// Evaluates once and checks the baselines against it.
    check: Check<T>,
    scalar: fn(&[T], &mut [T]) -> T,
    simd: fn(&[T], &mut [T]) -> T,
    /// The workload's elementwise chain as one mapped node (`Var::map`), if
    /// it has one: its `eval` and `check`, run resident (`ad_map`).
    map: Option<(Eval<T>, Check<T>)>,
}

/// One evaluation of a workload on its input, results `black_box`ed.
type Eval<T> = for<'t> fn(Var<'t, T>);
/// One evaluation of a workload on its input (the `Var`), checked against the
/// baselines on the same values (the slice).
type Check<T> = for<'t> fn(Var<'t, T>, &[T]);

/// Benches `seed/{name}/type/n/*` on `x` uniform in `lo..hi`: `eval`, checked
/// first by `check`, beside the scalar and SIMD loops.
fn single<T: Scalar>(
    c: &mut Criterion,
    name: &str,
    (lo, hi, data_seed): (f64, f64, u64),
    f: Single<T>,
) {
    let mut g = c.benchmark_group(format!("seed/{name}/{}", T::NAME));
    for n in SIZES {
        configure(&mut g, n);
        let x = uniform::<T>(n, lo, hi, data_seed);
        let mut tape = sequential_tape::<T>();
        (f.check)(tape.var(&x), &x);
        let (mut resident, xr) = resident_tape(&[&x]);
        (f.check)(input(&resident, xr[0]), &x);
        let mut out = vec![T::zero(); n];
        g.bench_function(id(n, "ad"), |b| {
            b.iter(|| {
                tape.clear();
                (f.eval)(tape.var(black_box(&x)));
            })
        });
        g.bench_function(id(n, "ad_resident"), |b| {
            b.iter(|| {
                resident.truncate(xr.len());
                (f.eval)(input(&resident, xr[0]));
            })
        });
        if let Some((eval, check)) = f.map {
            check(input(&resident, xr[0]), &x);
            resident.truncate(xr.len());
            g.bench_function(id(n, "ad_map"), |b| {
                b.iter(|| {
                    resident.truncate(xr.len());
                    eval(input(&resident, xr[0]));
                })
            });
        }
        g.bench_function(id(n, "handwritten_scalar"), |b| {
            b.iter(|| black_box((f.scalar)(black_box(&x), black_box(&mut out))))
        });
        g.bench_function(id(n, "handwritten_simd"), |b| {
            b.iter(|| black_box((f.simd)(black_box(&x), black_box(&mut out))))
        });
    }
    g.finish();
}

/// A sequential tape holding `inputs` as vars, and their ids.
fn resident_tape<T: Scalar>(inputs: &[&[T]]) -> (Tape<T>, Vec<NodeId>) {
    let tape = sequential_tape::<T>();
    let ids = inputs.iter().map(|x| tape.var(x).id()).collect();
    (tape, ids)
}

/// Input `id` of a resident tape.
fn input<T: Scalar>(tape: &Tape<T>, id: NodeId) -> Var<'_, T> {
    tape.get(id).expect("inputs are kept")
}

/// The two inputs `ab` of a resident tape.
fn kept<'t, T: Scalar>(tape: &'t Tape<T>, ab: &[NodeId]) -> (Var<'t, T>, Var<'t, T>) {
    (input(tape, ab[0]), input(tape, ab[1]))
}

/// W1: `y = ‖x‖₂`, gradient `x/‖x‖`.
fn w1<T: Scalar>(c: &mut Criterion) {
    let f = Single::<T> {
        eval: w1_eval_on,
        check: check_w1_on,
        scalar: w1_scalar,
        simd: w1_simd,
        map: None,
    };
    single(c, "W1", (-1.0, 1.0, 1), f);
}

/// W2: `y = x·x`, `backward_with(ones)`, gradient `2x`.
fn w2<T: Scalar>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("seed/W2/{}", T::NAME));
    for n in SIZES {
        configure(&mut g, n);
        let x = uniform::<T>(n, -2.0, 2.0, 2);
        let seed = ones::<T>(n);
        let mut tape = sequential_tape::<T>();
        check_w2(&tape, &x, &seed);
        let (mut resident, xr) = resident_tape(&[&x]);
        check_w2_on(input(&resident, xr[0]), &x, &seed);
        let (mut y, mut gx) = (vec![T::zero(); n], vec![T::zero(); n]);
        g.bench_function(id(n, "ad"), |b| {
            b.iter(|| {
                tape.clear();
                w2_ad(&tape, black_box(&x), &seed, |y, gx| {
                    black_box((y, gx));
                })
            })
        });
        g.bench_function(id(n, "ad_resident"), |b| {
            b.iter(|| {
                resident.truncate(xr.len());
                w2_on(input(&resident, xr[0]), &seed, |y, gx| {
                    black_box((y, gx));
                })
            })
        });
        g.bench_function(id(n, "handwritten_scalar"), |b| {
            b.iter(|| w2_scalar(black_box(&x), &seed, black_box(&mut y), black_box(&mut gx)))
        });
        g.bench_function(id(n, "handwritten_simd"), |b| {
            b.iter(|| w2_simd(black_box(&x), &seed, black_box(&mut y), black_box(&mut gx)))
        });
    }
    g.finish();
}

/// W3: `Q = 3a³ − b²`, `backward_with(ones)`, gradients `9a²` and `−2b`.
fn w3<T: Scalar>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("seed/W3/{}", T::NAME));
    for n in SIZES {
        configure(&mut g, n);
        let (a, bb) = (uniform::<T>(n, -2.0, 2.0, 3), uniform::<T>(n, -2.0, 2.0, 4));
        let seed = ones::<T>(n);
        let mut tape = sequential_tape::<T>();
        check_w3(&tape, &a, &bb, &seed);
        let (mut resident, ab) = resident_tape(&[&a, &bb]);
        check_w3_on(kept(&resident, &ab), &a, &bb, &seed);
        let (mut q, mut ga, mut gb) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
        g.bench_function(id(n, "ad"), |b| {
            b.iter(|| {
                tape.clear();
                w3_ad(&tape, black_box(&a), black_box(&bb), &seed, |q, ga, gb| {
                    black_box((q, ga, gb));
                })
            })
        });
        g.bench_function(id(n, "ad_resident"), |b| {
            b.iter(|| {
                resident.truncate(ab.len());
                let (av, bv) = kept(&resident, &ab);
                w3_on(av, bv, &seed, |q, ga, gb| {
                    black_box((q, ga, gb));
                })
            })
        });
        resident.truncate(ab.len());
        check_w3_map_on(kept(&resident, &ab), &a, &bb, &seed);
        g.bench_function(id(n, "ad_map"), |b| {
            b.iter(|| {
                resident.truncate(ab.len());
                let (av, bv) = kept(&resident, &ab);
                w3_map_on(av, bv, &seed, |q, ga, gb| {
                    black_box((q, ga, gb));
                })
            })
        });
        g.bench_function(id(n, "handwritten_scalar"), |b| {
            b.iter(|| {
                w3_scalar(
                    black_box(&a),
                    black_box(&bb),
                    &seed,
                    black_box(&mut q),
                    black_box(&mut ga),
                    black_box(&mut gb),
                )
            })
        });
        g.bench_function(id(n, "handwritten_simd"), |b| {
            b.iter(|| {
                w3_simd(
                    black_box(&a),
                    black_box(&bb),
                    &seed,
                    black_box(&mut q),
                    black_box(&mut ga),
                    black_box(&mut gb),
                )
            })
        });
    }
    g.finish();
}

/// W4: `y = Σ tanh(x)·exp(−x²) + sin(x)/(1 + x²)`, gradient.
fn w4<T: Scalar>(c: &mut Criterion) {
    let f = Single::<T> {
        eval: w4_eval_on,
        check: check_w4_on,
        scalar: w4_scalar,
        simd: w4_simd,
        map: Some((w4_map_eval_on, check_w4_map_on)),
    };
    single(c, "W4", (-2.0, 3.0, 5), f);
}

fn seed(c: &mut Criterion) {
    w1::<f64>(c);
    w1::<f32>(c);
    w2::<f64>(c);
    w2::<f32>(c);
    w3::<f64>(c);
    w3::<f32>(c);
    w4::<f64>(c);
    w4::<f32>(c);
}

criterion_group!(benches, seed);
criterion_main!(benches);
