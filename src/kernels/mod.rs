//! The kernel layer: the only code that loops over data.
//!
//! Everything here is a safe door: slices in, slices out. Each op's kernel is a
//! lane body from `simd` (a `chunks_exact(LANES)` head on `wide` lanes plus a
//! scalar tail), run whole or in [`CHUNK`]-sized pieces on rayon by [`par`].
//! [`scalar`] holds the plain-loop twin of every kernel here: the reference the
//! property tests compare against.
//!
//! Vectors shorter than one lane bundle skip the lane and chunk machinery and
//! run their [`scalar`] twin directly: the same rule on the same values in the
//! same order as the lane bodies' scalar tail, so the bits do not change, and a
//! recorded op on a length-1 vector costs a few instructions, not a pipeline.
//!
//! Backward kernels write into an adjoint [`Sink`]: either overwrite it (a node's
//! first contribution) or add to it, so adjoint buffers never need zero-filling.

pub mod fused;
mod map;
pub mod par;
pub mod scalar;
mod simd;

pub use map::{MapFn, map};
pub use par::{CHUNK, PAR_MIN_LEN, PAR_MIN_LEN_LIGHT, Par};

use num_traits::Float;

use crate::real::{Math, Real};
use crate::rules::{BinaryRule, UnaryRule};

/// One input of a binary kernel: a vector, or a scalar broadcast against it.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a, T> {
    /// One value per output element.
    Slice(&'a [T]),
    /// One value for every output element (a length-1 input).
    Splat(T),
}

/// Where a backward kernel puts an input's adjoint contribution.
#[derive(Debug)]
pub struct Sink<'a, T> {
    /// The input's adjoint buffer.
    pub dst: &'a mut [T],
    /// Add to `dst` (true) or overwrite it (false: the first contribution).
    pub add: bool,
}

impl<'a, T> Sink<'a, T> {
    /// A sink that overwrites `dst`.
    pub fn write(dst: &'a mut [T]) -> Self {
        Sink { dst, add: false }
    }
    /// A sink that adds to `dst`.
    pub fn add(dst: &'a mut [T]) -> Self {
        Sink { dst, add: true }
    }
}

/// Calls `$body` with the const generic `$add` set from the runtime bool.
macro_rules! with_add {
    ($flag:expr, $add:ident => $body:expr) => {
        if $flag {
            const $add: bool = true;
            $body
        } else {
            const $add: bool = false;
            $body
        }
    };
}

/// Puts a reduced scalar contribution into a length-1 sink.
pub(crate) fn put_scalar<T: Real>(sink: Sink<'_, T>, v: T) {
    let d = &mut sink.dst[0];
    *d = if sink.add { *d + v } else { v };
}

/// `y = f(x)`; for rules that keep their derivative, also `partial = f'(x)`
/// (`partial` is ignored, and may be empty, otherwise).
///
/// Inlined up to its one-element case (see [`binary`]).
#[inline(always)]
pub fn unary<T: Real, R: UnaryRule<T>>(par: Par, rule: R, x: &[T], y: &mut [T], partial: &mut [T]) {
    if let ([x], [y]) = (x, &mut *y) {
        if R::KEEPS_PARTIAL {
            (*y, partial[0]) = rule.value_and_deriv(*x);
        } else {
            *y = rule.value(*x);
        }
        return;
    }
    unary_many(par, rule, x, y, partial)
}

/// [`unary`] past one element.
fn unary_many<T: Real, R: UnaryRule<T>>(
    par: Par,
    rule: R,
    x: &[T],
    y: &mut [T],
    partial: &mut [T],
) {
    if y.len() < T::LANES {
        return scalar::unary(rule, x, y, partial);
    }
    let par = par.for_work(R::HEAVY, y.len());
    if R::KEEPS_PARTIAL {
        par::for_chunks2(par, y, partial, |s, yc, pc| {
            simd::map1_2(
                &x[s..],
                yc,
                pc,
                |v| rule.value_and_deriv(v),
                |v| rule.value_and_deriv(v),
            )
        });
    } else {
        par::for_chunks(par, y, |s, yc| {
            simd::map1::<T, false>(&x[s..], yc, |v| rule.value(v), |v| rule.value(v))
        });
    }
}

/// `dx (=|+=) f'(x) · g`, reading the kept `partial` where the rule keeps one.
pub fn unary_backward<T: Real, R: UnaryRule<T>>(
    par: Par,
    rule: R,
    x: &[T],
    y: &[T],
    partial: &[T],
    g: &[T],
    dx: Sink<'_, T>,
) {
    if g.len() < T::LANES {
        return scalar::unary_backward(rule, x, y, g, dx);
    }
    let par = par.for_work(R::HEAVY, g.len());
    with_add!(dx.add, ADD => {
        if R::KEEPS_PARTIAL {
            par::for_chunks(par, dx.dst, |s, dc| {
                simd::map2::<T, ADD>(&partial[s..], &g[s..], dc, |p, g| p * g, |p, g| p * g)
            });
        } else {
            par::for_chunks(par, dx.dst, |s, dc| {
                simd::map3::<T, ADD>(
                    &x[s..], &y[s..], &g[s..], dc,
                    |x, y, g| rule.deriv(x, y) * g,
                    |x, y, g| rule.deriv(x, y) * g,
                )
            });
        }
    })
}

/// `y = f(a, b)`, broadcasting a [`Operand::Splat`] side.
///
/// Inlined up to its one-element case: a recorded op on scalars costs the
/// arithmetic, not a call. That case is no loop on purpose: the short loop of
/// `scalar::binary` computes the same, but where the target has AVX-512 the
/// compiler turns it into one masked vector load, which the CPU cannot forward
/// from the store that wrote the input a moment before: a stall of some 20
/// cycles on every op of a length-1 chain (`perf annotate`).
#[inline(always)]
pub fn binary<T: Real, R: BinaryRule<T>>(
    par: Par,
    rule: R,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    y: &mut [T],
) {
    if let [y] = y {
        *y = rule.value(scalar::at(a, 0), scalar::at(b, 0));
        return;
    }
    binary_many(par, rule, a, b, y)
}

/// [`binary`] past one element.
fn binary_many<T: Real, R: BinaryRule<T>>(
    par: Par,
    rule: R,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    y: &mut [T],
) {
    if y.len() < T::LANES {
        return scalar::binary(rule, a, b, y);
    }
    let par = par.for_work(R::HEAVY, y.len());
    use Operand::{Slice, Splat};
    match (a, b) {
        (Slice(a), Slice(b)) => par::for_chunks(par, y, |s, yc| {
            simd::map2::<T, false>(
                &a[s..],
                &b[s..],
                yc,
                |a, b| rule.value(a, b),
                |a, b| rule.value(a, b),
            )
        }),
        (Splat(a), Slice(b)) => par::for_chunks(par, y, |s, yc| {
            let al = T::Lanes::splat(a);
            simd::map1::<T, false>(&b[s..], yc, |b| rule.value(al, b), |b| rule.value(a, b))
        }),
        (Slice(a), Splat(b)) => par::for_chunks(par, y, |s, yc| {
            let bl = T::Lanes::splat(b);
            simd::map1::<T, false>(&a[s..], yc, |a| rule.value(a, bl), |a| rule.value(a, b))
        }),
        (Splat(a), Splat(b)) => y.fill(rule.value(a, b)),
    }
}

/// The backward of [`binary`]: `da (=|+=) ∂f/∂a · g`, `db (=|+=) ∂f/∂b · g`.
///
/// Two vector sides are updated in one fused pass. A [`Operand::Splat`] side's
/// sink has length 1 and receives `Σ ∂f/∂side · g` (a deterministic chunked sum
/// that uses `scratch`). `None` skips a side that needs no gradient.
#[allow(clippy::too_many_arguments)]
pub fn binary_backward<T: Real, R: BinaryRule<T>>(
    par: Par,
    rule: R,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    y: &[T],
    g: &[T],
    da: Option<Sink<'_, T>>,
    db: Option<Sink<'_, T>>,
    scratch: &mut Vec<T>,
) {
    if y.len() < T::LANES {
        return scalar::binary_backward(rule, a, b, y, g, da, db);
    }
    let par = par.for_work(R::HEAVY, y.len());
    match (a, b, da, db) {
        (Operand::Slice(a), Operand::Slice(b), Some(da), Some(db)) => {
            with_add!(da.add, A => with_add!(db.add, B => {
                par::for_chunks2(par, da.dst, db.dst, |s, ac, bc| {
                    simd::map4_2::<T, A, B>(
                        &a[s..], &b[s..], &y[s..], &g[s..], ac, bc,
                        |a, b, y, g| { let (p, q) = rule.partials(a, b, y); (p * g, q * g) },
                        |a, b, y, g| { let (p, q) = rule.partials(a, b, y); (p * g, q * g) },
                    )
                })
            }))
        }
        (a, b, da, db) => {
            if let Some(da) = da {
                side_backward::<T, R, true>(par, rule, a, b, y, g, da, scratch);
            }
            if let Some(db) = db {
                side_backward::<T, R, false>(par, rule, b, a, y, g, db, scratch);
            }
        }
    }
}

/// The backward of `f(x, x)` (both inputs the same node, as in `x * x`):
/// `dx (=|+=) ∂f/∂a(x, x)·g + ∂f/∂b(x, x)·g` in one pass (each partial times
/// `g` before the sum: `(p + q)·g` overflows for `|x| > MAX/2` in `x·x`).
pub fn binary_backward_same<T: Real, R: BinaryRule<T>>(
    par: Par,
    rule: R,
    x: &[T],
    y: &[T],
    g: &[T],
    dx: Sink<'_, T>,
) {
    if y.len() < T::LANES {
        return scalar::binary_backward_same(rule, x, y, g, dx);
    }
    let par = par.for_work(R::HEAVY, y.len());
    with_add!(dx.add, ADD => par::for_chunks(par, dx.dst, |s, dc| {
        simd::map3::<T, ADD>(
            &x[s..], &y[s..], &g[s..], dc,
            |x, y, g| { let (p, q) = rule.partials(x, x, y); p * g + q * g },
            |x, y, g| { let (p, q) = rule.partials(x, x, y); p * g + q * g },
        )
    }))
}

/// `∂f/∂(own side)` at `(own, other)`: side `a` when `SIDE_A`, else side `b`.
#[inline(always)]
fn side_partial<T: Real, L: Math<T>, R: BinaryRule<T>, const SIDE_A: bool>(
    rule: R,
    own: L,
    other: L,
    y: L,
) -> L {
    if SIDE_A {
        rule.partials(own, other, y).0
    } else {
        rule.partials(other, own, y).1
    }
}

/// One side of [`binary_backward`]: `own`'s adjoint, with `other` the other input.
#[allow(clippy::too_many_arguments)]
fn side_backward<T: Real, R: BinaryRule<T>, const SIDE_A: bool>(
    par: Par,
    rule: R,
    own: Operand<'_, T>,
    other: Operand<'_, T>,
    y: &[T],
    g: &[T],
    sink: Sink<'_, T>,
    scratch: &mut Vec<T>,
) {
    use Operand::{Slice, Splat};
    let p = |o, t, y| side_partial::<T, T, R, SIDE_A>(rule, o, t, y);
    let pl = |o, t, y| side_partial::<T, T::Lanes, R, SIDE_A>(rule, o, t, y);
    let splat = |v: T| T::Lanes::splat(v);
    match (own, other) {
        (Slice(own), Slice(other)) => {
            with_add!(sink.add, ADD => par::for_chunks(par, sink.dst, |s, dc| {
                simd::map4::<T, ADD>(
                    &own[s..], &other[s..], &y[s..], &g[s..], dc,
                    |o, t, y, g| pl(o, t, y) * g,
                    |o, t, y, g| p(o, t, y) * g,
                )
            }))
        }
        (Slice(own), Splat(t)) => {
            with_add!(sink.add, ADD => par::for_chunks(par, sink.dst, |s, dc| {
                let tl = splat(t);
                simd::map3::<T, ADD>(
                    &own[s..], &y[s..], &g[s..], dc,
                    |o, y, g| pl(o, tl, y) * g,
                    |o, y, g| p(o, t, y) * g,
                )
            }))
        }
        // A broadcast input's adjoint is the sum over the elements it touched.
        (Splat(o), Slice(other)) => {
            let ol = splat(o);
            let v = par::sum_chunks(par, y.len(), scratch, |r| {
                simd::sum_map3(
                    &other[r.clone()],
                    &y[r.clone()],
                    &g[r],
                    |t, y, g| pl(ol, t, y) * g,
                    |t, y, g| p(o, t, y) * g,
                )
            });
            put_scalar(sink, v);
        }
        // Both broadcast over `y.len()` elements: `Σ ∂f/∂own · gᵢ`, every ∂f alike.
        (Splat(o), Splat(t)) => {
            let d = y.first().map_or(T::zero(), |&y0| p(o, t, y0));
            let dl = splat(d);
            let v = par::sum_chunks(par, g.len(), scratch, |r| {
                simd::sum_map(&g[r], |g| dl * g, |g| d * g)
            });
            put_scalar(sink, v);
        }
    }
}

/// `Σ x`.
pub fn sum<T: Real>(par: Par, x: &[T], scratch: &mut Vec<T>) -> T {
    let par = par.for_work(false, x.len());
    par::sum_chunks(par, x.len(), scratch, |r| {
        simd::sum_map(&x[r], |v| v, |v| v)
    })
}

/// `Σ a·b`.
pub fn dot<T: Real>(par: Par, a: &[T], b: &[T], scratch: &mut Vec<T>) -> T {
    let par = par.for_work(false, a.len());
    par::sum_chunks(par, a.len(), scratch, |r| {
        simd::sum_map2(&a[r.clone()], &b[r], |a, b| a * b, |a, b| a * b)
    })
}

/// `‖x‖₂` without spurious overflow or underflow.
///
/// The plain `√Σx²` runs first; only when it overflowed, or fell where squares
/// lose precision (`Σx² < MIN_POSITIVE/EPSILON`), is the sum redone on
/// `x / max|x|` and scaled back (as BLAS `nrm2` does, but only on that path, so
/// ordinary vectors pay nothing).
pub fn norm<T: Real>(par: Par, x: &[T], scratch: &mut Vec<T>) -> T {
    let par = par.for_work(false, x.len());
    let sq = par::sum_chunks(par, x.len(), scratch, |r| {
        simd::sum_map(&x[r], |v| v * v, |v| v * v)
    });
    if sq.is_nan() || (sq.is_finite() && sq >= T::min_positive_value() / T::epsilon()) {
        return Float::sqrt(sq);
    }
    // Overflowed to +inf, or small enough that squares lost precision (or 0).
    let m = max_abs(par, x);
    if m == T::zero() || !m.is_finite() {
        // All zeros, or an infinite element: the plain result stands.
        return Float::sqrt(sq);
    }
    let ml = T::Lanes::splat(m);
    let scaled = par::sum_chunks(par, x.len(), scratch, |r| {
        simd::sum_map(
            &x[r],
            |v| {
                let s = v / ml;
                s * s
            },
            |v| {
                let s = v / m;
                s * s
            },
        )
    });
    m * Float::sqrt(scaled)
}

/// `max |x|` (NaN if any element is NaN; 0 for an empty slice).
fn max_abs<T: Real>(par: Par, x: &[T]) -> T {
    let m = par::fold_chunks(
        par,
        x.len(),
        T::zero(),
        |r| simd::extremum::<T, true>(&x[r], |v| v.abs(), |v: T| Math::abs(v)),
        nan_max,
    );
    if x.is_empty() { T::zero() } else { m }
}

/// The backward of [`norm`]: `dx (=|+=) g · x/‖x‖`, and 0 where `‖x‖ = 0`
/// (PyTorch's subgradient at the zero vector).
pub fn norm_backward<T: Real>(par: Par, x: &[T], norm: T, g: T, dx: Sink<'_, T>) {
    let par = par.for_work(false, x.len());
    if norm == T::zero() {
        return fill(par, dx, T::zero());
    }
    let c = g / norm;
    if c.is_normal() || g == T::zero() || !norm.is_finite() {
        scale(par, x, c, dx)
    } else {
        // g/‖x‖ overflows (‖x‖ tiny) or underflows (‖x‖ huge, g tiny, where
        // x·c would lose every digit of c): divide each element first.
        let (nl, gl) = (T::Lanes::splat(norm), T::Lanes::splat(g));
        with_add!(dx.add, ADD => par::for_chunks(par, dx.dst, |s, dc| {
            simd::map1::<T, ADD>(&x[s..], dc, |v| v / nl * gl, |v| v / norm * g)
        }))
    }
}

/// `dx (=|+=) c · x`.
pub fn scale<T: Real>(par: Par, x: &[T], c: T, dx: Sink<'_, T>) {
    let par = par.for_work(false, x.len());
    let cl = T::Lanes::splat(c);
    with_add!(dx.add, ADD => par::for_chunks(par, dx.dst, |s, dc| {
        simd::map1::<T, ADD>(&x[s..], dc, |v| v * cl, |v| v * c)
    }))
}

/// `dx (=|+=) a · b` elementwise (the backward of a map: kept partial times
/// adjoint).
pub fn mul<T: Real>(par: Par, a: &[T], b: &[T], dx: Sink<'_, T>) {
    if dx.dst.len() < T::LANES {
        return scalar::mul(a, b, dx);
    }
    let par = par.for_work(false, dx.dst.len());
    with_add!(dx.add, ADD => par::for_chunks(par, dx.dst, |s, dc| {
        simd::map2::<T, ADD>(&a[s..], &b[s..], dc, |a, b| a * b, |a, b| a * b)
    }))
}

/// `da (=|+=) pa · g` and `db (=|+=) pb · g` in one pass (the backward of a
/// two-input map: each kept partial times the one adjoint, read once).
pub fn mul_pair<T: Real>(par: Par, pa: &[T], pb: &[T], g: &[T], da: Sink<'_, T>, db: Sink<'_, T>) {
    debug_assert!(
        [pa.len(), pb.len(), g.len(), db.dst.len()]
            .iter()
            .all(|&l| l == da.dst.len()),
        "dualtape: internal: mul_pair of unequal lengths"
    );
    if da.dst.len() < T::LANES {
        return scalar::mul_pair(pa, pb, g, da, db);
    }
    let par = par.for_work(false, da.dst.len());
    with_add!(da.add, A => with_add!(db.add, B => par::for_chunks2(par, da.dst, db.dst, |s, ac, bc| {
        simd::map3_2::<T, A, B>(&pa[s..], &pb[s..], &g[s..], ac, bc, |a, b, g| (a * g, b * g), |a, b, g| (a * g, b * g))
    })))
}

/// `da (=|+=) c · b` and `db (=|+=) c · a` in one pass (the backward of `dot`).
pub fn scale_swapped<T: Real>(par: Par, a: &[T], b: &[T], c: T, da: Sink<'_, T>, db: Sink<'_, T>) {
    let par = par.for_work(false, a.len());
    let cl = T::Lanes::splat(c);
    with_add!(da.add, A => with_add!(db.add, B => par::for_chunks2(par, da.dst, db.dst, |s, ac, bc| {
        simd::map2_2::<T, A, B>(&a[s..], &b[s..], ac, bc, |a, b| (b * cl, a * cl), |a, b| (b * c, a * c))
    })))
}

/// `dx (=|+=) v` for every element.
pub fn fill<T: Real>(par: Par, dx: Sink<'_, T>, v: T) {
    let par = par.for_work(false, dx.dst.len());
    if dx.add {
        par::for_chunks(par, dx.dst, |_, dc| dc.iter_mut().for_each(|d| *d = *d + v));
    } else {
        par::for_chunks(par, dx.dst, |_, dc| dc.fill(v));
    }
}

/// The largest element; NaN if any is NaN; −inf for an empty slice.
pub fn max<T: Real>(par: Par, x: &[T]) -> T {
    let par = par.for_work(false, x.len());
    par::fold_chunks(
        par,
        x.len(),
        T::neg_infinity(),
        |r| simd::extremum::<T, true>(&x[r], |v| v, |v| v),
        nan_max,
    )
}

/// The smallest element; NaN if any is NaN; +inf for an empty slice.
pub fn min<T: Real>(par: Par, x: &[T]) -> T {
    let par = par.for_work(false, x.len());
    par::fold_chunks(
        par,
        x.len(),
        T::infinity(),
        |r| simd::extremum::<T, false>(&x[r], |v| v, |v| v),
        |a, b| -nan_max(-a, -b),
    )
}

/// How many elements equal `v`.
pub fn count_eq<T: Real>(par: Par, x: &[T], v: T) -> usize {
    let par = par.for_work(false, x.len());
    par::fold_chunks(
        par,
        x.len(),
        0,
        // A NaN `v` counts the NaNs: they are what attains a NaN extremum.
        |r| {
            x[r].iter()
                .filter(|&&e| e == v || (e.is_nan() && v.is_nan()))
                .count()
        },
        |a, b| a + b,
    )
}

/// `dx (=|+=) (x == m ? share : 0)`: the backward of `max`/`min`, where the
/// ties at the extremum `m` share the gradient equally (`share = g / ties`);
/// a NaN `m` is shared among the NaN elements.
pub fn extremum_backward<T: Real>(par: Par, x: &[T], m: T, share: T, dx: Sink<'_, T>) {
    let par = par.for_work(false, x.len());
    let (ml, sl, zl) = (
        T::Lanes::splat(m),
        T::Lanes::splat(share),
        T::Lanes::splat(T::zero()),
    );
    let zero = T::zero();
    with_add!(dx.add, ADD => par::for_chunks(par, dx.dst, |s, dc| {
        if m.is_nan() {
            // A NaN extremum is attained by the NaNs (as PyTorch): v ≠ v there.
            simd::map1::<T, ADD>(&x[s..], dc, |v| v.select_eq(v, zl, sl), |v| v.select_eq(v, zero, share))
        } else {
            simd::map1::<T, ADD>(&x[s..], dc, |v| v.select_eq(ml, sl, zl), |v| v.select_eq(m, share, zero))
        }
    }))
}

/// `max` that propagates NaN, for combining chunk results.
fn nan_max<T: Real>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if a >= b {
        a
    } else {
        b
    }
}

/// `dst = src`: a leaf's values copied onto the tape, on threads from
/// [`PAR_MIN_LEN_LIGHT`] elements on.
pub fn copy<T: Real>(par: Par, src: &[T], dst: &mut [T]) {
    let par = par.for_work(false, dst.len());
    par::for_chunks(par, dst, |s, dc| dc.copy_from_slice(&src[s..s + dc.len()]));
}
