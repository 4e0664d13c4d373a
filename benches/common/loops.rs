//! Loop skeletons for the hand-written SIMD baselines: a `chunks_exact(N)` head
//! on `wide` lanes plus one padded bundle for the tail, so each baseline states
//! its math once, as a closure on lanes.
//!
//! The tail bundle is loaded with `pad` past the end (a value inside the op's
//! domain, so it computes nothing that traps), and only the real lanes are
//! stored or, for sums, counted. Every size the suite runs is a multiple of 8,
//! so the tail only matters for correctness.

use super::lanes::{Lanes, Scalar};

/// `N` scalars from `s[i..]`, padded with `pad` past the end of `s`.
#[inline(always)]
fn load_tail<T: Scalar>(s: &[T], pad: T) -> T::V {
    let mut buf = [pad; 8];
    buf[..s.len()].copy_from_slice(s);
    T::V::load(&buf)
}

/// Stores the first `d.len()` lanes of `v` into `d`.
#[inline(always)]
fn store_tail<T: Scalar>(v: T::V, d: &mut [T]) {
    let mut buf = [T::zero(); 8];
    v.store(&mut buf);
    let k = d.len();
    d.copy_from_slice(&buf[..k]);
}

/// 1 in the first `k` lanes, 0 in the rest: masks a padded tail out of a sum.
#[inline(always)]
fn tail_mask<T: Scalar>(k: usize) -> T::V {
    let mut buf = [T::zero(); 8];
    buf[..k].fill(T::one());
    T::V::load(&buf)
}

/// `Σ f(x)` with four independent lane accumulators (so the adds overlap).
#[inline(always)]
pub fn sum_map<T: Scalar>(x: &[T], pad: T, f: impl Fn(T::V) -> T::V) -> T {
    let w = T::V::N;
    let zero = T::V::splat(T::zero());
    let mut acc = [zero; 4];
    let mut quads = x.chunks_exact(4 * w);
    for q in &mut quads {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = *a + f(T::V::load(&q[k * w..]));
        }
    }
    let mut ones = quads.remainder().chunks_exact(w);
    for c in &mut ones {
        acc[0] = acc[0] + f(T::V::load(c));
    }
    let rest = ones.remainder();
    if !rest.is_empty() {
        acc[1] = acc[1] + f(load_tail(rest, pad)) * tail_mask::<T>(rest.len());
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])).hsum()
}

/// `Σ f(a, b)` with four independent lane accumulators.
#[inline(always)]
pub fn sum_map2<T: Scalar>(a: &[T], b: &[T], pad: T, f: impl Fn(T::V, T::V) -> T::V) -> T {
    assert_eq!(a.len(), b.len());
    let w = T::V::N;
    let zero = T::V::splat(T::zero());
    let mut acc = [zero; 4];
    let mut qa = a.chunks_exact(4 * w);
    let mut qb = b.chunks_exact(4 * w);
    for (ca, cb) in (&mut qa).zip(&mut qb) {
        for (k, s) in acc.iter_mut().enumerate() {
            *s = *s + f(T::V::load(&ca[k * w..]), T::V::load(&cb[k * w..]));
        }
    }
    let mut oa = qa.remainder().chunks_exact(w);
    let mut ob = qb.remainder().chunks_exact(w);
    for (ca, cb) in (&mut oa).zip(&mut ob) {
        acc[0] = acc[0] + f(T::V::load(ca), T::V::load(cb));
    }
    let (ra, rb) = (oa.remainder(), ob.remainder());
    if !ra.is_empty() {
        let v = f(load_tail(ra, pad), load_tail(rb, pad));
        acc[1] = acc[1] + v * tail_mask::<T>(ra.len());
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])).hsum()
}

/// `g = f(x)` elementwise.
#[inline(always)]
pub fn map<T: Scalar>(x: &[T], g: &mut [T], pad: T, f: impl Fn(T::V) -> T::V) {
    assert_eq!(x.len(), g.len());
    let w = T::V::N;
    let mut xs = x.chunks_exact(w);
    let mut gs = g.chunks_exact_mut(w);
    for (xc, gc) in (&mut xs).zip(&mut gs) {
        f(T::V::load(xc)).store(gc);
    }
    let rest = xs.remainder();
    if !rest.is_empty() {
        store_tail::<T>(f(load_tail(rest, pad)), gs.into_remainder());
    }
}

/// `(y, g) = f(x, s)` elementwise: a value and a gradient from an input and a seed.
#[inline(always)]
pub fn map_2_2<T: Scalar>(
    x: &[T],
    s: &[T],
    y: &mut [T],
    g: &mut [T],
    pad: T,
    f: impl Fn(T::V, T::V) -> (T::V, T::V),
) {
    let n = x.len();
    assert!(s.len() == n && y.len() == n && g.len() == n);
    let w = T::V::N;
    let mut xs = x.chunks_exact(w);
    let mut ss = s.chunks_exact(w);
    let mut ys = y.chunks_exact_mut(w);
    let mut gs = g.chunks_exact_mut(w);
    for (((xc, sc), yc), gc) in (&mut xs).zip(&mut ss).zip(&mut ys).zip(&mut gs) {
        let (yv, gv) = f(T::V::load(xc), T::V::load(sc));
        yv.store(yc);
        gv.store(gc);
    }
    let rest = xs.remainder();
    if !rest.is_empty() {
        let (yv, gv) = f(load_tail(rest, pad), load_tail(ss.remainder(), pad));
        store_tail::<T>(yv, ys.into_remainder());
        store_tail::<T>(gv, gs.into_remainder());
    }
}

/// `(y, ga, gb) = f(a, b, s)` elementwise: a value and two gradients.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn map_3_3<T: Scalar>(
    a: &[T],
    b: &[T],
    s: &[T],
    y: &mut [T],
    ga: &mut [T],
    gb: &mut [T],
    pad: T,
    f: impl Fn(T::V, T::V, T::V) -> (T::V, T::V, T::V),
) {
    let n = a.len();
    assert!(b.len() == n && s.len() == n && y.len() == n && ga.len() == n && gb.len() == n);
    let w = T::V::N;
    let mut as_ = a.chunks_exact(w);
    let mut bs = b.chunks_exact(w);
    let mut ss = s.chunks_exact(w);
    let mut ys = y.chunks_exact_mut(w);
    let mut gas = ga.chunks_exact_mut(w);
    let mut gbs = gb.chunks_exact_mut(w);
    for (((((ac, bc), sc), yc), gac), gbc) in (&mut as_)
        .zip(&mut bs)
        .zip(&mut ss)
        .zip(&mut ys)
        .zip(&mut gas)
        .zip(&mut gbs)
    {
        let (yv, gav, gbv) = f(T::V::load(ac), T::V::load(bc), T::V::load(sc));
        yv.store(yc);
        gav.store(gac);
        gbv.store(gbc);
    }
    let rest = as_.remainder();
    if !rest.is_empty() {
        let (yv, gav, gbv) = f(
            load_tail(rest, pad),
            load_tail(bs.remainder(), pad),
            load_tail(ss.remainder(), pad),
        );
        store_tail::<T>(yv, ys.into_remainder());
        store_tail::<T>(gav, gas.into_remainder());
        store_tail::<T>(gbv, gbs.into_remainder());
    }
}

/// `Σ v` and `g = d` elementwise, where `(v, d) = f(x)`: a summed value and its
/// gradient in one pass (two accumulators: the body is long enough to hide the
/// add latency).
#[inline(always)]
pub fn sum_and_map<T: Scalar>(x: &[T], g: &mut [T], pad: T, f: impl Fn(T::V) -> (T::V, T::V)) -> T {
    assert_eq!(x.len(), g.len());
    let w = T::V::N;
    let zero = T::V::splat(T::zero());
    let mut acc = [zero; 2];
    let mut xs = x.chunks_exact(2 * w);
    let mut gs = g.chunks_exact_mut(2 * w);
    for (xc, gc) in (&mut xs).zip(&mut gs) {
        for (k, a) in acc.iter_mut().enumerate() {
            let (v, d) = f(T::V::load(&xc[k * w..]));
            *a = *a + v;
            d.store(&mut gc[k * w..]);
        }
    }
    let mut xs1 = xs.remainder().chunks_exact(w);
    let mut gs1 = gs.into_remainder().chunks_exact_mut(w);
    for (xc, gc) in (&mut xs1).zip(&mut gs1) {
        let (v, d) = f(T::V::load(xc));
        acc[0] = acc[0] + v;
        d.store(gc);
    }
    let rest = xs1.remainder();
    if !rest.is_empty() {
        let (v, d) = f(load_tail(rest, pad));
        acc[1] = acc[1] + v * tail_mask::<T>(rest.len());
        store_tail::<T>(d, gs1.into_remainder());
    }
    (acc[0] + acc[1]).hsum()
}
