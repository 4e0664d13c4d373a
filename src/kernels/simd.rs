//! Lane bodies: a `chunks_exact(LANES)` head on SIMD lanes plus a scalar tail.
//!
//! Each body takes two closures that call the same rule: one on lanes, one on
//! scalars (for the tail). `ADD` chooses between writing the result and adding it
//! to what the output holds, so a node's first adjoint contribution needs no
//! zero-filled buffer.

use crate::real::{Math, Real};

type Lanes<T> = <T as Real>::Lanes;

#[inline(always)]
fn put<T: Real, const ADD: bool>(dst: &mut [T], v: Lanes<T>) {
    if ADD {
        let old = T::load(dst);
        T::store(old + v, dst);
    } else {
        T::store(v, dst);
    }
}

#[inline(always)]
fn put1<T: Real, const ADD: bool>(dst: &mut T, v: T) {
    if ADD {
        *dst = *dst + v;
    } else {
        *dst = v;
    }
}

/// `out[i] (=|+=) f(x[i])`.
#[inline(always)]
pub fn map1<T: Real, const ADD: bool>(
    x: &[T],
    out: &mut [T],
    fl: impl Fn(Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T) -> T,
) {
    let n = out.len();
    let x = &x[..n];
    let head = n - n % T::LANES;
    for (xs, os) in x[..head]
        .chunks_exact(T::LANES)
        .zip(out[..head].chunks_exact_mut(T::LANES))
    {
        put::<T, ADD>(os, fl(T::load(xs)));
    }
    for (xv, o) in x[head..].iter().zip(&mut out[head..]) {
        put1::<T, ADD>(o, fs(*xv));
    }
}

/// `out[i] (=|+=) f(a[i], b[i])`.
#[inline(always)]
pub fn map2<T: Real, const ADD: bool>(
    a: &[T],
    b: &[T],
    out: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T, T) -> T,
) {
    let n = out.len();
    let (a, b) = (&a[..n], &b[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(out[..head].chunks_exact_mut(T::LANES));
    for ((as_, bs), os) in lanes {
        put::<T, ADD>(os, fl(T::load(as_), T::load(bs)));
    }
    for i in head..n {
        put1::<T, ADD>(&mut out[i], fs(a[i], b[i]));
    }
}

/// `out[i] (=|+=) f(a[i], b[i], c[i])`.
#[inline(always)]
pub fn map3<T: Real, const ADD: bool>(
    a: &[T],
    b: &[T],
    c: &[T],
    out: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>, Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T, T, T) -> T,
) {
    let n = out.len();
    let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(c[..head].chunks_exact(T::LANES))
        .zip(out[..head].chunks_exact_mut(T::LANES));
    for (((as_, bs), cs), os) in lanes {
        put::<T, ADD>(os, fl(T::load(as_), T::load(bs), T::load(cs)));
    }
    for i in head..n {
        put1::<T, ADD>(&mut out[i], fs(a[i], b[i], c[i]));
    }
}

/// `out[i] (=|+=) f(a[i], b[i], c[i], d[i])`.
#[inline(always)]
pub fn map4<T: Real, const ADD: bool>(
    a: &[T],
    b: &[T],
    c: &[T],
    d: &[T],
    out: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>, Lanes<T>, Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T, T, T, T) -> T,
) {
    let n = out.len();
    let (a, b, c, d) = (&a[..n], &b[..n], &c[..n], &d[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(c[..head].chunks_exact(T::LANES))
        .zip(d[..head].chunks_exact(T::LANES))
        .zip(out[..head].chunks_exact_mut(T::LANES));
    for ((((as_, bs), cs), ds), os) in lanes {
        put::<T, ADD>(os, fl(T::load(as_), T::load(bs), T::load(cs), T::load(ds)));
    }
    for i in head..n {
        put1::<T, ADD>(&mut out[i], fs(a[i], b[i], c[i], d[i]));
    }
}

/// `(o1[i], o2[i]) (=|+=) f(a[i], b[i])`.
#[inline(always)]
pub fn map2_2<T: Real, const ADD1: bool, const ADD2: bool>(
    a: &[T],
    b: &[T],
    o1: &mut [T],
    o2: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>) -> (Lanes<T>, Lanes<T>),
    fs: impl Fn(T, T) -> (T, T),
) {
    let n = o1.len();
    let (a, b, o2) = (&a[..n], &b[..n], &mut o2[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(o1[..head].chunks_exact_mut(T::LANES))
        .zip(o2[..head].chunks_exact_mut(T::LANES));
    for (((as_, bs), s1), s2) in lanes {
        let (v1, v2) = fl(T::load(as_), T::load(bs));
        put::<T, ADD1>(s1, v1);
        put::<T, ADD2>(s2, v2);
    }
    for i in head..n {
        let (v1, v2) = fs(a[i], b[i]);
        put1::<T, ADD1>(&mut o1[i], v1);
        put1::<T, ADD2>(&mut o2[i], v2);
    }
}

/// `(o1[i], o2[i]) (=|+=) f(a[i], b[i], c[i])`.
#[inline(always)]
pub fn map3_2<T: Real, const ADD1: bool, const ADD2: bool>(
    a: &[T],
    b: &[T],
    c: &[T],
    o1: &mut [T],
    o2: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>, Lanes<T>) -> (Lanes<T>, Lanes<T>),
    fs: impl Fn(T, T, T) -> (T, T),
) {
    let n = o1.len();
    let (a, b, c, o2) = (&a[..n], &b[..n], &c[..n], &mut o2[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(c[..head].chunks_exact(T::LANES))
        .zip(o1[..head].chunks_exact_mut(T::LANES))
        .zip(o2[..head].chunks_exact_mut(T::LANES));
    for ((((as_, bs), cs), s1), s2) in lanes {
        let (v1, v2) = fl(T::load(as_), T::load(bs), T::load(cs));
        put::<T, ADD1>(s1, v1);
        put::<T, ADD2>(s2, v2);
    }
    for i in head..n {
        let (v1, v2) = fs(a[i], b[i], c[i]);
        put1::<T, ADD1>(&mut o1[i], v1);
        put1::<T, ADD2>(&mut o2[i], v2);
    }
}

/// `(o1[i], o2[i]) = f(x[i])`: a forward pass that keeps a partial.
#[inline(always)]
pub fn map1_2<T: Real>(
    x: &[T],
    o1: &mut [T],
    o2: &mut [T],
    fl: impl Fn(Lanes<T>) -> (Lanes<T>, Lanes<T>),
    fs: impl Fn(T) -> (T, T),
) {
    let n = o1.len();
    let (x, o2) = (&x[..n], &mut o2[..n]);
    let head = n - n % T::LANES;
    let lanes = x[..head]
        .chunks_exact(T::LANES)
        .zip(o1[..head].chunks_exact_mut(T::LANES))
        .zip(o2[..head].chunks_exact_mut(T::LANES));
    for ((xs, s1), s2) in lanes {
        let (v1, v2) = fl(T::load(xs));
        T::store(v1, s1);
        T::store(v2, s2);
    }
    for i in head..n {
        let (v1, v2) = fs(x[i]);
        o1[i] = v1;
        o2[i] = v2;
    }
}

/// `(o1[i], o2[i]) (=|+=) f(a[i], b[i], c[i], d[i])`: a fused binary backward,
/// both input adjoints in one pass.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn map4_2<T: Real, const ADD1: bool, const ADD2: bool>(
    a: &[T],
    b: &[T],
    c: &[T],
    d: &[T],
    o1: &mut [T],
    o2: &mut [T],
    fl: impl Fn(Lanes<T>, Lanes<T>, Lanes<T>, Lanes<T>) -> (Lanes<T>, Lanes<T>),
    fs: impl Fn(T, T, T, T) -> (T, T),
) {
    let n = o1.len();
    let (a, b, c, d, o2) = (&a[..n], &b[..n], &c[..n], &d[..n], &mut o2[..n]);
    let head = n - n % T::LANES;
    let lanes = a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(c[..head].chunks_exact(T::LANES))
        .zip(d[..head].chunks_exact(T::LANES))
        .zip(o1[..head].chunks_exact_mut(T::LANES))
        .zip(o2[..head].chunks_exact_mut(T::LANES));
    for (((((as_, bs), cs), ds), s1), s2) in lanes {
        let (v1, v2) = fl(T::load(as_), T::load(bs), T::load(cs), T::load(ds));
        put::<T, ADD1>(s1, v1);
        put::<T, ADD2>(s2, v2);
    }
    for i in head..n {
        let (v1, v2) = fs(a[i], b[i], c[i], d[i]);
        put1::<T, ADD1>(&mut o1[i], v1);
        put1::<T, ADD2>(&mut o2[i], v2);
    }
}

/// Number of independent lane accumulators in a sum: enough to hide the add
/// latency (4 cycles on Zen 3, 2 adds a cycle) and to shorten each partial
/// sum's chain fourfold, which is where the accuracy of a long sum is lost.
const ACCUMULATORS: usize = 4;

/// `Σ f(x[i])` over lanes with [`ACCUMULATORS`] independent accumulators,
/// combined pairwise, then the tail in index order.
#[inline(always)]
pub fn sum_map<T: Real>(x: &[T], fl: impl Fn(Lanes<T>) -> Lanes<T>, fs: impl Fn(T) -> T) -> T {
    let block = T::LANES * ACCUMULATORS;
    let head = x.len() - x.len() % block;
    let zero = <Lanes<T> as Math<T>>::splat(T::zero());
    let mut acc = [zero; ACCUMULATORS];
    for xs in x[..head].chunks_exact(block) {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = *a + fl(T::load(&xs[k * T::LANES..]));
        }
    }
    let lanes = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    x[head..]
        .iter()
        .fold(T::reduce_add(lanes), |s, &v| s + fs(v))
}

/// `Σ f(a[i], b[i])`, accumulated as [`sum_map`].
#[inline(always)]
pub fn sum_map2<T: Real>(
    a: &[T],
    b: &[T],
    fl: impl Fn(Lanes<T>, Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T, T) -> T,
) -> T {
    let n = a.len();
    let b = &b[..n];
    let block = T::LANES * ACCUMULATORS;
    let head = n - n % block;
    let zero = <Lanes<T> as Math<T>>::splat(T::zero());
    let mut acc = [zero; ACCUMULATORS];
    for (as_, bs) in a[..head]
        .chunks_exact(block)
        .zip(b[..head].chunks_exact(block))
    {
        for (k, acc_k) in acc.iter_mut().enumerate() {
            let o = k * T::LANES;
            *acc_k = *acc_k + fl(T::load(&as_[o..]), T::load(&bs[o..]));
        }
    }
    let lanes = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    (head..n).fold(T::reduce_add(lanes), |s, i| s + fs(a[i], b[i]))
}

/// `Σ f(a[i], b[i], c[i])`, accumulated as [`sum_map`].
#[inline(always)]
pub fn sum_map3<T: Real>(
    a: &[T],
    b: &[T],
    c: &[T],
    fl: impl Fn(Lanes<T>, Lanes<T>, Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T, T, T) -> T,
) -> T {
    let n = a.len();
    let (b, c) = (&b[..n], &c[..n]);
    let head = n - n % T::LANES;
    let mut acc = <Lanes<T> as Math<T>>::splat(T::zero());
    for ((as_, bs), cs) in a[..head]
        .chunks_exact(T::LANES)
        .zip(b[..head].chunks_exact(T::LANES))
        .zip(c[..head].chunks_exact(T::LANES))
    {
        acc = acc + fl(T::load(as_), T::load(bs), T::load(cs));
    }
    (head..n).fold(T::reduce_add(acc), |s, i| s + fs(a[i], b[i], c[i]))
}

/// The largest (`MAX`) or smallest element; NaN if any element is NaN; the
/// identity (−inf or +inf) for an empty slice.
#[inline(always)]
pub fn extremum<T: Real, const MAX: bool>(
    x: &[T],
    fl: impl Fn(Lanes<T>) -> Lanes<T>,
    fs: impl Fn(T) -> T,
) -> T {
    let head = x.len() - x.len() % T::LANES;
    let init = if MAX {
        T::neg_infinity()
    } else {
        T::infinity()
    };
    let mut acc = <Lanes<T> as Math<T>>::splat(init);
    let zero = <Lanes<T> as Math<T>>::splat(T::zero());
    let mut nan = zero;
    for xs in x[..head].chunks_exact(T::LANES) {
        let v = fl(T::load(xs));
        // Adds 0 for every value but NaN (the only value unequal to itself).
        nan = nan + v.select_eq(v, zero, v);
        acc = if MAX {
            lane_max::<T>(acc, v)
        } else {
            lane_min::<T>(acc, v)
        };
    }
    let mut m = if MAX {
        T::reduce_max(acc)
    } else {
        T::reduce_min(acc)
    };
    let mut seen_nan = T::reduce_add(nan).is_nan();
    for &v in &x[head..] {
        let v = fs(v);
        seen_nan |= v.is_nan();
        if (MAX && v > m) || (!MAX && v < m) {
            m = v;
        }
    }
    if seen_nan { T::nan() } else { m }
}

#[inline(always)]
fn lane_max<T: Real>(a: Lanes<T>, b: Lanes<T>) -> Lanes<T> {
    // a − b ≤ 0 ⇔ a ≤ b in IEEE arithmetic (gradual underflow keeps the sign,
    // overflow goes to ±inf); inf − inf is NaN, where either side is right.
    (a - b).select_le_zero(b, a)
}

#[inline(always)]
fn lane_min<T: Real>(a: Lanes<T>, b: Lanes<T>) -> Lanes<T> {
    (b - a).select_le_zero(b, a)
}
