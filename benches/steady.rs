//! Steady state: the same gradient evaluated again and again, as an optimiser
//! does, on one cleared tape (`cleared`: every buffer kept, nothing allocated)
//! beside a fresh tape per evaluation (`fresh`: allocate, fault the pages in,
//! free): `steady/W*/type/n/{cleared, fresh}`. Kernels on the calling thread.

#[allow(dead_code)]
mod common;

use std::hint::black_box;

use common::Scalar;
use common::config::{configure, id};
use common::data::uniform;
use common::seed::{sequential_tape, w1_eval, w4_eval};
use criterion::{Criterion, criterion_group, criterion_main};
use dualtape::Tape;

const SIZES: [usize; 4] = [16, 1024, 65_536, 1_048_576];

/// One gradient evaluation of a workload on `tape`, results `black_box`ed.
type Eval<T> = fn(&Tape<T>, &[T]);

fn workload<T: Scalar>(c: &mut Criterion, name: &str, eval: Eval<T>) {
    let mut g = c.benchmark_group(format!("steady/{name}/{}", T::NAME));
    for n in SIZES {
        configure(&mut g, n);
        let x = uniform::<T>(n, -2.0, 3.0, 41);
        let mut tape = sequential_tape::<T>();
        eval(&tape, &x);
        g.bench_function(id(n, "cleared"), |b| {
            b.iter(|| {
                tape.clear();
                eval(&tape, black_box(&x));
            })
        });
        g.bench_function(id(n, "fresh"), |b| {
            b.iter(|| {
                let tape = sequential_tape::<T>();
                eval(&tape, black_box(&x));
            })
        });
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    workload::<f64>(c, "W4", w4_eval);
    workload::<f32>(c, "W4", w4_eval);
    workload::<f64>(c, "W1", w1_eval);
    workload::<f32>(c, "W1", w1_eval);
}

criterion_group!(benches, all);
criterion_main!(benches);
