//! Reproducible to the bit: values and gradients, reductions included, are the
//! same bits on a rayon pool of 1, 2 or 3 threads and with `Par::Sequential`,
//! at every SIMD tail length around the parallel threshold and at 2²⁰ elements.
//!
//! Why it holds: elementwise kernels split at multiples of `CHUNK` (a multiple
//! of every lane width, so each element meets the same lane body whatever the
//! split) and sums combine one partial per fixed chunk pairwise in index order.
//! The inputs mix magnitudes over twelve decades, so a sum added in any other
//! order comes out different (checked below): a change of order cannot hide.

use dualtape::kernels::{CHUNK, PAR_MIN_LEN};
use dualtape::{Par, Real, Tape, Var};
use rayon::ThreadPoolBuilder;

/// W1: `y = ‖x‖₂`.
fn w1<'t, T: Real>(x: Var<'t, T>) -> Var<'t, T> {
    x.norm()
}

/// W4: `y = Σ tanh(x)·exp(−x²) + sin(x)/(1 + x²)`.
fn w4<'t, T: Real>(x: Var<'t, T>) -> Var<'t, T> {
    let x2 = x * x;
    (x.tanh() * (-x2).exp() + x.sin() / (x2 + T::one())).sum()
}

/// Deterministic inputs in ±[1e-6, 1e6]·scale: a 64-bit LCG, so the test
/// needs no random source and every run sees the same vector.
fn inputs<T: Real>(n: usize, scale: f64) -> Vec<T> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            let mag = 10f64.powf(12.0 * u - 6.0);
            let sign = if s & 1 == 0 { 1.0 } else { -1.0 };
            T::lit(sign * mag * scale)
        })
        .collect()
}

/// The value and gradient of `w` at `xs`, as bits.
type Bits = (u64, Vec<u64>);

fn to_bits<T: Real>(v: T) -> u64 {
    // Through f64 is exact for f32 and f64, and keeps NaN payloads apart.
    v.to_f64().expect("a Real converts to f64").to_bits()
}

fn eval<T: Real>(
    par: Par,
    fusion: bool,
    xs: &[T],
    w: for<'t> fn(Var<'t, T>) -> Var<'t, T>,
) -> Bits {
    let tape = Tape::<T>::new();
    tape.set_par(par);
    tape.set_fusion(fusion);
    let x = tape.var(xs);
    let y = w(x);
    let value = to_bits(y.item());
    let g = y.backward();
    (value, g.wrt(x).iter().map(|&v| to_bits(v)).collect())
}

/// Runs `w` node by node on the calling thread (the reference), then fused
/// there too, then both ways in pools of 1, 2 and 3 threads; all must agree.
fn assert_same_bits<T: Real>(xs: &[T], w: for<'t> fn(Var<'t, T>) -> Var<'t, T>, what: &str) {
    let reference = eval(Par::Sequential, false, xs, w);
    let check = |got: Bits, how: &str| {
        assert_eq!(
            got.0,
            reference.0,
            "{what}, n = {}: value differs {how}",
            xs.len()
        );
        if let Some(i) = (0..xs.len()).find(|&i| got.1[i] != reference.1[i]) {
            panic!(
                "{what}, n = {}: gradient element {i} differs {how}",
                xs.len()
            );
        }
    };
    check(eval(Par::Sequential, true, xs, w), "fused, sequential");
    for threads in [1, 2, 3] {
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool");
        for fusion in [false, true] {
            let got = pool.install(|| eval(Par::Rayon, fusion, xs, w));
            check(got, &format!("on {threads} threads (fusion {fusion})"));
        }
    }
}

/// Every tail length (`n mod LANES` and `n mod` the sum's 4-accumulator block)
/// just below and above the parallel threshold, and a few chunk boundaries.
fn lengths<T: Real>() -> Vec<usize> {
    let block = 4 * T::LANES;
    let mut ns: Vec<usize> = (0..=block).map(|k| PAR_MIN_LEN - 1 + k).collect();
    ns.extend([PAR_MIN_LEN - block, 5 * CHUNK + 3, 7 * CHUNK - 1]);
    ns
}

fn around_threshold<T: Real>() {
    let big = inputs::<T>(7 * CHUNK, 1.0);
    for n in lengths::<T>() {
        assert_same_bits(&big[..n], w1::<T>, "W1");
        assert_same_bits(&big[..n], w4::<T>, "W4");
    }
}

#[test]
fn around_threshold_f64() {
    around_threshold::<f64>();
}

#[test]
fn around_threshold_f32() {
    around_threshold::<f32>();
}

fn at_one_million<T: Real>() {
    let xs = inputs::<T>(1 << 20, 1.0);
    assert_same_bits(&xs, w1::<T>, "W1");
    assert_same_bits(&xs, w4::<T>, "W4");
}

#[test]
fn at_one_million_f64() {
    at_one_million::<f64>();
}

#[test]
fn at_one_million_f32() {
    at_one_million::<f32>();
}

/// The norm's scaled fallback (squares that overflow or underflow) runs a
/// second sum and a `max |x|` fold: both also independent of the pool.
#[test]
fn scaled_norm_at_one_million() {
    for scale in [1e195, 1e-195] {
        let xs = inputs::<f64>(1 << 20, scale);
        assert_same_bits(&xs, w1::<f64>, "W1 scaled");
    }
    for scale in [1e25, 1e-25] {
        let xs = inputs::<f32>(1 << 20, scale);
        assert_same_bits(&xs, w1::<f32>, "W1 scaled");
    }
}

/// The check above can fail: with these inputs the order of a sum shows in
/// its bits, so a kernel whose combination order followed the thread count
/// would be caught.
#[test]
fn inputs_expose_summation_order() {
    let xs = inputs::<f64>(1 << 20, 1.0);
    let terms: Vec<f64> = xs
        .iter()
        .map(|&x| x.tanh() * (-x * x).exp() + x.sin() / (1.0 + x * x))
        .collect();
    let forward = terms.iter().fold(0.0, |s, &t| s + t);
    let backward = terms.iter().rev().fold(0.0, |s, &t| s + t);
    assert_ne!(forward.to_bits(), backward.to_bits());
    let sq: Vec<f64> = xs.iter().map(|&x| x * x).collect();
    let forward = sq.iter().fold(0.0, |s, &t| s + t);
    let halves = sq[..1 << 19].iter().fold(0.0, |s, &t| s + t)
        + sq[1 << 19..].iter().fold(0.0, |s, &t| s + t);
    assert_ne!(forward.to_bits(), halves.to_bits());
}
