//! The kernel of a mapped closure ([`crate::Var::map`]): the closure on
//! [`Elem`] bundles, its values and its derivatives stored in one pass.
//!
//! A tail shorter than one bundle runs as one more bundle, padded with copies
//! of its first element: the closure sees lanes only, and lanes do not mix,
//! so an element takes the same instructions wherever it sits.
//! [`super::scalar::map`] (one element at a time, in a bundle of copies) is
//! its twin, bitwise but where an element's lanes neighbours change its
//! path, by an ulp or so: a lane function that hands a whole bundle to the
//! scalar path for one element in it (`ln` of a subnormal, `sin` past the
//! range its reduction keeps accurate, `powf` with a NaN, 0 or overflowing
//! lane: see `real.rs`), and `wide`'s `tanh`, whose `exp_m1` rounds to −1
//! only when every lane is below −37.43 (`tests/map.rs` has the cases).

use super::{Operand, Par, par};
use crate::elem::Elem;
use crate::real::{Math, Real};

/// The most lanes a [`Real::Lanes`] has (`f32x8`), with room to spare: the
/// length of the stack buffers a padded bundle goes through.
pub(super) const MAX_LANES: usize = 16;

/// The map's closure on bundles: `K` inputs, each an [`Elem`] seeded as
/// input `k`, to one `Elem`.
pub trait MapFn<T: Real, const K: usize>: Fn([Elem<T, K>; K]) -> Elem<T, K> + Sync {}
impl<T: Real, const K: usize, F: Fn([Elem<T, K>; K]) -> Elem<T, K> + Sync> MapFn<T, K> for F {}

/// `y = f(x₁, …, x_K)` elementwise, broadcasting a [`Operand::Splat`]
/// input, and `∂f/∂x_k` into `partials[k·n..(k + 1)·n]` (`n = y.len()`).
///
/// # Panics
/// If `K` is not 1 or 2 (the arities of [`crate::Var::map`] and
/// [`crate::Var::map2`]), `partials` is not `K` times as long as `y`, or a
/// slice input is shorter than `y`.
pub fn map<T: Real, const K: usize>(
    par: Par,
    f: &impl MapFn<T, K>,
    inputs: [Operand<'_, T>; K],
    y: &mut [T],
    partials: &mut [T],
) {
    let n = y.len();
    assert!(
        partials.len() == K * n,
        "dualtape: kernels::map: {} partials for {K} inputs of {n} elements (wants {})",
        partials.len(),
        K * n
    );
    // Transcendentals or not, the closure is unknown: split as the heavy kernels do.
    let par = par.for_work(true, n);
    match K {
        1 => par::for_chunks2(par, y, partials, |s, yc, p0| {
            bundles(f, &inputs, s, yc, &mut [p0]);
        }),
        2 => {
            let (p0, p1) = partials.split_at_mut(n);
            par::for_chunks3(par, y, p0, p1, |s, yc, c0, c1| {
                bundles(f, &inputs, s, yc, &mut [c0, c1]);
            });
        }
        _ => panic!("dualtape: kernels::map: {K} inputs; a map takes one or two"),
    }
}

/// Bundle `i..i + LANES` of an input sliced to the chunk.
#[inline(always)]
fn load<T: Real>(x: Operand<'_, T>, i: usize) -> T::Lanes {
    match x {
        Operand::Slice(v) => T::load(&v[i..i + T::LANES]),
        Operand::Splat(v) => T::Lanes::splat(v),
    }
}

/// The bundles of `y` (elements `s..s + y.len()` of the map), the last one
/// padded.
#[inline(always)]
fn bundles<T: Real, const K: usize>(
    f: &impl MapFn<T, K>,
    inputs: &[Operand<'_, T>; K],
    s: usize,
    y: &mut [T],
    partials: &mut [&mut [T]],
) {
    let n = y.len();
    // Every slice cut to the chunk's `n` elements, and the loop bounded by
    // `i + LANES <= n`: the compiler then drops the per-bundle bounds checks.
    let chunk = inputs.map(|x| match x {
        Operand::Slice(v) => Operand::Slice(&v[s..s + n]),
        splat => splat,
    });
    for p in partials.iter_mut() {
        *p = &mut core::mem::take(p)[..n];
    }
    let mut i = 0;
    let mut run_bundle = |at: usize, x: [T::Lanes; K]| {
        let e = f(core::array::from_fn(|k| Elem::input(x[k], k)));
        T::store(e.value(), &mut y[at..at + T::LANES]);
        for (k, p) in partials.iter_mut().enumerate() {
            T::store(e.deriv(k), &mut p[at..at + T::LANES]);
        }
    };
    if let Some(slices) = all_slices(&chunk) {
        // The common case with no per-bundle match on the operand kind.
        while i + T::LANES <= n {
            run_bundle(
                i,
                core::array::from_fn(|k| T::load(&slices[k][i..i + T::LANES])),
            );
            i += T::LANES;
        }
    } else {
        while i + T::LANES <= n {
            run_bundle(i, core::array::from_fn(|k| load(chunk[k], i)));
            i += T::LANES;
        }
    }
    if i < n {
        tail(f, inputs, s + i, &mut y[i..], partials, i);
    }
}

/// The inputs' slices, where none is a splat.
#[inline(always)]
fn all_slices<'a, T: Real, const K: usize>(inputs: &[Operand<'a, T>; K]) -> Option<[&'a [T]; K]> {
    let mut slices: [&[T]; K] = [&[]; K];
    for (slice, x) in slices.iter_mut().zip(inputs) {
        match *x {
            Operand::Slice(v) => *slice = v,
            Operand::Splat(_) => return None,
        }
    }
    Some(slices)
}

/// The last `y.len() < LANES` elements (map elements `s..`, at `at` in each
/// partial chunk) as one bundle padded with copies of the first.
#[inline(never)]
fn tail<T: Real, const K: usize>(
    f: &impl MapFn<T, K>,
    inputs: &[Operand<'_, T>; K],
    s: usize,
    y: &mut [T],
    partials: &mut [&mut [T]],
    at: usize,
) {
    let r = y.len();
    let e = f(core::array::from_fn(|k| {
        let x = match inputs[k] {
            Operand::Slice(v) => {
                let mut buf = [v[s]; MAX_LANES];
                buf[..r].copy_from_slice(&v[s..s + r]);
                T::load(&buf)
            }
            Operand::Splat(v) => T::Lanes::splat(v),
        };
        Elem::input(x, k)
    }));
    let mut buf = [T::zero(); MAX_LANES];
    T::store(e.value(), &mut buf);
    y.copy_from_slice(&buf[..r]);
    for (k, p) in partials.iter_mut().enumerate() {
        T::store(e.deriv(k), &mut buf);
        p[at..at + r].copy_from_slice(&buf[..r]);
    }
}
