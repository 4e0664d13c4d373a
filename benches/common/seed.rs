//! The seed workloads W1–W4: each on the tape, as a plain fused scalar loop and
//! as a fused loop on `wide` lanes. Every version computes the value and the
//! gradient and leaves both in memory.
//!
//! The tape versions hand their results to a `read` callback while the tape
//! still holds them: the benches `black_box` the slices (the gradient stays in
//! the tape's adjoint buffer, where a user would read it), `check_*` copy them.

use std::hint::black_box;

use dualtape::{Par, Tape, Var};
use num_traits::Float;

use super::check::{assert_close, assert_close1};
use super::lanes::{Lanes, Scalar};
use super::loops::{map, map_2_2, map_3_3, sum_and_map, sum_map};

// ---------------------------------------------------------------- W1: ‖x‖₂

/// W1 on an input already on the tape: `y = ‖x‖₂`, `y.backward()`; calls
/// `read(y, ∂y/∂x)`.
#[inline(never)]
pub fn w1_on<T: Scalar>(x: Var<'_, T>, read: impl FnOnce(T, &[T])) {
    let y = x.norm();
    let g = y.backward();
    read(y.item(), g.wrt(x));
}

/// W1 by hand, plain scalar: one pass for `Σx²`, one writing `g = x/‖x‖` (0 at
/// the zero vector, as the tape). Returns `‖x‖`.
#[inline(never)]
pub fn w1_scalar<T: Scalar>(x: &[T], g: &mut [T]) -> T {
    let mut ss = T::zero();
    for &v in x {
        ss = ss + v * v;
    }
    let norm = Float::sqrt(ss);
    let c = if norm == T::zero() {
        T::zero()
    } else {
        T::one() / norm
    };
    for (gi, &v) in g.iter_mut().zip(x) {
        *gi = v * c;
    }
    norm
}

/// W1 by hand on lanes: `Σx²` in four lane accumulators, then `g = x·(1/‖x‖)`.
#[inline(never)]
pub fn w1_simd<T: Scalar>(x: &[T], g: &mut [T]) -> T {
    let norm = Float::sqrt(sum_map(x, T::zero(), |v| v * v));
    let c = if norm == T::zero() {
        T::zero()
    } else {
        T::one() / norm
    };
    let cl = T::V::splat(c);
    map(x, g, T::zero(), |v| v * cl);
    norm
}

// ---------------------------------------------------------------- W2: x·x

/// W2 on the tape: records `x`, then [`w2_on`].
#[inline(never)]
pub fn w2_ad<T: Scalar>(tape: &Tape<T>, x: &[T], seed: &[T], read: impl FnOnce(&[T], &[T])) {
    w2_on(tape.var(x), seed, read)
}

/// W2 on an input already on the tape: `y = x·x`, `y.backward_with(seed)`;
/// calls `read(y, ∂/∂x)`.
#[inline(never)]
pub fn w2_on<T: Scalar>(x: Var<'_, T>, seed: &[T], read: impl FnOnce(&[T], &[T])) {
    let y = x * x;
    let g = y.backward_with(seed);
    read(&y.value(), g.wrt(x));
}

/// W2 by hand, plain scalar: `y = x²`, `g = 2x·seed`, one pass.
#[inline(never)]
pub fn w2_scalar<T: Scalar>(x: &[T], seed: &[T], y: &mut [T], g: &mut [T]) {
    let two = T::lit(2.0);
    for (((&v, &s), yi), gi) in x.iter().zip(seed).zip(y.iter_mut()).zip(g.iter_mut()) {
        *yi = v * v;
        *gi = two * v * s;
    }
}

/// W2 by hand on lanes: as [`w2_scalar`].
#[inline(never)]
pub fn w2_simd<T: Scalar>(x: &[T], seed: &[T], y: &mut [T], g: &mut [T]) {
    let two = T::V::splat(T::lit(2.0));
    map_2_2(x, seed, y, g, T::zero(), |v, s| (v * v, two * v * s));
}

// ---------------------------------------------------------------- W3: 3a³ − b²

/// W3 on the tape: records `a` and `b`, then [`w3_on`].
#[inline(never)]
pub fn w3_ad<T: Scalar>(
    tape: &Tape<T>,
    a: &[T],
    b: &[T],
    seed: &[T],
    read: impl FnOnce(&[T], &[T], &[T]),
) {
    w3_on(tape.var(a), tape.var(b), seed, read)
}

/// W3 on inputs already on the tape: `q = 3a³ − b²`, `q.backward_with(seed)`;
/// calls `read(q, ∂/∂a, ∂/∂b)`.
#[inline(never)]
pub fn w3_on<T: Scalar>(
    a: Var<'_, T>,
    b: Var<'_, T>,
    seed: &[T],
    read: impl FnOnce(&[T], &[T], &[T]),
) {
    // `3.0 * a.powi(3)` records the same Scale node; the generic spelling needs `T::lit`.
    let q = a.powi(3) * T::lit(3.0) - b.powi(2);
    let g = q.backward_with(seed);
    read(&q.value(), g.wrt(a), g.wrt(b));
}

/// W3 as one mapped node on inputs already on the tape: `q = a.map2(b, 3a³ −
/// b²)`, `q.backward_with(seed)`; calls `read(q, ∂/∂a, ∂/∂b)`.
#[inline(never)]
pub fn w3_map_on<T: Scalar>(
    a: Var<'_, T>,
    b: Var<'_, T>,
    seed: &[T],
    read: impl FnOnce(&[T], &[T], &[T]),
) {
    let q = a.map2(b, |a, b| a.powi(3) * T::lit(3.0) - b.powi(2));
    let g = q.backward_with(seed);
    read(&q.value(), g.wrt(a), g.wrt(b));
}

/// W3 by hand, plain scalar: `q = 3a³ − b²`, `ga = 9a²·seed`, `gb = −2b·seed`,
/// one pass.
#[inline(never)]
pub fn w3_scalar<T: Scalar>(a: &[T], b: &[T], seed: &[T], q: &mut [T], ga: &mut [T], gb: &mut [T]) {
    let (three, nine, m2) = (T::lit(3.0), T::lit(9.0), T::lit(-2.0));
    let n = a.len();
    let (b, seed, q, ga, gb) = (&b[..n], &seed[..n], &mut q[..n], &mut ga[..n], &mut gb[..n]);
    for i in 0..n {
        let (av, bv, s) = (a[i], b[i], seed[i]);
        let a2 = av * av;
        q[i] = three * a2 * av - bv * bv;
        ga[i] = nine * a2 * s;
        gb[i] = m2 * bv * s;
    }
}

/// W3 by hand on lanes: as [`w3_scalar`].
#[inline(never)]
pub fn w3_simd<T: Scalar>(a: &[T], b: &[T], seed: &[T], q: &mut [T], ga: &mut [T], gb: &mut [T]) {
    let (three, nine, m2) = (
        T::V::splat(T::lit(3.0)),
        T::V::splat(T::lit(9.0)),
        T::V::splat(T::lit(-2.0)),
    );
    map_3_3(a, b, seed, q, ga, gb, T::zero(), |av, bv, s| {
        let a2 = av * av;
        (three * a2 * av - bv * bv, nine * a2 * s, m2 * bv * s)
    });
}

// ------------------------------------- W4: Σ tanh(x)·exp(−x²) + sin(x)/(1 + x²)

/// W4 on an input already on the tape: `y = Σ tanh(x)·exp(−x²) + sin(x)/(1 +
/// x²)`, `y.backward()` (ten elementwise nodes and a sum); calls
/// `read(y, ∂y/∂x)`.
#[inline(never)]
pub fn w4_on<T: Scalar>(x: Var<'_, T>, read: impl FnOnce(T, &[T])) {
    let x2 = x * x;
    let y = (x.tanh() * (-x2).exp() + x.sin() / (x2 + T::one())).sum();
    let g = y.backward();
    read(y.item(), g.wrt(x));
}

/// W4 with its elementwise chain as one mapped node: `y = Σ x.map(tanh(x)·exp(−x²) +
/// sin(x)/(1 + x²))`, `y.backward()` (a map and a sum); calls `read(y, ∂y/∂x)`.
#[inline(never)]
pub fn w4_map_on<T: Scalar>(x: Var<'_, T>, read: impl FnOnce(T, &[T])) {
    let f = x.map(|x| {
        let x2 = x * x;
        x.tanh() * (-x2).exp() + x.sin() / (x2 + T::one())
    });
    let y = f.sum();
    let g = y.backward();
    read(y.item(), g.wrt(x));
}

/// W4's element and its derivative, with `t = tanh x`, `e = exp(−x²)`,
/// `r = 1/(1 + x²)`:
/// `f = t·e + sin x·r`, `f' = e·(1 − t² − 2x·t) + r·(cos x − 2x·sin x·r)`.
macro_rules! w4_element {
    ($x:expr, $one:expr, $two:expr, tanh = $tanh:expr, exp = $exp:expr, sin_cos = $sc:expr) => {{
        let x = $x;
        let x2 = x * x;
        let t = $tanh(x);
        let e = $exp(-x2);
        let (s, c) = $sc(x);
        let r = $one / ($one + x2);
        let tx = $two * x;
        (
            t * e + s * r,
            e * ($one - t * t - tx * t) + r * (c - tx * s * r),
        )
    }};
}

/// W4 by hand, plain scalar (libm `tanh`, `exp`, `sin_cos`): one pass that sums
/// the value and writes the gradient. Returns the sum.
#[inline(never)]
pub fn w4_scalar<T: Scalar>(x: &[T], g: &mut [T]) -> T {
    let (one, two) = (T::one(), T::lit(2.0));
    let mut sum = T::zero();
    for (gi, &v) in g.iter_mut().zip(x) {
        let (f, d) = w4_element!(
            v,
            one,
            two,
            tanh = Float::tanh,
            exp = Float::exp,
            sin_cos = Float::sin_cos
        );
        sum = sum + f;
        *gi = d;
    }
    sum
}

/// W4 by hand on lanes, with `wide`'s SIMD `tanh`, `exp` and `sin_cos`: one pass
/// that sums the value and writes the gradient.
#[inline(never)]
pub fn w4_simd<T: Scalar>(x: &[T], g: &mut [T]) -> T {
    let (one, two) = (T::V::splat(T::one()), T::V::splat(T::lit(2.0)));
    sum_and_map(x, g, T::zero(), |v| {
        w4_element!(
            v,
            one,
            two,
            tanh = Lanes::tanh,
            exp = Lanes::exp,
            sin_cos = Lanes::sin_cos
        )
    })
}

// ---------------------------------------------------------------- shared

/// A tape with kernels on the calling thread.
pub fn sequential_tape<T: Scalar>() -> Tape<T> {
    let tape = Tape::new();
    tape.set_par(Par::Sequential);
    tape
}

/// W1 on the tape with its results `black_box`ed (one timed evaluation).
pub fn w1_eval<T: Scalar>(tape: &Tape<T>, x: &[T]) {
    w1_eval_on(tape.var(x))
}

/// W4 on the tape with its results `black_box`ed (one timed evaluation).
pub fn w4_eval<T: Scalar>(tape: &Tape<T>, x: &[T]) {
    w4_eval_on(tape.var(x))
}

/// [`w1_eval`] on an input already on the tape.
pub fn w1_eval_on<T: Scalar>(x: Var<'_, T>) {
    w1_on(x, |y, g| {
        black_box((y, g));
    })
}

/// [`w4_eval`] on an input already on the tape.
pub fn w4_eval_on<T: Scalar>(x: Var<'_, T>) {
    w4_on(x, |y, g| {
        black_box((y, g));
    })
}

/// [`w4_map_on`] with its results `black_box`ed.
pub fn w4_map_eval_on<T: Scalar>(x: Var<'_, T>) {
    w4_map_on(x, |y, g| {
        black_box((y, g));
    })
}

// ---------------------------------------------------------------- checks

/// Runs W1 on `tape` and both baselines once; panics unless all agree.
pub fn check_w1<T: Scalar>(tape: &Tape<T>, x: &[T]) {
    check_w1_on(tape.var(x), x)
}

/// As [`check_w1`], with `x` on the tape already as `xv`.
pub fn check_w1_on<T: Scalar>(xv: Var<'_, T>, x: &[T]) {
    let (mut want, mut y) = (Vec::new(), T::zero());
    w1_on(xv, |v, g| (y, want) = (v, g.to_vec()));
    let mut g = vec![T::zero(); x.len()];
    for (name, f) in [
        (
            "W1 handwritten_scalar",
            w1_scalar::<T> as fn(&[T], &mut [T]) -> T,
        ),
        ("W1 handwritten_simd", w1_simd::<T>),
    ] {
        let v = f(x, &mut g);
        assert_close1(name, v, y);
        assert_close(name, &g, &want);
    }
}

/// Runs W2 on `tape` and both baselines once; panics unless all agree.
pub fn check_w2<T: Scalar>(tape: &Tape<T>, x: &[T], seed: &[T]) {
    check_w2_on(tape.var(x), x, seed)
}

/// As [`check_w2`], with `x` on the tape already as `xv`.
pub fn check_w2_on<T: Scalar>(xv: Var<'_, T>, x: &[T], seed: &[T]) {
    let (mut wy, mut wg) = (Vec::new(), Vec::new());
    w2_on(xv, seed, |y, g| (wy, wg) = (y.to_vec(), g.to_vec()));
    let n = x.len();
    let (mut y, mut g) = (vec![T::zero(); n], vec![T::zero(); n]);
    type F<T> = fn(&[T], &[T], &mut [T], &mut [T]);
    for (name, f) in [
        ("W2 handwritten_scalar", w2_scalar::<T> as F<T>),
        ("W2 handwritten_simd", w2_simd::<T>),
    ] {
        f(x, seed, &mut y, &mut g);
        assert_close(name, &y, &wy);
        assert_close(name, &g, &wg);
    }
}

/// Runs W3 on `tape` and both baselines once; panics unless all agree.
pub fn check_w3<T: Scalar>(tape: &Tape<T>, a: &[T], b: &[T], seed: &[T]) {
    check_w3_on((tape.var(a), tape.var(b)), a, b, seed)
}

/// As [`check_w3`], with `a` and `b` on the tape already as `on`.
pub fn check_w3_on<T: Scalar>(on: (Var<'_, T>, Var<'_, T>), a: &[T], b: &[T], seed: &[T]) {
    let (mut wq, mut wa, mut wb) = (Vec::new(), Vec::new(), Vec::new());
    w3_on(on.0, on.1, seed, |q, ga, gb| {
        (wq, wa, wb) = (q.to_vec(), ga.to_vec(), gb.to_vec())
    });
    check_w3_against((a, b, seed), &wq, &wa, &wb);
}

/// As [`check_w3_on`], for [`w3_map_on`].
pub fn check_w3_map_on<T: Scalar>(on: (Var<'_, T>, Var<'_, T>), a: &[T], b: &[T], seed: &[T]) {
    let (mut wq, mut wa, mut wb) = (Vec::new(), Vec::new(), Vec::new());
    w3_map_on(on.0, on.1, seed, |q, ga, gb| {
        (wq, wa, wb) = (q.to_vec(), ga.to_vec(), gb.to_vec())
    });
    check_w3_against((a, b, seed), &wq, &wa, &wb);
}

/// Runs both W3 baselines on `(a, b, seed)`; panics unless they give `wq`,
/// `wa` and `wb`.
fn check_w3_against<T: Scalar>((a, b, seed): (&[T], &[T], &[T]), wq: &[T], wa: &[T], wb: &[T]) {
    let n = a.len();
    let (mut q, mut ga, mut gb) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    type F<T> = fn(&[T], &[T], &[T], &mut [T], &mut [T], &mut [T]);
    for (name, f) in [
        ("W3 handwritten_scalar", w3_scalar::<T> as F<T>),
        ("W3 handwritten_simd", w3_simd::<T>),
    ] {
        f(a, b, seed, &mut q, &mut ga, &mut gb);
        assert_close(name, &q, wq);
        assert_close(name, &ga, wa);
        assert_close(name, &gb, wb);
    }
}

/// Runs W4 on `tape` and both baselines once; panics unless all agree.
pub fn check_w4<T: Scalar>(tape: &Tape<T>, x: &[T]) {
    check_w4_on(tape.var(x), x)
}

/// As [`check_w4`], with `x` on the tape already as `xv`.
pub fn check_w4_on<T: Scalar>(xv: Var<'_, T>, x: &[T]) {
    let (mut want, mut y) = (Vec::new(), T::zero());
    w4_on(xv, |v, g| (y, want) = (v, g.to_vec()));
    check_w4_against(x, y, &want);
}

/// As [`check_w4_on`], for [`w4_map_on`].
pub fn check_w4_map_on<T: Scalar>(xv: Var<'_, T>, x: &[T]) {
    let (mut want, mut y) = (Vec::new(), T::zero());
    w4_map_on(xv, |v, g| (y, want) = (v, g.to_vec()));
    check_w4_against(x, y, &want);
}

/// Runs both W4 baselines on `x`; panics unless they give `y` and `want`.
fn check_w4_against<T: Scalar>(x: &[T], y: T, want: &[T]) {
    let mut g = vec![T::zero(); x.len()];
    for (name, f) in [
        (
            "W4 handwritten_scalar",
            w4_scalar::<T> as fn(&[T], &mut [T]) -> T,
        ),
        ("W4 handwritten_simd", w4_simd::<T>),
    ] {
        let v = f(x, &mut g);
        assert_close1(name, v, y);
        assert_close(name, &g, want);
    }
}
