//! Rayon chunking: who runs a chunk changes with the pool, where chunks split
//! never does.
//!
//! Elementwise kernels split their output at multiples of [`CHUNK`]; each element
//! is computed by the same lane body whatever the split, so the result is the
//! same bits on any pool. Sums compute one partial per fixed chunk and combine
//! the partials pairwise in index order, on one thread or many alike.

use core::ops::Range;
use rayon::prelude::*;

use crate::real::Real;

/// Elements per parallel task and per partial sum.
///
/// 16 384 f64 are 128 KiB: a chunk's inputs and output stay inside Zen 3's
/// 512 KiB L2 while a worker runs it, and a rayon task (about 1–3 µs to hand to
/// another thread) is amortised over ≥ 4 µs of memory-bound work.
pub const CHUNK: usize = 1 << 14;

/// Shortest vector a compute-bound kernel (a rule with a transcendental:
/// `exp`, `ln`, `sin`, `cos`, `tanh`, `sigmoid`, `powf`, `pow`) splits across
/// threads when [`Par::Rayon`] is chosen.
///
/// 65 536 f64 (four chunks): below it such a pass takes ≲ 0.3 ms on one core
/// and waking a second core costs several µs of it back. Above it, two threads
/// run W4 (a chain of them) about 1.5× faster on the 2-core machine we measure on.
pub const PAR_MIN_LEN: usize = 1 << 16;

/// Shortest vector a memory-bound kernel (arithmetic, copies, sums, norms,
/// extrema) splits across threads when [`Par::Rayon`] is chosen.
///
/// 262 144 elements (2 MiB of f64, past one core's L2): below it one core
/// streams the vector about as fast as two, and at 65 536 elements W1 (a norm)
/// ran 0.54–0.9× as fast on two threads as on one.
pub const PAR_MIN_LEN_LIGHT: usize = 1 << 18;

/// Where a kernel runs.
///
/// `Rayon` runs large kernels on the current rayon pool: the global pool, or the
/// pool whose [`rayon::ThreadPool::install`] the caller is inside, so a pool of
/// a chosen size is `pool.install(|| ...)`. Results are bitwise identical either
/// way: parallelism changes who computes a chunk, never where chunks split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Par {
    /// Every kernel on the calling thread.
    Sequential,
    /// Kernels of at least [`PAR_MIN_LEN`] elements on the current rayon pool.
    #[default]
    Rayon,
}

impl Par {
    pub(crate) fn splits(self, n: usize) -> bool {
        self == Par::Rayon && n >= PAR_MIN_LEN
    }

    /// Where a kernel over `n` elements runs: as chosen if it is `heavy`
    /// (compute-bound) or long enough, on the calling thread otherwise (see
    /// [`PAR_MIN_LEN_LIGHT`]). Elementwise bits never depend on the split, and
    /// sums split at the same chunks either way.
    pub(crate) fn for_work(self, heavy: bool, n: usize) -> Par {
        if heavy || n >= PAR_MIN_LEN_LIGHT {
            self
        } else {
            Par::Sequential
        }
    }
}

/// Runs `f(start, out_chunk)` over `out` in chunks of [`CHUNK`] (or whole, when
/// sequential: elementwise results do not depend on the split).
///
/// Inlined up to the sequential call, so that a short vector's kernel runs
/// its lane body in place rather than through a call.
#[inline(always)]
pub fn for_chunks<T: Send, F: Fn(usize, &mut [T]) + Sync>(par: Par, out: &mut [T], f: F) {
    if par.splits(out.len()) {
        on_pool(out, f);
    } else {
        f(0, out);
    }
}

/// [`for_chunks`] on the rayon pool.
fn on_pool<T: Send, F: Fn(usize, &mut [T]) + Sync>(out: &mut [T], f: F) {
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(k, c)| f(k * CHUNK, c));
}

/// [`for_chunks`] over two outputs of the same length, split at the same places.
#[inline(always)]
pub fn for_chunks2<T: Send, F: Fn(usize, &mut [T], &mut [T]) + Sync>(
    par: Par,
    o1: &mut [T],
    o2: &mut [T],
    f: F,
) {
    debug_assert_eq!(o1.len(), o2.len());
    if par.splits(o1.len()) {
        on_pool2(o1, o2, f);
    } else {
        f(0, o1, o2);
    }
}

/// [`for_chunks2`] on the rayon pool.
fn on_pool2<T: Send, F: Fn(usize, &mut [T], &mut [T]) + Sync>(o1: &mut [T], o2: &mut [T], f: F) {
    o1.par_chunks_mut(CHUNK)
        .zip(o2.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(k, (c1, c2))| f(k * CHUNK, c1, c2));
}

/// [`for_chunks`] over three outputs of the same length, split at the same places.
#[inline(always)]
pub fn for_chunks3<T: Send, F: Fn(usize, &mut [T], &mut [T], &mut [T]) + Sync>(
    par: Par,
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
    f: F,
) {
    debug_assert!(o1.len() == o2.len() && o1.len() == o3.len());
    if par.splits(o1.len()) {
        on_pool3(o1, o2, o3, f);
    } else {
        f(0, o1, o2, o3);
    }
}

/// [`for_chunks3`] on the rayon pool.
fn on_pool3<T: Send, F: Fn(usize, &mut [T], &mut [T], &mut [T]) + Sync>(
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
    f: F,
) {
    o1.par_chunks_mut(CHUNK)
        .zip(o2.par_chunks_mut(CHUNK))
        .zip(o3.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(k, ((c1, c2), c3))| f(k * CHUNK, c1, c2, c3));
}

/// `Σ_k f(chunk_k)` over `0..n` in chunks of [`CHUNK`], the partials combined
/// pairwise in index order. `scratch` holds the partials (reused: no allocation
/// once it has grown to `n / CHUNK`).
pub fn sum_chunks<T: Real>(
    par: Par,
    n: usize,
    scratch: &mut Vec<T>,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> T {
    let chunk = |k: usize| f(k * CHUNK..((k + 1) * CHUNK).min(n));
    let count = n.div_ceil(CHUNK);
    if count <= 1 {
        return if n == 0 { T::zero() } else { chunk(0) };
    }
    if par.splits(n) {
        (0..count)
            .into_par_iter()
            .map(chunk)
            .collect_into_vec(scratch);
    } else {
        scratch.clear();
        scratch.extend((0..count).map(chunk));
    }
    pairwise_sum(scratch)
}

/// Sum of `v` by recursive halving: error grows with log₂ of the length, not
/// the length.
fn pairwise_sum<T: Real>(v: &[T]) -> T {
    match v.len() {
        0 => T::zero(),
        1 => v[0],
        n => pairwise_sum(&v[..n / 2]) + pairwise_sum(&v[n / 2..]),
    }
}

/// Folds `f(chunk)` over `0..n` with an associative, exact `combine` (max, min,
/// integer counts), so the grouping cannot change the result. Sequential runs
/// fold the same chunks in the same order: which of two tied values (+0 and
/// −0 at a maximum) comes out must not depend on the pool.
pub fn fold_chunks<A: Send + Sync + Copy>(
    par: Par,
    n: usize,
    identity: A,
    f: impl Fn(Range<usize>) -> A + Sync,
    combine: impl Fn(A, A) -> A + Sync + Send,
) -> A {
    if par.splits(n) {
        (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| f(k * CHUNK..((k + 1) * CHUNK).min(n)))
            .reduce(|| identity, &combine)
    } else if n <= CHUNK {
        f(0..n)
    } else {
        (0..n.div_ceil(CHUNK))
            .map(|k| f(k * CHUNK..((k + 1) * CHUNK).min(n)))
            .fold(identity, &combine)
    }
}
