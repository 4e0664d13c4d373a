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
//! [`for_blocks`] hands its caller the run's mutable vectors (its "slots"),
//! block-local scratch ([`BlockScratch`]) and each block's range in turn; the
//! caller runs the chain's ordinary kernels on [`Par::Sequential`] over that
//! range. Blocks are multiples of a lane bundle
//! long, so every element goes through the same lane body (or the same scalar
//! tail) as when the whole vector is one kernel call: the bits do not change.
//! With [`Par::Rayon`] and a long run, the slots are halved at multiples of
//! [`CHUNK`] and the halves run under `rayon::join`.

use core::ops::Range;
use std::sync::{Mutex, PoisonError};

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

/// Block-local working storage for [`for_blocks`]: one slab per thread a run
/// may use, kept between runs so a warm tape allocates nothing.
///
/// A piece of a run takes the slab of the rayon worker running it (by
/// [`rayon::current_thread_index`]) under its own lock: uncontended, and taken
/// once per piece of at least [`CHUNK`] elements.
#[derive(Debug, Default)]
pub struct BlockScratch<T> {
    slabs: Vec<Mutex<Vec<T>>>,
}

impl<T: Real> BlockScratch<T> {
    /// Grows to `threads` slabs of at least `len` elements each.
    fn prepare(&mut self, threads: usize, len: usize) {
        if self.slabs.len() < threads {
            self.slabs.resize_with(threads, Default::default);
        }
        for slab in &mut self.slabs[..threads] {
            let slab = slab.get_mut().unwrap_or_else(PoisonError::into_inner);
            if slab.len() < len {
                slab.resize(len, T::zero());
            }
        }
    }
}

/// Calls `f(slots, scratch, base, block)` for every block of `0..len`, where
/// `slots` are the run's vectors cut to one piece starting at element `base` of
/// the whole, `block` is a range within that piece, and `scratch` is
/// `scratch_len` elements of working storage of the thread running the piece
/// (its contents are whatever the last block left). Pieces are cut only under
/// [`Par::Rayon`], from [`crate::kernels::PAR_MIN_LEN`] elements on.
///
/// # Panics
/// If there are more than [`MAX_SLOTS`] slots, or a slot is not `len` long.
pub fn for_blocks<T: Real>(
    par: Par,
    slots: &mut [&mut [T]],
    len: usize,
    scratch: &mut BlockScratch<T>,
    scratch_len: usize,
    f: &(impl Fn(&mut [&mut [T]], &mut [T], usize, Range<usize>) + Sync),
) {
    assert!(
        slots.len() <= MAX_SLOTS && slots.iter().all(|s| s.len() == len),
        "dualtape: internal: a fused run's vectors must number at most {MAX_SLOTS} and all be {len} long"
    );
    if par.splits(len) {
        scratch.prepare(rayon::current_num_threads(), scratch_len);
        let pieces = Pieces {
            slabs: &scratch.slabs,
            scratch_len,
        };
        halves(slots, 0, len, &pieces, f);
    } else {
        scratch.prepare(1, scratch_len);
        let slab = scratch.slabs[0]
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        blocks(slots, &mut slab[..scratch_len], 0, len, f);
    }
}

/// The blocks of one piece, in order, on this thread.
fn blocks<T: Real>(
    slots: &mut [&mut [T]],
    scratch: &mut [T],
    base: usize,
    len: usize,
    f: &impl Fn(&mut [&mut [T]], &mut [T], usize, Range<usize>),
) {
    let b = block_len::<T>();
    let mut start = 0;
    while start < len {
        let end = (start + b).min(len);
        f(slots, scratch, base, start..end);
        start = end;
    }
}

/// The per-thread slabs the pieces of a parallel run draw on.
struct Pieces<'s, T> {
    slabs: &'s [Mutex<Vec<T>>],
    scratch_len: usize,
}

/// Halves the piece at a multiple of [`CHUNK`] until pieces are shorter than
/// two chunks, running the halves on the rayon pool.
fn halves<T: Real>(
    slots: &mut [&mut [T]],
    base: usize,
    len: usize,
    pieces: &Pieces<'_, T>,
    f: &(impl Fn(&mut [&mut [T]], &mut [T], usize, Range<usize>) + Sync),
) {
    if len < 2 * CHUNK {
        // The worker's own slab (any slab is correct: the lock serialises).
        let k = rayon::current_thread_index().unwrap_or(0) % pieces.slabs.len();
        let mut slab = pieces.slabs[k]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        return blocks(slots, &mut slab[..pieces.scratch_len], base, len, f);
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
        || halves(&mut lo[..n], base, mid, pieces, f),
        || halves(&mut hi[..n], base + mid, len - mid, pieces, f),
    );
}
