//! Threads: W1 and W4 with kernels on rayon pools of 1 and 2 threads
//! (`Par::Rayon` inside `pool.install`), beside `Par::Sequential` on the calling
//! thread: `parallel/W*/type/n/{sequential, threads1, threads2}`.
//!
//! n = 1 048 576 and 8 388 608 are above `PAR_MIN_LEN` (where 2 threads should
//! win); n = 16 384 is below it and 65 536 at it, to show 2 threads are never
//! slower there.
//!
//! A `Tape` is not `Send`, so each pool worker keeps its own cleared tape in a
//! thread-local: every evaluation after the first (made untimed, on every
//! worker, before timing) allocates nothing, as on the calling thread. The
//! pools are rebuilt per case, which frees the workers' tapes.

#[allow(dead_code)]
mod common;

use std::any::Any;
use std::cell::RefCell;
use std::hint::black_box;

use common::Scalar;
use common::config::{configure, id};
use common::data::uniform;
use common::seed::{check_w1, check_w4, w1_eval, w4_eval};
use criterion::{Criterion, criterion_group, criterion_main};
use dualtape::{Par, Tape};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Below, at and above `PAR_MIN_LEN` (65 536).
const SIZES: [usize; 4] = [16_384, 65_536, 1_048_576, 8_388_608];

thread_local! {
    /// This thread's tape (a `Tape<f64>` or `Tape<f32>`), kept between samples.
    static WORKER_TAPE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's cleared `Tape<T>` (made on first use), kernels
/// on the current rayon pool.
fn with_worker_tape<T: Scalar, R>(f: impl FnOnce(&mut Tape<T>) -> R) -> R {
    WORKER_TAPE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !slot.as_ref().is_some_and(|t| t.is::<Tape<T>>()) {
            *slot = Some(Box::new(Tape::<T>::new()));
        }
        let tape = slot
            .as_mut()
            .and_then(|t| t.downcast_mut::<Tape<T>>())
            .expect("just made");
        tape.set_par(Par::Rayon);
        tape.clear();
        f(tape)
    })
}

/// A pool of `threads` workers.
fn pool(threads: usize) -> ThreadPool {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// One gradient evaluation of a workload on `tape`, results `black_box`ed.
type Eval<T> = fn(&Tape<T>, &[T]);

/// Times `eval` sequentially and on pools of 1 and 2 threads, for every size.
fn workload<T: Scalar>(c: &mut Criterion, name: &str, eval: Eval<T>, check: Eval<T>) {
    let mut g = c.benchmark_group(format!("parallel/{name}/{}", T::NAME));
    for n in SIZES {
        configure(&mut g, n);
        let x = uniform::<T>(n, -2.0, 3.0, 31);
        let mut tape = Tape::<T>::new();
        tape.set_par(Par::Sequential);
        check(&tape, &x);
        g.bench_function(id(n, "sequential"), |b| {
            b.iter(|| {
                tape.clear();
                eval(&tape, black_box(&x));
            })
        });
        drop(tape);
        for threads in [1, 2] {
            let pool = pool(threads);
            // Grow every worker's tape before timing.
            pool.broadcast(|_| with_worker_tape::<T, _>(|tape| eval(tape, &x)));
            g.bench_function(id(n, &format!("threads{threads}")), |b| {
                pool.install(|| {
                    with_worker_tape::<T, _>(|tape| {
                        b.iter(|| {
                            tape.clear();
                            eval(tape, black_box(&x));
                        })
                    })
                })
            });
        }
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    workload::<f64>(c, "W4", w4_eval, check_w4);
    workload::<f32>(c, "W4", w4_eval, check_w4);
    workload::<f64>(c, "W1", w1_eval, check_w1);
    workload::<f32>(c, "W1", w1_eval, check_w1);
}

criterion_group!(benches, all);
criterion_main!(benches);
