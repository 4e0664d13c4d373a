//! Numerical robustness where PyTorch gives up.
//!
//! PyTorch 2.x computes `‖[1e200, 1e200]‖ = inf` with gradient `[0, 0]`, and
//! `‖[1e-200, 1e-200]‖ = 0` with gradient `[0, 0]`: the squares overflow or
//! underflow. dualtape's norm rescales by `max |x|` when (and only when) the
//! plain sum of squares overflowed or lost precision, and its backward divides
//! each element first when `g/‖x‖` would overflow. Sigmoid and tanh saturate
//! without overflow, and `ln 0` is `−inf` with gradient `+inf`.
//!
//! Every case runs on vectors shorter than a lane bundle and on vectors long
//! enough for the SIMD body (and, for the norm, past the parallel threshold),
//! so each kernel path is covered.

use dualtape::kernels::PAR_MIN_LEN;
use dualtape::{Real, Tape};

/// `‖x‖` and its gradient (seeded with `seed`), on a fresh tape.
fn norm_and_grad<T: Real>(x: &[T], seed: T) -> (T, Vec<T>) {
    let tape = Tape::<T>::new();
    let v = tape.var(x);
    let y = v.norm();
    let value = y.item();
    let g = y.backward_with(&[seed]);
    (value, g.wrt(v).to_vec())
}

/// `x` repeated to length `n`.
fn tile<T: Copy>(x: &[T], n: usize) -> Vec<T> {
    x.iter().copied().cycle().take(n).collect()
}

/// `v` as an `f64` (exact for f32 and f64).
fn f<T: Real>(v: T) -> f64 {
    v.to_f64().expect("f32 and f64 convert to f64")
}

/// `|got − want| ≤ ulps·eps·|want|` in `T`'s epsilon, with a message.
fn assert_rel<T: Real>(got: T, want: T, ulps: f64, what: &str) {
    let (got, want) = (f(got), f(want));
    let tol = ulps * f(T::epsilon()) * want.abs();
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e} (±{tol:e})"
    );
}

/// Checks `‖x‖` of `x` tiled to several lengths against `‖pattern‖ = unit`
/// times `√(n/len)`, and the gradient `x/‖x‖`, from exact arithmetic in f64.
fn check_norm<T: Real>(pattern: &[T], seed: T, what: &str) {
    for n in [pattern.len(), 4 * T::LANES + 3, PAR_MIN_LEN + 5] {
        let x = tile(pattern, n);
        let (y, g) = norm_and_grad(&x, seed);
        // The reference in f64, scaled by m = max |x| and summed per pattern
        // element (each occurs `count` times): Σ x² = m²·Σ count·(p/m)².
        let xf: Vec<f64> = x.iter().map(|&v| f(v)).collect();
        let pf: Vec<f64> = pattern.iter().map(|&v| f(v)).collect();
        let m = pf.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let count = |j: usize| (n / pattern.len() + usize::from(j < n % pattern.len())) as f64;
        let scaled: f64 = (0..pf.len()).map(|j| count(j) * (pf[j] / m).powi(2)).sum();
        let want = m * scaled.sqrt();
        // A sum of n terms is good to n ulps (and to far fewer in practice).
        let ulps = 4.0 + n as f64;
        assert!(f(y).is_finite() && f(y) > 0.0, "{what}, n = {n}: ‖x‖ = {y}");
        assert_rel(y, T::lit(want), ulps, &format!("{what}, n = {n}: ‖x‖"));
        let eps = f(T::epsilon());
        for (i, (&gi, &xi)) in g.iter().zip(&xf).enumerate() {
            let (gi, want_g) = (f(gi), xi / want * f(seed));
            assert!(gi.is_finite(), "{what}, n = {n}: gradient {i} = {gi:e}");
            // Subnormal inputs carry fewer digits: an absolute floor of one
            // subnormal step.
            let floor = f(T::min_positive_value()) * eps;
            assert!(
                (gi - want_g).abs() <= (ulps + 2.0) * eps * want_g.abs() + floor,
                "{what}, n = {n}: gradient {i}: got {gi:e}, want {want_g:e}"
            );
        }
    }
}

#[test]
fn norm_of_huge_elements_does_not_overflow() {
    // ‖[1e200, 1e200]‖ = √2·1e200, gradient [1/√2, 1/√2] (PyTorch: inf, [0, 0]).
    let (y, g) = norm_and_grad(&[1e200f64, 1e200], 1.0);
    assert_rel(y, 2f64.sqrt() * 1e200, 2.0, "‖[1e200, 1e200]‖");
    assert_rel(g[0], 0.5f64.sqrt(), 2.0, "gradient");
    assert_rel(g[1], 0.5f64.sqrt(), 2.0, "gradient");
    check_norm(&[1e200f64, -1e200, 3e199], 1.0, "f64 1e200");
    // Nine elements of MAX/4: ‖x‖ = 3·MAX/4 still fits, gradient 1/3 each.
    let (y, g) = norm_and_grad(&[f64::MAX / 4.0; 9], 1.0);
    assert_rel(y, 0.75 * f64::MAX, 2.0, "‖[MAX/4; 9]‖");
    g.iter()
        .for_each(|&d| assert_rel(d, 1.0 / 3.0, 2.0, "gradient"));
    check_norm(&[1e30f32, -1e30, 3e29], 1.0, "f32 1e30");
}

#[test]
fn norm_of_tiny_elements_does_not_underflow() {
    // ‖[1e-200, 1e-200]‖ = √2·1e-200, gradient [1/√2, 1/√2] (PyTorch: 0, [0, 0]).
    let (y, g) = norm_and_grad(&[1e-200f64, 1e-200], 1.0);
    assert_rel(y, 2f64.sqrt() * 1e-200, 2.0, "‖[1e-200, 1e-200]‖");
    assert_rel(g[0], 0.5f64.sqrt(), 2.0, "gradient");
    check_norm(&[1e-200f64, -1e-200, 3e-201], 1.0, "f64 1e-200");
    check_norm(&[1e-30f32, -1e-30, 3e-31], 1.0, "f32 1e-30");
}

#[test]
fn norm_of_subnormal_elements() {
    // 1e-310 is subnormal in f64 (below 2.2e-308), 1e-40 in f32 (below 1.2e-38).
    let (y, g) = norm_and_grad(&[5e-324f64], 1.0);
    assert_eq!((y, g[0]), (5e-324, 1.0), "‖[smallest subnormal]‖");
    check_norm(&[1e-310f64, -1e-310, 3e-311], 1.0, "f64 subnormal");
    check_norm(&[1e-40f32, -1e-40, 3e-41], 1.0, "f32 subnormal");
    // g/‖x‖ overflows here: the backward divides each element first.
    check_norm(&[1e-310f64, 2e-310], 1e300, "f64 subnormal, huge seed");
    check_norm(&[1e-200f64, 1e-200], 1e300, "f64 tiny, huge seed");
}

#[test]
fn norm_of_mixed_huge_and_tiny_elements() {
    // Tiny elements vanish beside huge ones, as in exact arithmetic.
    check_norm(&[1e200f64, 1e-200, -1e-310, 3e199, 0.0], 1.0, "f64 mixed");
    check_norm(&[1e30f32, 1e-30, -1e-40, 3e29, 0.0], 1.0, "f32 mixed");
    let (y, g) = norm_and_grad(&[1e200f64, 1e-310], 1.0);
    assert_eq!((y, g[0]), (1e200, 1.0));
    assert!(
        g[1] >= 0.0 && g[1] < 1e-300,
        "1e-310/1e200 underflows to ~0: {}",
        g[1]
    );
}

#[test]
fn norm_at_the_zero_vector_has_gradient_zero() {
    for n in [1, 3, 4 * 8 + 3, PAR_MIN_LEN + 1] {
        let (y, g) = norm_and_grad(&vec![0.0f64; n], 1.0);
        assert_eq!(y, 0.0);
        assert!(g.iter().all(|&v| v == 0.0), "n = {n}: {:?}", &g[..1]);
        let (y, g) = norm_and_grad(&tile(&[0.0f32, -0.0], n), 1.0);
        assert_eq!(y, 0.0);
        assert!(g.iter().all(|&v| v == 0.0), "n = {n}: {:?}", &g[..1]);
    }
}

/// The ordinary range takes the plain path: a plain `√Σx²` to the bit, and
/// the plain gradient `x·(g/‖x‖)`.
#[test]
fn norm_in_the_common_range_is_the_plain_formula() {
    let x: Vec<f64> = (0..10).map(f64::from).collect();
    let (y, g) = norm_and_grad(&x, 1.0);
    assert_eq!(y, 285f64.sqrt());
    for (i, &gi) in g.iter().enumerate() {
        assert_eq!(gi, i as f64 * (1.0 / 285f64.sqrt()));
    }
}

/// Inputs where `e^{±x}` overflows: sigmoid and tanh saturate, exactly.
fn saturating<T: Real>() -> Vec<T> {
    let mut x: Vec<T> = [1000.0, -1000.0, 710.0, -710.0, 89.0, -89.0, 40.0, -40.0]
        .iter()
        .map(|&v| T::lit(v))
        .collect();
    x.extend([
        T::infinity(),
        T::neg_infinity(),
        T::max_value(),
        T::min_value(),
    ]);
    x
}

fn sigmoid_and_tanh_saturate<T: Real>() {
    let pattern = saturating::<T>();
    for n in [1, pattern.len(), 3 * pattern.len() + 1] {
        let xs = tile(&pattern, n);
        let tape = Tape::<T>::new();
        let x = tape.var(&xs);
        for (name, y) in [("sigmoid", x.sigmoid()), ("tanh", x.tanh())] {
            let vals = y.value().to_vec();
            let g = y.backward_with(&vec![T::one(); n]);
            let eps = f(T::epsilon());
            // e^{|x|} overflows the type past ln(MAX): 709.8 (f64), 88.7 (f32).
            let overflow = f(T::max_value()).ln();
            for (i, (&xi, (&yi, &gi))) in xs.iter().zip(vals.iter().zip(g.wrt(x))).enumerate() {
                let (xi, yi, gi) = (f(xi), f(yi), f(gi));
                let what = format!("{name}({xi:e}) (n = {n}, element {i})");
                assert!(
                    yi.is_finite() && gi.is_finite(),
                    "{what}: {yi:e}, gradient {gi:e}"
                );
                let sat = match (name, xi > 0.0) {
                    ("sigmoid", true) => 1.0,
                    ("sigmoid", false) => 0.0,
                    (_, true) => 1.0,
                    (_, false) => -1.0,
                };
                if xi.abs() > overflow {
                    // Exactly saturated, gradient 0.
                    assert_eq!(yi, sat, "{what}");
                    assert_eq!(gi, 0.0, "{what}: gradient");
                } else {
                    // Close to saturation: within an ulp of it, gradient tiny.
                    assert!((yi - sat).abs() <= eps, "{what}: {yi:e}");
                    assert!((0.0..=eps).contains(&gi), "{what}: gradient {gi:e}");
                }
            }
        }
    }
}

#[test]
fn sigmoid_and_tanh_saturate_f64() {
    sigmoid_and_tanh_saturate::<f64>();
}

#[test]
fn sigmoid_and_tanh_saturate_f32() {
    sigmoid_and_tanh_saturate::<f32>();
}

/// Far from saturation the small side keeps its relative precision:
/// σ(−40) ≈ 4.25e-18, not 0 (the form `1/(1 + e⁻ˣ)` divides by a huge number
/// instead of subtracting from 1).
#[test]
fn sigmoid_keeps_relative_precision_on_the_small_side() {
    for n in [1, 9] {
        let tape = Tape::<f64>::new();
        let x = tape.var(&vec![-40.0; n]);
        let y = x.sigmoid();
        let want = (-40f64).exp() / (1.0 + (-40f64).exp());
        for &v in y.value().iter() {
            assert_rel(v, want, 8.0, "σ(−40)");
        }
        let g = y.backward_with(&vec![1.0; n]);
        for &d in g.wrt(x) {
            assert_rel(d, want * (1.0 - want), 8.0, "σ′(−40)");
        }
    }
}

fn ln_at_zero<T: Real>() {
    // ln 0 = −inf, d ln x = 1/x = +inf at 0 (PyTorch alike), on both kernel paths.
    for n in [1, 2 * T::LANES + 1] {
        let tape = Tape::<T>::new();
        let x = tape.var(&vec![T::zero(); n]);
        let y = x.ln();
        assert!(y.value().iter().all(|&v| f(v) == f64::NEG_INFINITY));
        let g = y.backward_with(&vec![T::one(); n]);
        assert!(
            g.wrt(x).iter().all(|&v| f(v) == f64::INFINITY),
            "{:?}",
            g.wrt(x)
        );
    }
}

#[test]
fn ln_at_zero_is_minus_inf_with_gradient_plus_inf() {
    ln_at_zero::<f64>();
    ln_at_zero::<f32>();
}

/// `ln` of a subnormal is finite (`ln 1e-310 ≈ −713.8`), not −inf, in the SIMD
/// body as in the scalar tail.
#[test]
fn ln_of_subnormals_is_finite() {
    for n in [1, 9] {
        let tape = Tape::<f64>::new();
        let x = tape.var(&vec![1e-310; n]);
        for &v in x.ln().value().iter() {
            assert_rel(v, 1e-310f64.ln(), 4.0, "ln 1e-310");
        }
        let tape = Tape::<f32>::new();
        let x = tape.var(&vec![1e-40f32; n]);
        for &v in x.ln().value().iter() {
            assert_rel(v, 1e-40f32.ln(), 4.0, "ln 1e-40f32");
        }
    }
}
