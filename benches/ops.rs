//! Every op alone, forward and backward, at n = 65 536, beside a hand-written
//! fused loop on `wide` lanes that computes the same value and gradient:
//! `ops/<op>/type/65536/{ad, handwritten_simd}`.
//!
//! Elementwise ops are seeded with ones (`backward_with`), reductions with
//! `backward()`. Each op's hand-written loop is checked against the tape before
//! it is timed. Kernels run on the calling thread (`Par::Sequential`).

#[allow(dead_code)]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::Scalar;
use common::check::{assert_close, assert_close1};
use common::config::{configure, id};
use common::data::{ones, uniform};
use common::lanes::Lanes;
use common::loops::{map_2_2, map_3_3, sum_map, sum_map2};
use common::seed::w1_simd;
use criterion::{Criterion, criterion_group, criterion_main};
use dualtape::{Par, Tape, Var};

/// The size every op is measured at: 512 KiB of f64, the L2 of a Zen 3 core.
const N: usize = 65_536;

/// A group `ops/<op>/type` set up for `N` elements (fewer samples than the seed
/// groups: there are 46 of these).
fn group<'c, T: Scalar>(
    c: &'c mut Criterion,
    op: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(format!("ops/{op}/{}", T::NAME));
    configure(&mut g, N);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500));
    g
}

/// `y = f(x)` seeded with ones: the tape's `ad` beside `lanes(x) = (f(x), f'(x))`
/// in one pass writing `y` and `g = f'(x)·seed`. Inputs uniform in `[lo, hi)`.
fn unary<T: Scalar>(
    c: &mut Criterion,
    name: &str,
    (lo, hi): (f64, f64),
    ad: impl for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
    lanes: impl Fn(T::V) -> (T::V, T::V) + Copy,
) {
    let x = uniform::<T>(N, lo, hi, 11);
    let seed = ones::<T>(N);
    let mut tape = Tape::new();
    tape.set_par(Par::Sequential);
    let (mut y, mut gx) = (vec![T::zero(); N], vec![T::zero(); N]);
    let hand = |x: &[T], y: &mut [T], gx: &mut [T]| {
        map_2_2(x, &seed, y, gx, T::one(), |v, s| {
            let (f, d) = lanes(v);
            (f, d * s)
        })
    };
    {
        let xv = tape.var(&x);
        let yv = ad(xv);
        let grads = yv.backward_with(&seed);
        hand(&x, &mut y, &mut gx);
        assert_close(&format!("{name} value"), &y, &yv.value());
        assert_close(&format!("{name} gradient"), &gx, grads.wrt(xv));
    }
    let mut g = group::<T>(c, name);
    g.bench_function(id(N, "ad"), |b| {
        b.iter(|| {
            tape.clear();
            let xv = tape.var(black_box(&x));
            let yv = ad(xv);
            let grads = yv.backward_with(&seed);
            black_box(grads.wrt(xv));
        })
    });
    g.bench_function(id(N, "handwritten_simd"), |b| {
        b.iter(|| hand(black_box(&x), black_box(&mut y), black_box(&mut gx)))
    });
    g.finish();
}

/// `y = f(a, b)` seeded with ones: `ad` beside `lanes(a, b) = (f, ∂f/∂a, ∂f/∂b)`
/// in one pass writing `y`, `ga` and `gb`. `a` uniform in `[0.5, 2)`, `b` in `dom_b`.
fn binary<T: Scalar>(
    c: &mut Criterion,
    name: &str,
    dom_b: (f64, f64),
    ad: impl for<'t> Fn(Var<'t, T>, Var<'t, T>) -> Var<'t, T>,
    lanes: impl Fn(T::V, T::V) -> (T::V, T::V, T::V) + Copy,
) {
    let a = uniform::<T>(N, 0.5, 2.0, 12);
    let bb = uniform::<T>(N, dom_b.0, dom_b.1, 13);
    let seed = ones::<T>(N);
    let mut tape = Tape::new();
    tape.set_par(Par::Sequential);
    let (mut y, mut ga, mut gb) = (vec![T::zero(); N], vec![T::zero(); N], vec![T::zero(); N]);
    let hand = |a: &[T], b: &[T], y: &mut [T], ga: &mut [T], gb: &mut [T]| {
        map_3_3(a, b, &seed, y, ga, gb, T::one(), |av, bv, s| {
            let (f, da, db) = lanes(av, bv);
            (f, da * s, db * s)
        })
    };
    {
        let (av, bv) = (tape.var(&a), tape.var(&bb));
        let yv = ad(av, bv);
        let grads = yv.backward_with(&seed);
        hand(&a, &bb, &mut y, &mut ga, &mut gb);
        assert_close(&format!("{name} value"), &y, &yv.value());
        assert_close(&format!("{name} gradient a"), &ga, grads.wrt(av));
        assert_close(&format!("{name} gradient b"), &gb, grads.wrt(bv));
    }
    let mut g = group::<T>(c, name);
    g.bench_function(id(N, "ad"), |b| {
        b.iter(|| {
            tape.clear();
            let (av, bv) = (tape.var(black_box(&a)), tape.var(black_box(&bb)));
            let yv = ad(av, bv);
            let grads = yv.backward_with(&seed);
            black_box((grads.wrt(av), grads.wrt(bv)));
        })
    });
    g.bench_function(id(N, "handwritten_simd"), |b| {
        b.iter(|| {
            hand(
                black_box(&a),
                black_box(&bb),
                black_box(&mut y),
                black_box(&mut ga),
                black_box(&mut gb),
            )
        })
    });
    g.finish();
}

/// A reduction to one value with `backward()`: `ad` beside `hand(x, g) -> y`,
/// which writes the gradient into `g`. Inputs uniform in `[-2, 2)`.
fn reduction<T: Scalar>(
    c: &mut Criterion,
    name: &str,
    ad: impl for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
    hand: impl Fn(&[T], &mut [T]) -> T,
) {
    let x = uniform::<T>(N, -2.0, 2.0, 14);
    let mut tape = Tape::new();
    tape.set_par(Par::Sequential);
    let mut gx = vec![T::zero(); N];
    {
        let xv = tape.var(&x);
        let yv = ad(xv);
        let grads = yv.backward();
        let y = hand(&x, &mut gx);
        assert_close1(&format!("{name} value"), y, yv.item());
        assert_close(&format!("{name} gradient"), &gx, grads.wrt(xv));
    }
    let mut g = group::<T>(c, name);
    g.bench_function(id(N, "ad"), |b| {
        b.iter(|| {
            tape.clear();
            let xv = tape.var(black_box(&x));
            let yv = ad(xv);
            let grads = yv.backward();
            black_box((yv.item(), grads.wrt(xv)));
        })
    });
    g.bench_function(id(N, "handwritten_simd"), |b| {
        b.iter(|| black_box(hand(black_box(&x), black_box(&mut gx))))
    });
    g.finish();
}

/// `Σ a·b` with `backward()`: gradients `b` and `a`.
fn dot<T: Scalar>(c: &mut Criterion) {
    let a = uniform::<T>(N, -2.0, 2.0, 15);
    let bb = uniform::<T>(N, -2.0, 2.0, 16);
    let mut tape = Tape::new();
    tape.set_par(Par::Sequential);
    let (mut ga, mut gb) = (vec![T::zero(); N], vec![T::zero(); N]);
    // Σab in four lane accumulators; then, with the seed 1, ∂/∂a = b and ∂/∂b = a.
    let hand = |a: &[T], b: &[T], ga: &mut [T], gb: &mut [T]| {
        let y = sum_map2(a, b, T::zero(), |x, y| x * y);
        ga.copy_from_slice(b);
        gb.copy_from_slice(a);
        y
    };
    {
        let (av, bv) = (tape.var(&a), tape.var(&bb));
        let yv = av.dot(bv);
        let grads = yv.backward();
        let y = hand(&a, &bb, &mut ga, &mut gb);
        assert_close1("dot value", y, yv.item());
        assert_close("dot gradient a", &ga, grads.wrt(av));
        assert_close("dot gradient b", &gb, grads.wrt(bv));
    }
    let mut g = group::<T>(c, "dot");
    g.bench_function(id(N, "ad"), |b| {
        b.iter(|| {
            tape.clear();
            let (av, bv) = (tape.var(black_box(&a)), tape.var(black_box(&bb)));
            let yv = av.dot(bv);
            let grads = yv.backward();
            black_box((yv.item(), grads.wrt(av), grads.wrt(bv)));
        })
    });
    g.bench_function(id(N, "handwritten_simd"), |b| {
        b.iter(|| {
            black_box(hand(
                black_box(&a),
                black_box(&bb),
                black_box(&mut ga),
                black_box(&mut gb),
            ))
        })
    });
    g.finish();
}

/// The largest (`MAX`) or smallest element and its gradient: 1 at the
/// extremum, shared equally among ties, 0 elsewhere. Two passes: the extremum,
/// then the indicator written while the ties are counted (a third pass rescales
/// only when there are ties).
fn extremum<T: Scalar, const MAX: bool>(x: &[T], g: &mut [T]) -> T {
    let w = T::V::N;
    let init = if MAX {
        T::neg_infinity()
    } else {
        T::infinity()
    };
    let pick = |a: T, b: T| if MAX { a.max(b) } else { a.min(b) };
    let mut acc = T::V::splat(init);
    let mut xs = x.chunks_exact(w);
    for c in &mut xs {
        let v = T::V::load(c);
        acc = if MAX { acc.max(v) } else { acc.min(v) };
    }
    let lanes = if MAX { acc.hmax() } else { acc.hmin() };
    let m = xs.remainder().iter().fold(lanes, |a, &b| pick(a, b));
    let (ml, one, zero) = (
        T::V::splat(m),
        T::V::splat(T::one()),
        T::V::splat(T::zero()),
    );
    let mut ties = 0;
    let mut gs = g.chunks_exact_mut(w);
    let mut xs = x.chunks_exact(w);
    for (xc, gc) in (&mut xs).zip(&mut gs) {
        let v = T::V::load(xc);
        ties += v.count_eq(ml);
        v.sel_eq(ml, one, zero).store(gc);
    }
    for (&v, gi) in xs.remainder().iter().zip(gs.into_remainder()) {
        ties += usize::from(v == m);
        *gi = if v == m { T::one() } else { T::zero() };
    }
    if ties > 1 {
        let share = T::one() / T::from(ties).expect("count fits");
        g.iter_mut().for_each(|gi| *gi = *gi * share);
    }
    m
}

fn ops<T: Scalar>(c: &mut Criterion) {
    let s = |v: f64| T::V::splat(T::lit(v));
    let pos = (0.5, 2.0);
    let sym = (-2.0, 2.0);

    unary::<T>(
        c,
        "powi",
        sym,
        |x| x.powi(3),
        move |x| (x * x * x, s(3.0) * x * x),
    );
    // x > 0 here, so the derivative p·xᵖ⁻¹ is p·y/x: one powf, as a
    // hand-writer who knows the domain would write it.
    unary::<T>(
        c,
        "powf",
        pos,
        |x| x.powf(T::lit(2.5)),
        move |x| {
            let y = x.powf(s(2.5));
            (y, s(2.5) * y / x)
        },
    );
    unary::<T>(
        c,
        "sqrt",
        pos,
        |x| x.sqrt(),
        move |x| {
            let y = x.sqrt();
            (y, s(0.5) / y)
        },
    );
    unary::<T>(
        c,
        "exp",
        sym,
        |x| x.exp(),
        |x| {
            let y = x.exp();
            (y, y)
        },
    );
    unary::<T>(c, "ln", pos, |x| x.ln(), move |x| (x.ln(), s(1.0) / x));
    unary::<T>(c, "sin", (-3.0, 3.0), |x| x.sin(), |x| x.sin_cos());
    unary::<T>(
        c,
        "cos",
        (-3.0, 3.0),
        |x| x.cos(),
        |x| {
            let (sn, cs) = x.sin_cos();
            (cs, -sn)
        },
    );
    unary::<T>(
        c,
        "tanh",
        sym,
        |x| x.tanh(),
        move |x| {
            let y = x.tanh();
            (y, s(1.0) - y * y)
        },
    );
    unary::<T>(
        c,
        "sigmoid",
        sym,
        |x| x.sigmoid(),
        move |x| {
            let y = s(1.0) / (s(1.0) + (-x).exp());
            (y, y * (s(1.0) - y))
        },
    );
    unary::<T>(
        c,
        "relu",
        sym,
        |x| x.relu(),
        move |x| {
            (
                x.sel_gt(s(0.0), x, s(0.0)),
                x.sel_gt(s(0.0), s(1.0), s(0.0)),
            )
        },
    );
    unary::<T>(
        c,
        "abs",
        sym,
        |x| x.abs(),
        move |x| {
            let sign = x.sel_gt(s(0.0), s(1.0), x.sel_lt(s(0.0), s(-1.0), s(0.0)));
            (x.abs(), sign)
        },
    );
    unary::<T>(
        c,
        "recip",
        pos,
        |x| x.recip(),
        move |x| {
            let y = s(1.0) / x;
            (y, -(y * y))
        },
    );

    binary::<T>(
        c,
        "add",
        sym,
        |a, b| a + b,
        move |a, b| (a + b, s(1.0), s(1.0)),
    );
    binary::<T>(
        c,
        "sub",
        sym,
        |a, b| a - b,
        move |a, b| (a - b, s(1.0), s(-1.0)),
    );
    binary::<T>(c, "mul", sym, |a, b| a * b, |a, b| (a * b, b, a));
    // One division: y = a·(1/b), ∂/∂a = 1/b, ∂/∂b = −y/b.
    binary::<T>(
        c,
        "div",
        pos,
        |a, b| a / b,
        move |a, b| {
            let inv = s(1.0) / b;
            let y = a * inv;
            (y, inv, -(y * inv))
        },
    );
    // a > 0: ∂/∂a = b·y/a (one powf), ∂/∂b = y·ln a.
    binary::<T>(
        c,
        "pow",
        sym,
        |a, b| a.pow(b),
        |a, b| {
            let y = a.powf(b);
            (y, b * y / a, y * a.ln())
        },
    );

    reduction::<T>(
        c,
        "sum",
        |x| x.sum(),
        |x, g| {
            let y = sum_map(x, T::zero(), |v| v);
            g.fill(T::one());
            y
        },
    );
    reduction::<T>(
        c,
        "mean",
        |x| x.mean(),
        |x, g| {
            let n = T::from(x.len()).expect("length fits");
            let y = sum_map(x, T::zero(), |v| v) / n;
            g.fill(T::one() / n);
            y
        },
    );
    dot::<T>(c);
    reduction::<T>(c, "norm", |x| x.norm(), w1_simd::<T>);
    reduction::<T>(c, "max", |x| x.max(), extremum::<T, true>);
    reduction::<T>(c, "min", |x| x.min(), extremum::<T, false>);
}

fn all(c: &mut Criterion) {
    ops::<f64>(c);
    ops::<f32>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
