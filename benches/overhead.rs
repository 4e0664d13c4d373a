//! Per-op overhead: a chain of 100 cheap recorded ops (33 × `v·½ + x`, `·x`,
//! then a sum) on n = 1 and n = 16, where the arithmetic is nothing and the
//! cost is recording and sweeping: `overhead/chain100/type/n/impl` with impl
//!
//! - `record`: clear the tape, record the leaf and the 100 ops (forward values
//!   included);
//! - `sweep`: `backward()` of a chain recorded once (the reverse sweep alone);
//! - `record_sweep`: both, one full gradient evaluation;
//! - `handwritten`: the same value and gradient by a plain forward-mode loop.
//!
//! Throughput is 100 elements (the recorded ops), so a time per element is the
//! time per recorded op. Kernels run on the calling thread.

#[allow(dead_code)]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::Scalar;
use common::check::{assert_close, assert_close1};
use common::config::id;
use common::data::uniform;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dualtape::{Par, Tape, Var};

/// Recorded ops per evaluation: 33 × 3 elementwise + 1 sum.
const OPS: usize = 100;

/// `Σ v` where `v₀ = x`, `v ← (v·½ + x)·x` 33 times: 99 elementwise ops (a
/// scale, an add and a mul of two vars) and the sum.
fn chain<'t, T: Scalar>(x: Var<'t, T>) -> Var<'t, T> {
    let half = T::lit(0.5);
    let mut v = x;
    for _ in 0..(OPS - 1) / 3 {
        v = (v * half + x) * x;
    }
    v.sum()
}

/// The chain by hand: value and `∂/∂x` carried together element by element
/// (forward mode, the cheapest exact way for an elementwise chain). Writes the
/// gradient into `g`, returns the sum.
fn chain_handwritten<T: Scalar>(x: &[T], g: &mut [T]) -> T {
    let half = T::lit(0.5);
    let mut sum = T::zero();
    for (gi, &xi) in g.iter_mut().zip(x) {
        let (mut v, mut d) = (xi, T::one());
        for _ in 0..(OPS - 1) / 3 {
            // u = v·½ + x, du = dv·½ + 1; v' = u·x, dv' = du·x + u
            let u = v * half + xi;
            let du = d * half + T::one();
            v = u * xi;
            d = du * xi + u;
        }
        sum = sum + v;
        *gi = d;
    }
    sum
}

fn overhead<T: Scalar>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("overhead/chain100/{}", T::NAME));
    g.throughput(Throughput::Elements(OPS as u64))
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for n in [1, 16] {
        // |x| < 1 keeps the chain bounded.
        let x = uniform::<T>(n, 0.5, 0.9, 21);
        let mut tape = Tape::new();
        tape.set_par(Par::Sequential);
        let mut out = vec![T::zero(); n];
        {
            let xv = tape.var(&x);
            let y = chain(xv);
            assert_eq!(
                tape.len(),
                OPS + 1,
                "the chain records {OPS} ops and a leaf"
            );
            let grads = y.backward();
            let v = chain_handwritten(&x, &mut out);
            assert_close1("chain value", v, y.item());
            assert_close("chain gradient", &out, grads.wrt(xv));
        }
        tape.clear();
        g.bench_function(id(n, "record"), |b| {
            b.iter(|| {
                tape.clear();
                black_box(chain(tape.var(black_box(&x))));
            })
        });
        g.bench_function(id(n, "sweep"), |b| {
            tape.clear();
            let xv = tape.var(&x);
            let y = chain(xv);
            b.iter(|| {
                let grads = y.backward();
                black_box(grads.wrt(xv));
            })
        });
        g.bench_function(id(n, "record_sweep"), |b| {
            b.iter(|| {
                tape.clear();
                let xv = tape.var(black_box(&x));
                let grads = chain(xv).backward();
                black_box(grads.wrt(xv));
            })
        });
        g.bench_function(id(n, "handwritten"), |b| {
            b.iter(|| black_box(chain_handwritten(black_box(&x), black_box(&mut out))))
        });
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    overhead::<f64>(c);
    overhead::<f32>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
