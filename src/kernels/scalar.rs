//! Plain-loop twins of the kernels in [`super`]: one element at a time, in index
//! order, no lanes, no threads. They are the reference the property tests hold
//! the fast kernels to, so each is written as directly as the math allows.

use num_traits::Float;

use super::{Operand, Sink};
use crate::real::{Math, Real};
use crate::rules::{BinaryRule, UnaryRule};

fn put<T: Real>(sink: &mut Sink<'_, T>, i: usize, v: T) {
    let d = &mut sink.dst[i];
    *d = if sink.add { *d + v } else { v };
}

/// Element `i` of an operand.
pub(super) fn at<T: Real>(x: Operand<'_, T>, i: usize) -> T {
    match x {
        Operand::Slice(s) => s[i],
        Operand::Splat(v) => v,
    }
}

/// Twin of [`super::unary`].
pub fn unary<T: Real, R: UnaryRule<T>>(rule: R, x: &[T], y: &mut [T], partial: &mut [T]) {
    for i in 0..y.len() {
        if R::KEEPS_PARTIAL {
            (y[i], partial[i]) = rule.value_and_deriv(x[i]);
        } else {
            y[i] = rule.value(x[i]);
        }
    }
}

/// Twin of [`super::unary_backward`] (recomputes the derivative; ignores `partial`).
pub fn unary_backward<T: Real, R: UnaryRule<T>>(
    rule: R,
    x: &[T],
    y: &[T],
    g: &[T],
    mut dx: Sink<'_, T>,
) {
    for i in 0..g.len() {
        put(&mut dx, i, rule.deriv(x[i], y[i]) * g[i]);
    }
}

/// Twin of [`super::binary`].
pub fn binary<T: Real, R: BinaryRule<T>>(
    rule: R,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    y: &mut [T],
) {
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = rule.value(at(a, i), at(b, i));
    }
}

/// Twin of [`super::binary_backward`].
pub fn binary_backward<T: Real, R: BinaryRule<T>>(
    rule: R,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    y: &[T],
    g: &[T],
    mut da: Option<Sink<'_, T>>,
    mut db: Option<Sink<'_, T>>,
) {
    let (mut sum_a, mut sum_b) = (T::zero(), T::zero());
    for i in 0..y.len() {
        let (pa, pb) = rule.partials(at(a, i), at(b, i), y[i]);
        match (a, &mut da) {
            (Operand::Slice(_), Some(s)) => put(s, i, pa * g[i]),
            (Operand::Splat(_), Some(_)) => sum_a = sum_a + pa * g[i],
            _ => {}
        }
        match (b, &mut db) {
            (Operand::Slice(_), Some(s)) => put(s, i, pb * g[i]),
            (Operand::Splat(_), Some(_)) => sum_b = sum_b + pb * g[i],
            _ => {}
        }
    }
    if let (Operand::Splat(_), Some(s)) = (a, &mut da) {
        put(s, 0, sum_a);
    }
    if let (Operand::Splat(_), Some(s)) = (b, &mut db) {
        put(s, 0, sum_b);
    }
}

/// Twin of [`super::binary_backward_same`].
pub fn binary_backward_same<T: Real, R: BinaryRule<T>>(
    rule: R,
    x: &[T],
    y: &[T],
    g: &[T],
    mut dx: Sink<'_, T>,
) {
    for i in 0..g.len() {
        let (p, q) = rule.partials(x[i], x[i], y[i]);
        put(&mut dx, i, p * g[i] + q * g[i]);
    }
}

/// Twin of [`super::sum`]: a left fold.
pub fn sum<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::zero(), |s, &v| s + v)
}

/// Twin of [`super::dot`]: a left fold.
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |s, (&x, &y)| s + x * y)
}

/// Twin of [`super::norm`]: always the scaled form `m·√Σ(x/m)²`, `m = max|x|`.
pub fn norm<T: Real>(x: &[T]) -> T {
    let m = max(&x.iter().map(|v| Math::abs(*v)).collect::<Vec<_>>());
    if m.is_nan() || m == T::zero() || m.is_infinite() {
        return if x.is_empty() {
            T::zero()
        } else {
            Float::sqrt(dot(x, x))
        };
    }
    m * Float::sqrt(x.iter().fold(T::zero(), |s, &v| s + (v / m) * (v / m)))
}

/// Twin of [`super::norm_backward`]: `x/‖x‖·g`, 0 at the zero vector.
pub fn norm_backward<T: Real>(x: &[T], norm: T, g: T, mut dx: Sink<'_, T>) {
    for (i, &v) in x.iter().enumerate() {
        let d = if norm == T::zero() {
            T::zero()
        } else {
            v / norm * g
        };
        put(&mut dx, i, d);
    }
}

/// Twin of [`super::scale`].
pub fn scale<T: Real>(x: &[T], c: T, mut dx: Sink<'_, T>) {
    for (i, &v) in x.iter().enumerate() {
        put(&mut dx, i, v * c);
    }
}

/// Twin of [`super::mul`].
pub fn mul<T: Real>(a: &[T], b: &[T], mut dx: Sink<'_, T>) {
    for i in 0..dx.dst.len() {
        put(&mut dx, i, a[i] * b[i]);
    }
}

/// Twin of [`super::mul_pair`].
pub fn mul_pair<T: Real>(pa: &[T], pb: &[T], g: &[T], da: Sink<'_, T>, db: Sink<'_, T>) {
    mul(pa, g, da);
    mul(pb, g, db);
}

/// Twin of [`super::map`]: each element alone, in a bundle of copies of it.
pub fn map<T: Real, const K: usize>(
    f: &impl super::MapFn<T, K>,
    inputs: [Operand<'_, T>; K],
    y: &mut [T],
    partials: &mut [T],
) {
    let n = y.len();
    let lane0 = |v: T::Lanes| {
        let mut buf = [T::zero(); super::map::MAX_LANES];
        T::store(v, &mut buf);
        buf[0]
    };
    for i in 0..n {
        let e = f(core::array::from_fn(|k| {
            crate::elem::Elem::input(T::Lanes::splat(at(inputs[k], i)), k)
        }));
        y[i] = lane0(e.value());
        for k in 0..K {
            partials[k * n + i] = lane0(e.deriv(k));
        }
    }
}

/// Twin of [`super::fill`].
pub fn fill<T: Real>(mut dx: Sink<'_, T>, v: T) {
    for i in 0..dx.dst.len() {
        put(&mut dx, i, v);
    }
}

/// Twin of [`super::max`].
pub fn max<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::neg_infinity(), |m, &v| {
        if m.is_nan() || v.is_nan() {
            T::nan()
        } else {
            Float::max(m, v)
        }
    })
}

/// Twin of [`super::min`].
pub fn min<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::infinity(), |m, &v| {
        if m.is_nan() || v.is_nan() {
            T::nan()
        } else {
            Float::min(m, v)
        }
    })
}

/// Twin of [`super::count_eq`].
pub fn count_eq<T: Real>(x: &[T], v: T) -> usize {
    x.iter()
        .filter(|&&e| e == v || (e.is_nan() && v.is_nan()))
        .count()
}

/// Twin of [`super::extremum_backward`].
pub fn extremum_backward<T: Real>(x: &[T], m: T, share: T, mut dx: Sink<'_, T>) {
    for (i, &v) in x.iter().enumerate() {
        let hit = v == m || (v.is_nan() && m.is_nan());
        put(&mut dx, i, if hit { share } else { T::zero() });
    }
}
