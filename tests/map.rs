//! `Var::map` and `Var::map2`: one node for an elementwise closure on `Elem`
//! bundles, held to the same expression recorded op by op on `Var`.
//!
//! - Property tests, f32 and f64, lengths 0..=70 (every lane tail, and lengths
//!   across the lane width): values and gradients (`backward_with` a random
//!   seed) of `x.map(f)` and `a.map2(b, f)` against the op-by-op expression,
//!   within a relative tolerance (the chain rule's factors are multiplied in
//!   another order, and a map's tail runs lane math where the ops' tails run
//!   std's); broadcasts of a length-1 side (its gradient a sum, held to the
//!   sum of the expanded gradients); the same `Var` on both sides.
//! - The same at lengths near 5000, where the ops around (and the op-by-op
//!   versions) are deferred and fused; compositions of maps with other ops,
//!   with fusion on and off (bitwise equal), and with `Par::Rayon` and
//!   `Par::Sequential` (bitwise equal).
//! - Exact cases: the notebook's `Q = 3a³ − b²`, the zero-tangent rule, maps
//!   of constants.
//! - Steady state: `truncate` + `get` and map again, the same bits every time.
//! - A map recorded inside a pending run of deferred ops.
//! - `kernels::map` against its twin `kernels::scalar::map`: bitwise on
//!   ordinary values, within rounding on any (an element next to a special
//!   one may take std's path with it).
//! - Panics: length mismatch, operands of different tapes, a live borrow.
//! - The functional API on tapes of duals: `hvp`, `jvp`, `grad` through `map`.

mod common;

use common::{Rng, TestReal, bitwise_mismatch, moderate, value};
use dualtape::kernels::{self, Operand, PAR_MIN_LEN, Par, scalar};
use dualtape::{Elem, Real, Tape, Var, func};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Helpers shared by both scalar types
// ---------------------------------------------------------------------------

/// `(x.map(f), f(x) op by op)`: the closure's body written once, run on `Elem`
/// and on `Var`.
macro_rules! both {
    ($v:expr, |$x:ident| $e:expr) => {{
        let v = $v;
        (v.map(|$x| $e), {
            let $x = v;
            $e
        })
    }};
}

/// `(a.map2(b, f), f(a, b) op by op)`.
macro_rules! both2 {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (a, b) = ($a, $b);
        (a.map2(b, |$x, $y| $e), {
            let ($x, $y) = (a, b);
            $e
        })
    }};
}

/// Where a case's inputs are drawn: a raw value `r ∈ [−1, 1]` becomes `r·h`
/// (zeros stay zeros) or a point of `[lo, hi]` (by `|r|`).
#[derive(Clone, Copy, Debug)]
enum Dom {
    Sym(f64),
    Pos(f64, f64),
}

impl Dom {
    fn at(self, r: f64) -> f64 {
        match self {
            Dom::Sym(h) => r * h,
            Dom::Pos(lo, hi) => lo + (hi - lo) * r.abs(),
        }
    }
    fn vec<T: TestReal>(self, raw: &[f64]) -> Vec<T> {
        raw.iter().map(|&r| T::lit(self.at(r))).collect()
    }
}

/// Raw values: uniform in [−1, 1], with exact 0 and ±1 (the domain's ends)
/// now and then, so kinks (relu, abs at 0) are hit.
fn raw() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => -1.0f64..1.0,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => Just(-1.0),
    ]
}

/// `n` raw values from the generator of the long tests.
fn raw_vec(rng: &mut Rng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if i % 97 == 0 {
                0.0
            } else {
                rng.range(-1.0, 1.0)
            }
        })
        .collect()
}

/// `|got − want| ≤ tol·max(1, |want|, scale)` element by element (`scale`
/// per element, or empty); non-finite values must match exactly, NaN any NaN.
#[track_caller]
fn assert_near<T: TestReal>(got: &[T], want: &[T], scale: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.f64(), w.f64());
        if g.is_nan() && w.is_nan() {
            continue;
        }
        if !g.is_finite() || !w.is_finite() {
            assert!(g == w, "{what}[{i}] ({}): got {g:e}, want {w:e}", T::NAME);
            continue;
        }
        let s = 1f64.max(w.abs()).max(scale.get(i).copied().unwrap_or(0.0));
        assert!(
            (g - w).abs() <= tol * s,
            "{what}[{i}] ({}): got {g:e}, want {w:e}: |diff| {:e} > {tol:e}·{s:e}",
            T::NAME,
            (g - w).abs()
        );
    }
}

/// Bitwise equality, NaN matching NaN.
#[track_caller]
fn assert_bits<T: TestReal>(got: &[T], want: &[T], what: &str) {
    if let Some(m) = bitwise_mismatch(got, want) {
        panic!("{what} ({}): {m}", T::NAME);
    }
}

/// The values and the gradients with respect to `wrt` of `y` seeded with `seed`.
fn eval<'t, T: TestReal>(y: Var<'t, T>, seed: &[T], wrt: &[Var<'t, T>]) -> (Vec<T>, Vec<Vec<T>>) {
    let values = y.value().to_vec();
    let g = y.backward_with(seed);
    (values, wrt.iter().map(|&x| g.wrt(x).to_vec()).collect())
}

/// One unary case: a name and where its input lives.
const UNARY: &[(&str, Dom)] = &[
    ("3x³ − sin x", Dom::Sym(3.0)),
    ("tanh x·e^(−x²) + sin x/(x² + 1)", Dom::Sym(3.0)),
    ("ln √(x² + 1)", Dom::Sym(5.0)),
    ("σ(x)·relu(x) − |x|·cos x", Dom::Sym(4.0)),
    (
        "1/(x² + ½) + 2/(1 + x·x) + (x − 1)/2 − (3 − x)",
        Dom::Sym(3.0),
    ),
    (
        "x^2.5 − (x² + 1)^(−½) + x⁵ − x⁻² + x⁰ + x⁴·x",
        Dom::Pos(0.1, 3.0),
    ),
    ("x/(x² + 2) − (1 − x)·eˣ", Dom::Sym(3.0)),
    ("−x + 5 − x·0.5 − 2·x + x·x − 3", Dom::Sym(10.0)),
    ("√x·ln x + 1/x", Dom::Pos(0.1, 5.0)),
    ("σ(sin x)·tanh(cos x) − e^(tanh x)", Dom::Sym(6.0)),
    ("2ˣ (constant base) + xˣ", Dom::Pos(0.2, 3.0)),
    ("√(relu x + ½) + 1/(x·x + 1)", Dom::Sym(2.0)),
];

/// One binary case: a name and where each input lives.
const BINARY: &[(&str, Dom, Dom)] = &[
    ("3a³ − b²", Dom::Sym(3.0), Dom::Sym(3.0)),
    ("a·b/(a² + b² + 1)", Dom::Sym(3.0), Dom::Sym(3.0)),
    ("a^b·½ + (b² + 1)^(a·½)", Dom::Pos(0.1, 3.0), Dom::Sym(2.0)),
    (
        "sin a·eᵇ − tanh(a − b) + σ(b)·relu(a)",
        Dom::Sym(2.0),
        Dom::Sym(2.0),
    ),
    ("a/b + |b − a|·√b", Dom::Sym(3.0), Dom::Pos(0.5, 3.0)),
    (
        "cos(a + b)/a − b⁴·ln a + 1/(b·b + a)",
        Dom::Pos(0.2, 3.0),
        Dom::Sym(3.0),
    ),
];

// ---------------------------------------------------------------------------
// The tests, once per scalar type
// ---------------------------------------------------------------------------

macro_rules! suite {
    ($m:ident, $t:ty, tol = $tol:expr) => {
        mod $m {
            use super::*;

            type T = $t;
            /// Relative tolerance of map against the op-by-op expression.
            const TOL: f64 = $tol;

            /// Unary case `k` on `x`: `(map, op by op)`.
            fn unary(k: usize, x: Var<'_, T>) -> (Var<'_, T>, Var<'_, T>) {
                match k {
                    0 => both!(x, |x| 3.0 * x.powi(3) - x.sin()),
                    1 => both!(x, |x| x.tanh() * (-(x * x)).exp() + x.sin() / (x * x + 1.0)),
                    2 => both!(x, |x| (x * x + 1.0).sqrt().ln()),
                    3 => both!(x, |x| x.sigmoid() * x.relu() - x.abs() * x.cos()),
                    4 => both!(x, |x| (x * x + 0.5).recip()
                        + 2.0 / (1.0 + x * x)
                        + (x - 1.0) / 2.0
                        - (3.0 - x)),
                    5 => both!(x, |x| x.powf(2.5) - (x * x + 1.0).powf(-0.5) + x.powi(5)
                        - x.powi(-2)
                        + x.powi(0)
                        + x.powi(4) * x),
                    6 => both!(x, |x| x / (x * x + 2.0) - (1.0 - x) * x.exp()),
                    7 => both!(x, |x| -x + 5.0 - x * 0.5 - 2.0 * x + x * x - 3.0),
                    8 => both!(x, |x| x.sqrt() * x.ln() + x.recip()),
                    9 => both!(x, |x| x.sin().sigmoid() * x.cos().tanh() - x.tanh().exp()),
                    10 => (
                        x.map(|x| Elem::constant(2.0).pow(x) + x.pow(x)),
                        x.tape().constant(&[2.0]).pow(x) + x.pow(x),
                    ),
                    11 => both!(x, |x| (x.relu() + 0.5).sqrt() + 1.0 / (x * x + 1.0)),
                    _ => unreachable!(),
                }
            }

            /// Binary case `k` on `(a, b)`: `(map2, op by op)`.
            fn binary<'t>(k: usize, a: Var<'t, T>, b: Var<'t, T>) -> (Var<'t, T>, Var<'t, T>) {
                match k {
                    0 => both2!(a, b, |a, b| 3.0 * a.powi(3) - b.powi(2)),
                    1 => both2!(a, b, |a, b| a * b / (a * a + b * b + 1.0)),
                    2 => both2!(a, b, |a, b| a.pow(b) * 0.5 + (b * b + 1.0).pow(a * 0.5)),
                    3 => both2!(a, b, |a, b| a.sin() * b.exp() - (a - b).tanh()
                        + b.sigmoid() * a.relu()),
                    4 => both2!(a, b, |a, b| a / b + (b - a).abs() * b.sqrt()),
                    5 => both2!(a, b, |a, b| (a + b).cos() / a - b.powi(4) * a.ln()
                        + 1.0 / (b * b + a)),
                    _ => unreachable!(),
                }
            }

            /// Unary case `k` at `x` (already in its domain), seeded with `seed`.
            fn check_unary(k: usize, x: &[T], seed: &[T]) {
                let what = UNARY[k].0;
                let tape = Tape::<T>::new();
                let xv = tape.var(x);
                let (m, o) = unary(k, xv);
                assert_eq!(m.len(), x.len(), "{what}: length of the map");
                let (mv, mg) = eval(m, seed, &[xv]);
                let (ov, og) = eval(o, seed, &[xv]);
                assert_near(&mv, &ov, &[], TOL, &format!("{what}: values"));
                assert_near(&mg[0], &og[0], &[], TOL, &format!("{what}: ∂/∂x"));
            }

            /// Binary case `k` at `(a, b)` (lengths equal or one of them 1).
            fn check_binary(k: usize, a: &[T], b: &[T], seed: &[T]) {
                let what = BINARY[k].0;
                let n = if a.len() == b.len() || b.len() == 1 {
                    a.len()
                } else {
                    b.len()
                };
                let tape = Tape::<T>::new();
                let (av, bv) = (tape.var(a), tape.var(b));
                let (m, o) = binary(k, av, bv);
                assert_eq!(m.len(), n, "{what}: length of the map2");
                let (mv, mg) = eval(m, seed, &[av, bv]);
                let (ov, og) = eval(o, seed, &[av, bv]);
                assert_near(&mv, &ov, &[], TOL, &format!("{what}: values"));
                // A broadcast side's gradient is a sum over the n elements: held
                // to the sum of the gradients of the side expanded to length n,
                // with the tolerance scaled by the sum of their magnitudes.
                for (side, x) in [a, b].into_iter().enumerate() {
                    let name = ["∂/∂a", "∂/∂b"][side];
                    if x.len() == 1 && n != 1 {
                        let full: Vec<T> = vec![x[0]; n];
                        let other = if side == 0 { b } else { a };
                        let t2 = Tape::<T>::new();
                        let (fa, fb) = if side == 0 {
                            (t2.var(&full), t2.var(other))
                        } else {
                            (t2.var(other), t2.var(&full))
                        };
                        let (m2, _) = binary(k, fa, fb);
                        let (_, g2) = eval(m2, seed, &[fa, fb]);
                        let terms = &g2[side];
                        let abs_sum: f64 = terms.iter().map(|t| t.f64().abs()).sum();
                        let sum = T::lit(terms.iter().map(|t| t.f64()).sum::<f64>());
                        let scale = [abs_sum];
                        let msg = format!("{what}: {name} (broadcast)");
                        assert_near(
                            &mg[side],
                            &[sum],
                            &scale,
                            TOL,
                            &format!("{msg} vs Σ expanded"),
                        );
                        assert_near(&mg[side], &og[side], &scale, TOL, &msg);
                    } else {
                        assert_near(&mg[side], &og[side], &[], TOL, &format!("{what}: {name}"));
                    }
                }
            }

            fn unary_input() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
                (0usize..=70).prop_flat_map(|n| {
                    (
                        prop::collection::vec(raw(), n),
                        prop::collection::vec(-2.0f64..2.0, n),
                    )
                })
            }

            /// `(a raw, b raw, seed, shape)`: shape 0 equal lengths, 1 `b` of
            /// length 1, 2 `a` of length 1.
            fn binary_input() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, u8)> {
                ((0usize..=70), 0u8..3).prop_flat_map(|(n, shape)| {
                    let (la, lb) = match shape {
                        0 => (n, n),
                        1 => (n, 1),
                        _ => (1, n),
                    };
                    (
                        prop::collection::vec(raw(), la),
                        prop::collection::vec(raw(), lb),
                        prop::collection::vec(-2.0f64..2.0, n),
                        Just(shape),
                    )
                })
            }

            proptest! {
                #![proptest_config(ProptestConfig {
                    cases: 256,
                    failure_persistence: None,
                    ..ProptestConfig::default()
                })]

                /// Every unary case: map against op by op, values and gradient.
                #[test]
                fn map_matches_ops((r, s) in unary_input()) {
                    let seed: Vec<T> = Dom::Sym(1.0).vec(&s);
                    for (k, &(_, dom)) in UNARY.iter().enumerate() {
                        check_unary(k, &dom.vec::<T>(&r), &seed);
                    }
                }

                /// Every binary case, equal lengths and either side broadcast.
                #[test]
                fn map2_matches_ops((ra, rb, s, _shape) in binary_input()) {
                    let seed: Vec<T> = Dom::Sym(1.0).vec(&s);
                    for (k, &(_, da, db)) in BINARY.iter().enumerate() {
                        check_binary(k, &da.vec::<T>(&ra), &db.vec::<T>(&rb), &seed);
                    }
                }

                /// The same `Var` on both sides: each side's contribution adds up.
                /// `a·b` gives 2x·seed exactly (x·g + x·g = 2·(x·g)).
                #[test]
                fn map2_same_var_on_both_sides((r, s) in unary_input()) {
                    let x: Vec<T> = Dom::Sym(3.0).vec(&r);
                    let seed: Vec<T> = Dom::Sym(1.0).vec(&s);
                    let tape = Tape::<T>::new();
                    let xv = tape.var(&x);
                    let (v, g) = eval(xv.map2(xv, |a, b| a * b), &seed, &[xv]);
                    let want_v: Vec<T> = x.iter().map(|&x| x * x).collect();
                    let want_g: Vec<T> =
                        x.iter().zip(&seed).map(|(&x, &g)| 2.0 * (x * g)).collect();
                    assert_bits(&v, &want_v, "x·x: values");
                    assert_bits(&g[0], &want_g, "x·x: ∂/∂x");
                    let (m, o) = both2!(xv, xv, |a, b| a.sin() * b - b.powi(2) / (a * a + 1.0));
                    let (mv, mg) = eval(m, &seed, &[xv]);
                    let (ov, og) = eval(o, &seed, &[xv]);
                    assert_near(&mv, &ov, &[], TOL, "sin x·x − x²/(x² + 1): values");
                    assert_near(&mg[0], &og[0], &[], TOL, "sin x·x − x²/(x² + 1): ∂/∂x");
                }

                /// `kernels::map` against `kernels::scalar::map`, bitwise, on
                /// ordinary values, one and two inputs (one of them splat):
                /// |x| ≤ 15 and `powf`/`pow` on positive bases only, where no
                /// lane function leaves the lanes.
                #[test]
                fn kernel_map_is_its_scalar_twin(
                    x in prop::collection::vec(-15.0f64..15.0, 0..=70),
                    c in -5.0f64..5.0,
                ) {
                    let x: Vec<T> = x.iter().map(|&v| T::lit(v)).collect();
                    let c = T::lit(c);
                    kernel_pair(&x, c, Compare::Bits);
                }

                /// The same on any values (±0, ±inf, NaN, subnormals, ±MAX,
                /// magnitudes 1e±40 mixed with ordinary ones in one bundle),
                /// within rounding: an element next to a special one can take
                /// std's path with it (see `map_element_next_to_special_ones`).
                #[test]
                fn kernel_map_is_its_scalar_twin_on_any_values(
                    x in prop::collection::vec(value::<T>(), 0..=70),
                    c in moderate::<T>(),
                ) {
                    kernel_pair(&x, c, Compare::Near);
                }
            }

            /// How [`kernel_pair`] compares the kernel with its twin.
            #[derive(Clone, Copy)]
            enum Compare {
                Bits,
                Near,
            }

            /// `kernels::map` (sequential) and `kernels::scalar::map` on `x`,
            /// one input and two (a slice and a splat `c`), compared as `how` says
            /// (near: within `100·TOL` relative to the larger of 1 and the twin's
            /// value, non-finite ones equal: the closures add terms that cancel,
            /// and an ulp of `sin` at |x| ≈ 1e4 is 1e-5 of an `f32` result).
            fn kernel_pair(x: &[T], c: T, how: Compare) {
                let check = |got: &[T], want: &[T], what: &str| match how {
                    Compare::Bits => assert_bits(got, want, what),
                    Compare::Near => assert_near(got, want, &[], 100.0 * TOL, what),
                };
                let n = x.len();
                let f1 = |[x]: [Elem<T, 1>; 1]| {
                    x.sin() * x.exp() - x.powi(3) / (x * x + 1.0)
                        + x.ln().abs()
                        + (x * x + 1.0).powf(0.75) * x.tanh()
                };
                let (mut y, mut p) = (vec![T::NAN; n], vec![T::NAN; n]);
                let (mut ys, mut ps) = (vec![T::NAN; n], vec![T::NAN; n]);
                kernels::map(Par::Sequential, &f1, [Operand::Slice(x)], &mut y, &mut p);
                scalar::map(&f1, [Operand::Slice(x)], &mut ys, &mut ps);
                check(&y, &ys, "map kernel, K = 1: values");
                check(&p, &ps, "map kernel, K = 1: partials");

                let f2 = |[a, b]: [Elem<T, 2>; 2]| {
                    a * b.tanh() + (a - b).cos() - a.sqrt() * b.sigmoid()
                        + (a * a + 0.5).pow(b * 0.1)
                };
                let (sx, sc) = (Operand::Slice(x), Operand::Splat(c));
                for inputs in [[sx, sc], [sc, sx]] {
                    let (mut y, mut p) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                    let (mut ys, mut ps) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                    kernels::map(Par::Sequential, &f2, inputs, &mut y, &mut p);
                    scalar::map(&f2, inputs, &mut ys, &mut ps);
                    check(&y, &ys, "map kernel, K = 2: values");
                    check(&p, &ps, "map kernel, K = 2: partials");
                }
                let rev: Vec<T> = x.iter().rev().copied().collect();
                let (mut y, mut p) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                let (mut ys, mut ps) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                let inputs = [Operand::Slice(x), Operand::Slice(&rev[..])];
                kernels::map(Par::Sequential, &f2, inputs, &mut y, &mut p);
                scalar::map(&f2, inputs, &mut ys, &mut ps);
                check(&y, &ys, "map kernel, K = 2, two slices: values");
                check(&p, &ps, "map kernel, K = 2, two slices: partials");
            }

            /// Every case again at lengths around 5000 (tails of each size mod
            /// the lane width), where the op-by-op versions are deferred and
            /// fused, and a broadcast side's sum runs over many elements.
            #[test]
            fn long_vectors_match_ops() {
                let mut rng = Rng(0x5eed_0001 ^ T::LANES as u64);
                for n in [4999usize, 5000, 5003] {
                    let r = raw_vec(&mut rng, n);
                    let r2 = raw_vec(&mut rng, n);
                    let seed: Vec<T> = Dom::Sym(1.0).vec(&raw_vec(&mut rng, n));
                    for (k, &(_, dom)) in UNARY.iter().enumerate() {
                        check_unary(k, &dom.vec::<T>(&r), &seed);
                    }
                    for (k, &(_, da, db)) in BINARY.iter().enumerate() {
                        let (a, b) = (da.vec::<T>(&r), db.vec::<T>(&r2));
                        check_binary(k, &a, &b, &seed);
                        check_binary(k, &a, &b[..1], &seed);
                        check_binary(k, &a[..1], &b, &seed);
                    }
                }
            }

            /// The notebook's `Q = 3a³ − b²`, exact: values and (9a², −2b).
            #[test]
            fn notebook_q_is_exact() {
                let tape = Tape::<T>::new();
                let a = tape.var(&[0.0, 1.0, 2.0, 3.0]);
                let b = tape.var(&[0.0, 4.0, 8.0, 12.0]);
                let q = a.map2(b, |a, b| 3.0 * a.powi(3) - b.powi(2));
                assert_eq!(q.len(), 4);
                assert_eq!(*q.value(), [0.0, -13.0, -40.0, -63.0]);
                let g = q.backward_with(&[1.0; 4]);
                assert_eq!(g.wrt(a), [0.0, 9.0, 36.0, 81.0]);
                assert_eq!(g.wrt(b), [0.0, -8.0, -16.0, -24.0]);
            }

            /// A tangent that is exactly 0 stays 0: in `√a + b`, ∂/∂b is the
            /// seed where a = 0 (√'s +inf derivative is not multiplied into
            /// b's zero tangent toward a), and ∂/∂a is +inf there.
            #[test]
            fn zero_tangent_stays_zero() {
                let tape = Tape::<T>::new();
                let a = tape.var(&[0.0, 1.0, 4.0, 0.0, 9.0, 0.0]);
                let b = tape.var(&[1.0, -2.0, 3.0, 5.0, 0.5, 0.0]);
                let seed: [T; 6] = [1.0, 2.0, 0.5, 3.0, 1.0, 0.25];
                let q = a.map2(b, |a, b| a.sqrt() + b);
                assert_eq!(*q.value(), [1.0, -1.0, 5.0, 5.0, 3.5, 0.0]);
                let g = q.backward_with(&seed);
                assert_eq!(g.wrt(b), seed, "∂/∂b must be the seed, finite");
                let inf = T::INFINITY;
                assert_eq!(g.wrt(a), [inf, 1.0, 0.125, inf, 1.0 / 6.0, inf]);
                drop(g);

                // Through a unary map: √(relu x) at x < 0 is 0 near x, its
                // derivative 0 (relu's 0 tangent is not multiplied by √'s inf).
                let x = tape.var(&[-1.0, -0.5, 4.0, 0.0]);
                let y = x.map(|x| x.relu().sqrt());
                let g = y.backward_with(&[1.0; 4]);
                assert_eq!(g.wrt(x)[..3], [0.0, 0.0, 0.25]);
                // At exactly 0 relu's derivative is 0 too: still a zero tangent.
                assert_eq!(g.wrt(x)[3], 0.0);
            }

            /// A function whose derivative is a constant skips the zero-tangent
            /// mask only where that constant is finite: `relu(x)·∞` and
            /// `relu(x)/0` at x ≤ 0 keep relu's 0 tangent 0 (not 0·∞ = NaN),
            /// and a finite scale, offset or sign change at x ≤ 0 gives 0 too.
            #[test]
            fn non_finite_constant_keeps_zero_tangents() {
                let tape = Tape::<T>::new();
                let x = tape.var(&[-1.0, 0.0, 2.0, -3.0, 0.5]);
                let seed = [1.0; 5];
                let inf = T::INFINITY;
                for (name, want_pos) in [("·∞", inf), ("/0", inf), ("finite", 3.0)] {
                    let y = x.map(|x| match name {
                        "·∞" => x.relu() * inf,
                        "/0" => x.relu() / 0.0,
                        _ => 1.0 - (-(x.relu() * 6.0) / 2.0 + 4.0),
                    });
                    let g = y.backward_with(&seed);
                    let gx = g.wrt(x);
                    for i in [0, 1, 3] {
                        assert_eq!(gx[i], 0.0, "{name}: relu's zero tangent at {i}");
                    }
                    assert_eq!([gx[2], gx[4]], [want_pos; 2], "{name}: where relu' = 1");
                }

                // A NaN scale keeps the mask too; so does an infinite one in a
                // map2, where ∂/∂b runs beside it.
                let y = x.map(|x| x.relu() * T::NAN);
                let g = y.backward_with(&seed);
                assert_eq!(g.wrt(x)[..2], [0.0, 0.0], "relu(x)·NaN at x ≤ 0");
                assert!(g.wrt(x)[2].is_nan(), "relu(x)·NaN at x > 0");
                drop(g);
                let b = tape.var(&[1.0, 2.0, 3.0, 4.0, 5.0]);
                let y = x.map2(b, |x, b| x.relu() * inf + b * 2.0);
                let g = y.backward_with(&seed);
                assert_eq!(
                    [g.wrt(x)[0], g.wrt(x)[1], g.wrt(x)[3]],
                    [0.0; 3],
                    "map2: ∂/∂x at x ≤ 0"
                );
                assert_eq!(g.wrt(b), [2.0; 5], "map2: ∂/∂b");
            }

            /// A map2 whose inputs already hold an adjoint when its backward
            /// runs (both, then one): its one pass adds into them, as the ops'
            /// backward does.
            #[test]
            fn map2_backward_adds_into_written_adjoints() {
                let n = 37;
                let line = |c: f64, s: f64| -> Vec<T> {
                    (0..n).map(|i| T::lit(c + s * i as f64)).collect()
                };
                let (av, bv, seed) = (line(-1.5, 0.1), line(0.7, -0.05), line(0.5, 0.02));
                let tape = Tape::<T>::new();
                let (a, b) = (tape.var(&av), tape.var(&bv));
                for both in [true, false] {
                    let other = |x| x + if both { a * b } else { a * 2.0 };
                    let (m, ops) = both2!(a, b, |x, y| x * y.sin() - y * 3.0);
                    let grads = |y: Var<'_, T>| {
                        let g = y.backward_with(&seed);
                        [g.wrt(a).to_vec(), g.wrt(b).to_vec()]
                    };
                    let (gm, go) = (grads(other(m)), grads(other(ops)));
                    for (k, (m, o)) in gm.iter().zip(&go).enumerate() {
                        let what = format!("both {both}: ∂/∂{}", ["a", "b"][k]);
                        assert_near(m, o, &[], TOL, &what);
                    }
                }
            }

            /// A map of constants is a constant: right values, no gradient; a
            /// map2 with one constant side differentiates the other only.
            #[test]
            fn maps_of_constants() {
                let tape = Tape::<T>::new();
                let cv: Vec<T> = vec![0.5, -1.0, 2.0, 3.0, -0.25, 1.5, 0.0, 4.0, -2.0, 1.0];
                let c = tape.constant(&cv);
                let y = c.map(|x| x * x.sin() + 1.0);
                assert!(!y.needs_grad(), "a map of a constant needs no gradient");
                let want: Vec<T> = cv.iter().map(|&x| x * x.sin() + 1.0).collect();
                assert_near(&y.value(), &want, &[], TOL, "map of a constant: values");
                let c1 = tape.constant(&[2.0]);
                assert!(!c.map2(c1, |a, b| a * b).needs_grad());

                let xv: Vec<T> = vec![1.0, 2.0, -3.0, 0.5, 0.25, -1.5, 2.5, 3.5, -0.75, 1.25];
                let x = tape.var(&xv);
                let seed: Vec<T> = (0..10).map(|i| T::lit(0.5 + i as f64 * 0.1)).collect();
                for (k, (m, o)) in [
                    both2!(x, c, |a, b| a * b.exp() - a.powi(2) / (b * b + 1.0)),
                    both2!(c, x, |a, b| a * b.exp() - b.powi(2) / (a * a + 1.0)),
                    both2!(x, c1, |a, b| a.powf(2.0) * b + b.ln() * a),
                    both2!(c1, x, |a, b| b.powf(2.0) * a + a.ln() * b),
                ]
                .into_iter()
                .enumerate()
                {
                    assert!(m.needs_grad(), "case {k}: depends on a var");
                    let (mv, mg) = eval(m, &seed, &[x]);
                    let (ov, og) = eval(o, &seed, &[x]);
                    assert_near(
                        &mv,
                        &ov,
                        &[],
                        TOL,
                        &format!("constant side, case {k}: values"),
                    );
                    let msg = format!("constant side, case {k}: ∂/∂x");
                    assert_near(&mg[0], &og[0], &[], TOL, &msg);
                }

                // The constant map's output used with a var: ∂(x·y)/∂x = y.
                let z = (x * y).sum();
                let g = z.backward();
                assert_eq!(g.wrt(x), &*y.value());
            }

            /// `u` (long, deferred ops) → map → more ops → map2 with `u`: the
            /// op-by-op version recorded alongside when `use_map` is false.
            fn composed<'t>(x: Var<'t, T>, use_map: bool) -> (Var<'t, T>, Var<'t, T>) {
                let u = (x * x + 1.0).sin() * x - 0.5;
                let v = if use_map {
                    u.map(|u| u.tanh() * u + 0.5 * u.cos())
                } else {
                    u.tanh() * u + 0.5 * u.cos()
                }
                .retain_grad();
                let w = v * x + v.sin();
                let z = if use_map {
                    w.map2(u, |w, u| w * u.sigmoid() - w.powi(2) * 0.1)
                } else {
                    w * u.sigmoid() - w.powi(2) * 0.1
                };
                (v, z * 2.0 + x)
            }

            /// What `run_composed` returns.
            const PARTS: [&str; 3] = ["values", "∂/∂x", "∂/∂v"];

            /// Values, ∂/∂x and the retained adjoint of the first map's output.
            fn run_composed(n: usize, fusion: bool, par: Par, use_map: bool) -> [Vec<T>; 3] {
                let mut rng = Rng(0xc0ffee + n as u64);
                let x: Vec<T> = Dom::Sym(2.0).vec(&raw_vec(&mut rng, n));
                let seed: Vec<T> = Dom::Sym(1.0).vec(&raw_vec(&mut rng, n));
                let tape = Tape::<T>::new();
                tape.set_fusion(fusion);
                tape.set_par(par);
                let xv = tape.var(&x);
                let (v, z) = composed(xv, use_map);
                let (zv, g) = eval(z, &seed, &[xv, v]);
                let [gx, gv] = <[Vec<T>; 2]>::try_from(g).unwrap();
                [zv, gx, gv]
            }

            /// A map fed by long fused ops, feeding further ops and another
            /// map: gradient as op by op, with fusion on and off; the map
            /// version's bits do not depend on fusion.
            #[test]
            fn composition_with_fused_ops() {
                for n in [37usize, 5000, 5005] {
                    let fused = run_composed(n, true, Par::default(), true);
                    let plain = run_composed(n, false, Par::default(), true);
                    for (what, (f, p)) in PARTS.iter().zip(fused.iter().zip(&plain)) {
                        assert_bits(f, p, &format!("n = {n}, fusion on vs off: {what}"));
                    }
                    for fusion in [true, false] {
                        let ops = run_composed(n, fusion, Par::default(), false);
                        for (what, (m, o)) in PARTS.iter().zip(fused.iter().zip(&ops)) {
                            let msg = format!("n = {n}, fusion {fusion}: {what}");
                            assert_near(m, o, &[], 20.0 * TOL, &msg);
                        }
                    }
                }
            }

            /// Past `PAR_MIN_LEN` the map kernel splits on rayon: the same bits
            /// as sequential, through the tape (a broadcast side's `dot`
            /// included) and through the kernel, on a pool of 3 threads.
            #[test]
            fn rayon_is_sequential_bitwise() {
                let n = PAR_MIN_LEN + 5;
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(3)
                    .build()
                    .unwrap();
                let seq = run_composed(n, true, Par::Sequential, true);
                let par = pool.install(|| run_composed(n, true, Par::Rayon, true));
                for (what, (s, p)) in PARTS.iter().zip(seq.iter().zip(&par)) {
                    assert_bits(p, s, &format!("tape, rayon vs sequential: {what}"));
                }

                let mut rng = Rng(7);
                let x: Vec<T> = Dom::Sym(3.0).vec(&raw_vec(&mut rng, n));
                let seed: Vec<T> = Dom::Sym(1.0).vec(&raw_vec(&mut rng, n));
                let broadcast = |par: Par| {
                    let tape = Tape::<T>::new();
                    tape.set_par(par);
                    let (xv, c) = (tape.var(&x), tape.var(&[0.75]));
                    let y = xv.map2(c, |a, b| (a * b).sin() + b.exp() * a);
                    let (v, g) = eval(y, &seed, &[xv, c]);
                    (v, g)
                };
                let (sv, sg) = broadcast(Par::Sequential);
                let (pv, pg) = pool.install(|| broadcast(Par::Rayon));
                assert_bits(&pv, &sv, "broadcast map2, rayon vs sequential: values");
                assert_bits(&pg[0], &sg[0], "broadcast map2, rayon vs sequential: ∂/∂x");
                assert_bits(&pg[1], &sg[1], "broadcast map2, rayon vs sequential: ∂/∂c");

                let f = |[a, b]: [Elem<T, 2>; 2]| a.tanh() * b + (a - b).exp();
                let rev: Vec<T> = x.iter().rev().copied().collect();
                let inputs = [Operand::Slice(&x[..]), Operand::Slice(&rev[..])];
                let run = |par: Par| {
                    let (mut y, mut p) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                    kernels::map(par, &f, inputs, &mut y, &mut p);
                    (y, p)
                };
                let (sy, sp) = run(Par::Sequential);
                let (py, pp) = pool.install(|| run(Par::Rayon));
                assert_bits(&py, &sy, "map kernel, rayon vs sequential: values");
                assert_bits(&pp, &sp, "map kernel, rayon vs sequential: partials");
                let (mut ys, mut ps) = (vec![T::NAN; n], vec![T::NAN; 2 * n]);
                scalar::map(&f, inputs, &mut ys, &mut ps);
                assert_bits(&py, &ys, "map kernel (rayon) vs scalar twin: values");
                assert_bits(&pp, &ps, "map kernel (rayon) vs scalar twin: partials");
            }

            /// The evaluation `steady_state_truncate` repeats.
            fn steady<'t>(x: Var<'t, T>, kept: Var<'t, T>, c: Var<'t, T>) -> Var<'t, T> {
                let y = x.map(|x| x.sin() * x + 1.0);
                (y * kept).map2(c, |a, b| a.tanh() * b - a * a)
            }

            /// Inputs recorded once; `truncate` and map again: the same bits
            /// every time, and the same as on a fresh tape. A kept map node
            /// (its derivatives on the tape) survives the truncation.
            #[test]
            fn steady_state_truncate() {
                let mut rng = Rng(99);
                for n in [3usize, 13, 5001] {
                    let xs: Vec<T> = Dom::Sym(2.0).vec(&raw_vec(&mut rng, n));
                    let seed: Vec<T> = Dom::Sym(1.0).vec(&raw_vec(&mut rng, n));
                    let fresh = {
                        let tape = Tape::<T>::new();
                        let x = tape.var(&xs);
                        let c = tape.var(&[1.5]);
                        let kept = x.map(|x| x.cos() - x);
                        let (v, g) = eval(steady(x, kept, c), &seed, &[x, c]);
                        (v, g)
                    };
                    let mut tape = Tape::<T>::new();
                    let (x, c) = (tape.var(&xs).id(), tape.var(&[1.5]).id());
                    let kept = tape.get(x).unwrap().map(|x| x.cos() - x).id();
                    let k = tape.len();
                    for round in 0..4 {
                        tape.truncate(k);
                        assert_eq!(tape.len(), k);
                        let get = |id| tape.get(id).expect("kept by truncate");
                        let (xv, cv, kv) = (get(x), get(c), get(kept));
                        let (v, g) = eval(steady(xv, kv, cv), &seed, &[xv, cv]);
                        assert_bits(&v, &fresh.0, &format!("n = {n}, round {round}: values"));
                        let msg = format!("n = {n}, round {round}");
                        assert_bits(&g[0], &fresh.1[0], &format!("{msg}: ∂/∂x"));
                        assert_bits(&g[1], &fresh.1[1], &format!("{msg}: ∂/∂c"));
                    }
                    // Truncate past the kept map too, then record it again.
                    tape.truncate(2);
                    let (xv, cv) = (tape.get(x).unwrap(), tape.get(c).unwrap());
                    let kv = xv.map(|x| x.cos() - x);
                    let (v, g) = eval(steady(xv, kv, cv), &seed, &[xv, cv]);
                    assert_bits(&v, &fresh.0, &format!("n = {n}, re-recorded: values"));
                    assert_bits(&g[0], &fresh.1[0], &format!("n = {n}, re-recorded: ∂/∂x"));
                    assert_bits(&g[1], &fresh.1[1], &format!("n = {n}, re-recorded: ∂/∂c"));
                }
            }

            /// `update` an input in place and map again: the gradient at the new
            /// values, as on a fresh tape.
            #[test]
            fn update_then_map_again() {
                let mut tape = Tape::<T>::new();
                let x = tape.var(&[0.5, 1.0, 1.5, 2.0, 2.5]).id();
                for step in 0..3 {
                    let xv = tape.get(x).unwrap();
                    let y = xv.map(|x| x.powi(3) - x.exp()).sum();
                    let got = y.backward().wrt(xv).to_vec();
                    let vals = xv.value().to_vec();
                    let want: Vec<T> = vals.iter().map(|&x| 3.0 * x * x - x.exp()).collect();
                    assert_near(&got, &want, &[], 10.0 * TOL, &format!("step {step}"));
                    tape.update(x, |v, _| v.iter_mut().for_each(|v| *v -= 0.25));
                }
            }
        }
    };
}

suite!(f64_, f64, tol = 1e-12);
suite!(f32_, f32, tol = 1e-5);

/// A map recorded while a run of deferred (long) ops is pending, reading the
/// same input as the run, and read by a deferred op after it: the run's flush
/// steps over the map's values and its `K·len` partials. Against the closed
/// form, fusion on and off, at a length that defers (5000) and one that does
/// not (37).
#[test]
fn map_inside_a_pending_run() {
    for fusion in [true, false] {
        for n in [5000, 37] {
            let x: Vec<f64> = (0..n)
                .map(|i| (i as f64 * 0.37).sin() * 1.3 + 0.1)
                .collect();
            let tape = Tape::<f64>::new();
            tape.set_fusion(fusion);
            let xv = tape.var(&x);
            let u = xv.sin(); // deferred at 5000
            let m = xv.map(|x| x * x + 1.0); // recorded mid-run
            let m2 = xv.map2(xv, |a, b| a * b.exp()); // mid-run, the same var twice
            let w = u * m + m2 * u; // deferred, reads both maps
            let g = (w + xv).sum().backward();
            let want: Vec<f64> = x
                .iter()
                .map(|&x| {
                    let (s, c, e) = (x.sin(), x.cos(), x.exp());
                    c * (x * x + 1.0) + s * 2.0 * x + (e + x * e) * s + x * e * c + 1.0
                })
                .collect();
            let what = format!("map inside a pending run, fusion {fusion}, n = {n}: ∂/∂x");
            assert_near(g.wrt(xv), &want, &[], 1e-12, &what);
        }
    }
}

// ---------------------------------------------------------------------------
// An element next to special ones: within rounding of the element alone
// ---------------------------------------------------------------------------

/// An element's bits may depend on the other lanes of its bundle, by an ulp
/// or so, in two ways (`src/kernels/map.rs` says so):
///
/// 1. `src/real.rs` sends a whole bundle down std's path when one lane is
///    special: `powf`/`pow` when a lane's result is NaN, 0, subnormal or
///    overflows (a negative base with a fractional exponent), `sin_cos` when
///    a lane is past 1e13 (f64), `ln` of a subnormal;
/// 2. `wide` 1.7.1 itself: `f64x4::exp_m1` returns −1 when *all* lanes are
///    below −37.429, while lane by lane it gives −1 + 2⁻⁵³ down to
///    ln 2⁻⁵⁴ ≈ −37.42995; so `tanh` of |x| in (18.7145, 18.715) is ±1
///    alone and ±0.9999999999999999 next to other values.
///
/// Each case is one element computed in a bundle with neighbours (the
/// kernel, and `Var::map` on the tape) and alone (the twin, and `Var::map`
/// on a length-1 vector): equal within 1e-15 of the larger of 1 and the value.
#[test]
fn map_element_next_to_special_ones() {
    type F = fn(Elem<f64, 1>) -> Elem<f64, 1>;
    let cases: [(&str, [f64; 4], usize, F); 3] = [
        (
            "cos next to 1e300",
            [1e300, 83.27486141838226, 0.5, 2.0],
            1,
            |x| x.cos(),
        ),
        (
            "powf 2.5 next to −1",
            [-1.0, 9.509248723946826, 2.0, 3.0],
            1,
            |x| x.powf(2.5),
        ),
        (
            "tanh next to 0",
            [0.0, 0.0, 0.0, -18.71471466035831],
            3,
            |x| x.tanh(),
        ),
    ];
    for (what, x, i, f) in cases {
        let k = |[x]: [Elem<f64, 1>; 1]| f(x);
        let (mut y, mut p) = ([f64::NAN; 4], [f64::NAN; 4]);
        let (mut ys, mut ps) = ([f64::NAN; 4], [f64::NAN; 4]);
        kernels::map(Par::Sequential, &k, [Operand::Slice(&x)], &mut y, &mut p);
        scalar::map(&k, [Operand::Slice(&x)], &mut ys, &mut ps);
        let what = format!("{what}, kernel against its twin");
        assert_near(&y[i..=i], &ys[i..=i], &[], 1e-15, &format!("{what}: value"));
        assert_near(
            &p[i..=i],
            &ps[i..=i],
            &[],
            1e-15,
            &format!("{what}: derivative"),
        );
        let on_tape = |x: &[f64], i: usize| {
            let tape = Tape::<f64>::new();
            let xv = tape.var(x);
            let y = xv.map(f);
            let v = y.value()[i];
            (v, y.backward_with(&vec![1.0; x.len()]).wrt(xv)[i])
        };
        let (together, alone) = (on_tape(&x, i), on_tape(&x[i..=i], 0));
        let what = format!("{what}: Var::map in {x:?} against alone");
        assert_near(
            &[together.0],
            &[alone.0],
            &[],
            1e-15,
            &format!("{what}: value"),
        );
        assert_near(
            &[together.1],
            &[alone.1],
            &[],
            1e-15,
            &format!("{what}: gradient"),
        );
    }
}

// ---------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------

#[test]
#[should_panic(expected = "dualtape: map2: length mismatch: left has 3 elements, right has 2")]
fn map2_of_mismatched_lengths() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(&[1.0; 3]), tape.var(&[1.0; 2]));
    let _ = a.map2(b, |a, b| a + b);
}

/// Length 0 against length 2: neither is 1, no broadcast.
#[test]
#[should_panic(expected = "dualtape: map2: length mismatch: left has 0 elements, right has 2")]
fn map2_of_empty_and_two() {
    let tape = Tape::<f32>::new();
    let (a, b) = (tape.var(&[]), tape.constant(&[1.0; 2]));
    let _ = a.map2(b, |a, b| a * b);
}

#[test]
#[should_panic(expected = "dualtape: map2: the operands belong to different tapes")]
fn map2_of_different_tapes() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let (a, b) = (t1.var(&[1.0, 2.0]), t2.var(&[1.0, 2.0]));
    let _ = a.map2(b, |a, b| a + b);
}

#[test]
#[should_panic(expected = "dualtape: cannot record on or sweep this tape while a `Var::value()`")]
fn map_while_a_value_is_borrowed() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&[1.0, 2.0]);
    let _v = x.value();
    let _ = x.map(|x| x * 2.0);
}

/// The lengths are checked before the closure runs: it never sees them.
#[test]
fn map2_broadcast_lengths() {
    let tape = Tape::<f64>::new();
    let (e, one, five) = (tape.var(&[]), tape.var(&[2.0]), tape.var(&[1.0; 5]));
    assert_eq!(e.map2(one, |a, b| a * b).len(), 0);
    assert_eq!(one.map2(e, |a, b| a * b).len(), 0);
    assert_eq!(five.map2(one, |a, b| a * b).len(), 5);
    assert_eq!(one.map2(five, |a, b| a * b).len(), 5);
    assert_eq!(one.map2(one, |a, b| a * b).len(), 1);
    assert_eq!(e.map(|x| x.sin()).len(), 0);
}

// ---------------------------------------------------------------------------
// The functional API: maps on tapes of duals
// ---------------------------------------------------------------------------

/// `H·v` of `Σ x³` through a map is `6x·v`, as through `powi`.
#[test]
fn hvp_through_map() {
    let x: [f64; 5] = [1.0, -2.0, 0.5, 3.0, 0.0];
    let v = [1.0, 0.5, -2.0, 0.25, 4.0];
    let got = func::hvp(|x| x.map(|x| x.powi(3)).sum(), &x, &v);
    let want: Vec<f64> = x.iter().zip(&v).map(|(x, v)| 6.0 * x * v).collect();
    assert_eq!(got, want);
    let ops = func::hvp(|x| x.powi(3).sum(), &x, &v);
    assert_eq!(got, ops);

    // A mixed one: f = Σ sin(x)·eˣ, H = diag(2·cos x·eˣ).
    let got = func::hvp(|x| x.map(|x| x.sin() * x.exp()).sum(), &x, &v);
    let want: Vec<f64> = x
        .iter()
        .zip(&v)
        .map(|(x, v)| 2.0 * x.cos() * x.exp() * v)
        .collect();
    common::assert_close(&got, &want, 1e-13, "hvp of Σ sin x·eˣ");
}

/// `H·v` through a map where a derivative is 0 but its own derivative is not:
/// `Σ exp(x²)` at 0 (`H = (2 + 4x²)·exp(x²)`, 2 there) and `Σ −x²` (`H = −2`),
/// as op by op. The zero-tangent rule acts on each part of a dual tangent: a
/// mask on the whole dual lost the second-order part.
#[test]
fn hvp_through_map_at_a_zero_derivative() {
    let x: [f64; 4] = [0.0, 0.5, -1.0, 0.0];
    let v = [1.0, -2.0, 0.5, 3.0];
    let got = func::hvp(|x| x.map(|x| (x * x).exp()).sum(), &x, &v);
    let want: Vec<f64> = x
        .iter()
        .zip(&v)
        .map(|(x, v)| (2.0 + 4.0 * x * x) * (x * x).exp() * v)
        .collect();
    common::assert_close(&got, &want, 1e-14, "hvp of Σ exp(x²)");
    let ops = func::hvp(|x| (x * x).exp().sum(), &x, &v);
    common::assert_close(&got, &ops, 1e-15, "hvp of Σ exp(x²), map against ops");
    let got = func::hvp(|x| x.map(|x| -(x * x)).sum(), &x, &v);
    let want: Vec<f64> = v.iter().map(|v| -2.0 * v).collect();
    assert_eq!(got, want, "hvp of Σ −x²");
}

/// `J·v` of a map (forward mode on duals) and `∇` of a map2 with itself.
#[test]
fn jvp_and_grad_through_map() {
    let x: [f64; 6] = [0.25, -1.0, 2.0, 0.5, -0.125, 1.5];
    let v = [1.0, 2.0, -1.0, 0.5, 3.0, -0.25];
    let got = func::jvp(|x| x.map(|x| x.exp() * x), &x, &v);
    let want: Vec<f64> = x
        .iter()
        .zip(&v)
        .map(|(x, v)| (x + 1.0) * x.exp() * v)
        .collect();
    common::assert_close(&got, &want, 1e-14, "jvp of x·eˣ");

    let got = func::grad(|x| x.map2(x, |a, b| a.tanh() * b).sum(), &x);
    let want: Vec<f64> = x
        .iter()
        .map(|x| (1.0 - x.tanh().powi(2)) * x + x.tanh())
        .collect();
    common::assert_close(&got, &want, 1e-14, "grad of Σ tanh x·x");
}
