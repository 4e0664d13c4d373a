//! Block-by-block runs: many vectors of one length, worked through one block
//! at a time.
//!
//! The tape fuses chains of elementwise nodes (see `tape::fuse`). Run node by
//! node, each node streams its vectors through memory once: a chain of ten
//! nodes on a vector larger than the caches moves every intermediate through
//! DRAM twice. Run block by block, every node works on one block of
//! [`block_len`] elements while that block of every vector in the chain sits in
//! L2, so each intermediate goes out to memory once.
//!
//! [`for_blocks`] hands its caller the run's mutable vectors (its "slots") and
//! each block's range in turn; the caller runs the chain's ordinary kernels on
//! [`Par::Sequential`] over that range. Blocks are multiples of a lane bundle
//! long, so every element goes through the same lane body (or the same scalar
//! tail) as when the whole vector is one kernel call: the bits do not change.
//! With [`Par::Rayon`] and a long run, the slots are halved at multiples of
//! [`CHUNK`] and the halves run under `rayon::join`.

use core::ops::Range;

use super::par::{CHUNK, Par};
use crate::real::Real;

/// The most vectors one run can hold.
pub const MAX_SLOTS: usize = 96;

/// Elements per block: 512 lane bundles, 16 KiB of `f64` or `f32`.
///
/// A ten-node chain's backward run touches about twenty vectors per block, so
/// its blocks together (about 320 KiB) stay inside Zen 3's 512 KiB L2, while
/// each vector's block is long enough for the hardware prefetcher to stream
/// it. Measured on W4 at 2²⁰ elements (f64, one thread, best of 25): blocks of
/// 64 bundles ran 25.3 ms, 256 ran 22.4, 512 ran 20.1, 1024 ran 18.9, node by
/// node 19.9; at 65 536 elements every block length ran within 4 %.
pub fn block_len<T: Real>() -> usize {
    512 * T::LANES
}

/// Calls `f(slots, base, block)` for every block of `0..len`, where `slots` are
/// the run's vectors cut to one piece starting at element `base` of the whole,
/// and `block` is a range within that piece. Pieces are cut only under
/// [`Par::Rayon`], from [`crate::kernels::PAR_MIN_LEN`] elements on.
///
/// # Panics
/// If there are more than [`MAX_SLOTS`] slots, or a slot is not `len` long.
pub fn for_blocks<T: Real>(
    par: Par,
    slots: &mut [&mut [T]],
    len: usize,
    f: &(impl Fn(&mut [&mut [T]], usize, Range<usize>) + Sync),
) {
    assert!(
        slots.len() <= MAX_SLOTS && slots.iter().all(|s| s.len() == len),
        "dualtape: internal: a fused run's vectors must number at most {MAX_SLOTS} and all be {len} long"
    );
    if par.splits(len) {
        halves(slots, 0, len, f);
    } else {
        blocks(slots, 0, len, f);
    }
}

/// The blocks of one piece, in order, on this thread.
fn blocks<T: Real>(
    slots: &mut [&mut [T]],
    base: usize,
    len: usize,
    f: &impl Fn(&mut [&mut [T]], usize, Range<usize>),
) {
    let b = block_len::<T>();
    let mut start = 0;
    while start < len {
        let end = (start + b).min(len);
        f(slots, base, start..end);
        start = end;
    }
}

/// Halves the piece at a multiple of [`CHUNK`] until pieces are shorter than
/// two chunks, running the halves on the rayon pool.
fn halves<T: Real>(
    slots: &mut [&mut [T]],
    base: usize,
    len: usize,
    f: &(impl Fn(&mut [&mut [T]], usize, Range<usize>) + Sync),
) {
    if len < 2 * CHUNK {
        return blocks(slots, base, len, f);
    }
    // len / 2 ≥ CHUNK, so mid < len / 2 + CHUNK ≤ len.
    let mid = (len / 2).next_multiple_of(CHUNK);
    let mut lo: [&mut [T]; MAX_SLOTS] = core::array::from_fn(|_| Default::default());
    let mut hi: [&mut [T]; MAX_SLOTS] = core::array::from_fn(|_| Default::default());
    let n = slots.len();
    for (k, slot) in slots.iter_mut().enumerate() {
        (lo[k], hi[k]) = slot.split_at_mut(mid);
    }
    rayon::join(
        || halves(&mut lo[..n], base, mid, f),
        || halves(&mut hi[..n], base + mid, len - mid, f),
    );
}
