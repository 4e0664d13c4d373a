//! Reverse mode against oracles that share nothing with it (STYLE habit 9):
//!
//! 1. every `Var` op's gradient against central finite differences of the
//!    same function evaluated forward in f64, at random points of the op's
//!    domain away from its kinks and poles, for f32 and f64;
//! 2. the values PyTorch 2.x gives at the non-differentiable points;
//! 3. random expressions over two or three inputs, their gradient against a
//!    plain f64 interpreter that differentiates by hand, in forward mode
//!    (`Expr::reference` in tests/common/mod.rs).

mod common;

use core::ops::{Add, Div, Mul, Sub};

use common::{Expr, TestReal, assert_close, expr};
use dualtape::{Tape, Var};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// A scalar with `scalar ∘ Var` operators (`2.0 * x`, `1.0 / x`).
trait Lit<'t>:
    TestReal
    + Add<Var<'t, Self>, Output = Var<'t, Self>>
    + Sub<Var<'t, Self>, Output = Var<'t, Self>>
    + Mul<Var<'t, Self>, Output = Var<'t, Self>>
    + Div<Var<'t, Self>, Output = Var<'t, Self>>
{
}
impl Lit<'_> for f64 {}
impl Lit<'_> for f32 {}

// ---------------------------------------------------------------------------
// 1. Each op against central differences
// ---------------------------------------------------------------------------

/// The op under test, with its constant where it has one.
#[derive(Clone, Copy, Debug)]
enum Op {
    Powi(i32),
    Powf(f64),
    Pow,
    Sqrt,
    Exp,
    Ln,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    Abs,
    Recip,
    Neg,
    /// `a ∘ b` of two vars whose lengths are given (1 broadcasts)
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    PowVar(usize, usize),
    /// `x ∘ x`: the same node on both sides
    AddSelf,
    SubSelf,
    MulSelf,
    DivSelf,
    PowSelf,
    /// `x ∘ c` and `c ∘ x`
    AddC(f64),
    CAdd(f64),
    SubC(f64),
    CSub(f64),
    MulC(f64),
    CMul(f64),
    DivC(f64),
    CDiv(f64),
    Sum,
    Mean,
    Dot,
    Norm,
    Max,
    Min,
}

/// Where an op's inputs are drawn: `Sym(lo, hi)` is ±[lo, hi] (away from 0 by
/// `lo`), `Pos(lo, hi)` is [lo, hi].
#[derive(Clone, Copy, Debug)]
enum Dom {
    Sym(f64, f64),
    Pos(f64, f64),
}

/// The op's input lengths (for an output of `n` elements) and their domains.
fn inputs(op: Op, n: usize) -> Vec<(usize, Dom)> {
    use Dom::{Pos, Sym};
    let any = Sym(0.0, 3.0);
    match op {
        Op::Powi(k) if k < 0 => vec![(n, Sym(0.3, 3.0))],
        Op::Powi(_) => vec![(n, any)],
        Op::Powf(_) | Op::Sqrt | Op::Ln => vec![(n, Pos(0.2, 4.0))],
        Op::Exp | Op::Sin | Op::Cos | Op::Tanh | Op::Sigmoid | Op::Neg => vec![(n, Sym(0.0, 4.0))],
        // away from the kink at 0 by more than the difference step
        Op::Relu | Op::Abs => vec![(n, Sym(0.05, 3.0))],
        Op::Recip | Op::CDiv(_) => vec![(n, Sym(0.3, 3.0))],
        Op::Add(l, r) | Op::Sub(l, r) | Op::Mul(l, r) => vec![(l, any), (r, any)],
        Op::Div(l, r) => vec![(l, any), (r, Sym(0.3, 3.0))],
        Op::Pow => vec![(n, Pos(0.2, 3.0)), (n, Sym(0.0, 2.5))],
        Op::PowVar(l, r) => vec![(l, Pos(0.2, 3.0)), (r, Sym(0.0, 2.5))],
        Op::DivSelf => vec![(n, Sym(0.3, 3.0))],
        Op::PowSelf => vec![(n, Pos(0.2, 3.0))],
        Op::Dot => vec![(n, any), (n, any)],
        // max/min: values apart (see `strategy`)
        _ => vec![(n, any)],
    }
}

/// Records `op` over `v`.
#[allow(clippy::eq_op)] // `x - x`, `x / x`: the same node on both sides is the point
fn build<'t, U: Lit<'t>>(op: Op, v: &[Var<'t, U>]) -> Var<'t, U> {
    let c = U::lit;
    let x = v[0];
    match op {
        Op::Powi(k) => x.powi(k),
        Op::Powf(p) => x.powf(c(p)),
        Op::Pow => x.pow(v[1]),
        Op::Sqrt => x.sqrt(),
        Op::Exp => x.exp(),
        Op::Ln => x.ln(),
        Op::Sin => x.sin(),
        Op::Cos => x.cos(),
        Op::Tanh => x.tanh(),
        Op::Sigmoid => x.sigmoid(),
        Op::Relu => x.relu(),
        Op::Abs => x.abs(),
        Op::Recip => x.recip(),
        Op::Neg => -x,
        Op::Add(..) => x + v[1],
        Op::Sub(..) => x - v[1],
        Op::Mul(..) => x * v[1],
        Op::Div(..) => x / v[1],
        Op::PowVar(..) => x.pow(v[1]),
        Op::AddSelf => x + x,
        Op::SubSelf => x - x,
        Op::MulSelf => x * x,
        Op::DivSelf => x / x,
        Op::PowSelf => x.pow(x),
        Op::AddC(k) => x + c(k),
        Op::CAdd(k) => c(k) + x,
        Op::SubC(k) => x - c(k),
        Op::CSub(k) => c(k) - x,
        Op::MulC(k) => x * c(k),
        Op::CMul(k) => c(k) * x,
        Op::DivC(k) => x / c(k),
        Op::CDiv(k) => c(k) / x,
        Op::Sum => x.sum(),
        Op::Mean => x.mean(),
        Op::Dot => x.dot(v[1]),
        Op::Norm => x.norm(),
        Op::Max => x.max(),
        Op::Min => x.min(),
    }
}

fn all_ops() -> Vec<Op> {
    let mut ops = vec![
        Op::Powi(0),
        Op::Powi(1),
        Op::Powi(2),
        Op::Powi(3),
        Op::Powi(-1),
        Op::Powi(-3),
        Op::Powf(0.0),
        Op::Powf(0.5),
        Op::Powf(2.5),
        Op::Powf(-1.5),
        Op::Pow,
        Op::Sqrt,
        Op::Exp,
        Op::Ln,
        Op::Sin,
        Op::Cos,
        Op::Tanh,
        Op::Sigmoid,
        Op::Relu,
        Op::Abs,
        Op::Recip,
        Op::Neg,
        Op::AddSelf,
        Op::SubSelf,
        Op::MulSelf,
        Op::DivSelf,
        Op::PowSelf,
        Op::AddC(1.5),
        Op::CAdd(-2.0),
        Op::SubC(0.75),
        Op::CSub(3.0),
        Op::MulC(-2.5),
        Op::CMul(0.5),
        Op::DivC(-1.25),
        Op::CDiv(2.0),
        Op::Sum,
        Op::Mean,
        Op::Dot,
        Op::Norm,
        Op::Max,
        Op::Min,
    ];
    // equal lengths, and a length-1 side broadcast either way (n is drawn ≥ 2;
    // (1, 1) is a plain scalar op)
    for (l, r) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        ops.extend([
            Op::Add(l, r),
            Op::Sub(l, r),
            Op::Mul(l, r),
            Op::Div(l, r),
            Op::PowVar(l, r),
        ]);
    }
    ops
}

/// A case: the inputs (f64 values representable in the tested type) and a seed
/// for a vector output.
#[derive(Clone, Debug)]
struct Point {
    xs: Vec<Vec<f64>>,
    seed: Vec<f64>,
}

fn in_dom(d: Dom) -> BoxedStrategy<f64> {
    match d {
        Dom::Pos(lo, hi) => (lo..hi).boxed(),
        Dom::Sym(lo, hi) => (lo..hi, any::<bool>())
            .prop_map(|(v, neg)| if neg { -v } else { v })
            .boxed(),
    }
}

/// Points for `op` with an output of 2..=6 elements. Lengths coded 0 in
/// `Op::Add(0, _)` mean `n`.
fn strategy<T: TestReal>(op: Op) -> impl Strategy<Value = Point> {
    (2usize..=6).prop_flat_map(move |n| {
        let shapes: Vec<(usize, Dom)> = inputs(op, n)
            .into_iter()
            .map(|(len, d)| (if len == 0 { n } else { len }, d))
            .collect();
        let xs: Vec<_> = shapes
            .iter()
            .map(|&(len, d)| prop::collection::vec(in_dom(d).prop_map(|v| T::lit(v).f64()), len))
            .collect();
        let out_len = shapes.iter().map(|s| s.0).max().unwrap();
        (xs, prop::collection::vec(-2.0f64..2.0, out_len))
            .prop_map(|(xs, seed)| Point { xs, seed })
            .prop_filter("max/min need their values apart", move |p| match op {
                // ties would make the difference quotient see a kink
                Op::Max | Op::Min => {
                    let mut v = p.xs[0].clone();
                    v.sort_by(f64::total_cmp);
                    v.windows(2).all(|w| w[1] - w[0] > 0.05)
                }
                _ => true,
            })
    })
}

/// `Σ seedᵢ·op(x)ᵢ` evaluated forward in f64: what the differences difference.
fn loss(op: Op, xs: &[Vec<f64>], seed: &[f64]) -> f64 {
    let tape = Tape::<f64>::new();
    let vars: Vec<_> = xs.iter().map(|x| tape.var(x)).collect();
    let y = build(op, &vars);
    let y = y.value();
    if y.len() == 1 {
        y[0]
    } else {
        y.iter().zip(seed).map(|(a, b)| a * b).sum()
    }
}

/// Central differences `(L(x + heᵢ) − L(x − heᵢ)) / 2h` of every input
/// element, with `h = 1e-6·max(1, |xᵢ|)`: error ≈ h²·L'''/6 + ε·|L|/h ≈ 1e-10.
fn central_differences(op: Op, xs: &[Vec<f64>], seed: &[f64]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for k in 0..xs.len() {
        let mut gk = Vec::new();
        for i in 0..xs[k].len() {
            let h = 1e-6 * xs[k][i].abs().max(1.0);
            let mut up = xs.to_vec();
            up[k][i] += h;
            let mut down = xs.to_vec();
            down[k][i] -= h;
            let dx = up[k][i] - down[k][i]; // the step actually taken
            gk.push((loss(op, &up, seed) - loss(op, &down, seed)) / dx);
        }
        out.push(gk);
    }
    out
}

/// The tape's gradient of `op` at `p`, in `T`.
fn tape_gradient<T>(op: Op, p: &Point) -> Vec<Vec<f64>>
where
    for<'t> T: Lit<'t>,
{
    let tape = Tape::<T>::new();
    let vars: Vec<_> =
        p.xs.iter()
            .map(|x| tape.var(&x.iter().map(|v| T::lit(*v)).collect::<Vec<_>>()))
            .collect();
    let y = build(op, &vars);
    let g = if y.len() == 1 {
        y.backward()
    } else {
        let seed: Vec<T> = p.seed.iter().map(|v| T::lit(*v)).collect();
        y.backward_with(&seed[..y.len()])
    };
    vars.iter()
        .map(|v| g.wrt(*v).iter().map(|x| x.f64()).collect())
        .collect()
}

/// `|got − want| ≤ tol·(1 + max |want|)` element by element: a normwise check,
/// since a difference quotient is only as good as the function's scale.
fn close(got: &[Vec<f64>], want: &[Vec<f64>], tol: f64) -> Result<(), String> {
    let scale = 1.0 + want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        for (i, (a, b)) in g.iter().zip(w).enumerate() {
            let ok = (a - b).abs() <= tol * scale; // false for NaN
            if !ok {
                return Err(format!(
                    "input {k} element {i}: got {a:e}, want {b:e} (scale {scale:e})"
                ));
            }
        }
    }
    Ok(())
}

fn ops_against_differences<T>(cases: u32)
where
    for<'t> T: Lit<'t>,
{
    for op in all_ops() {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy::<T>(op), |p| {
            let want = central_differences(op, &p.xs, &p.seed);
            let got = tape_gradient::<T>(op, &p);
            close(&got, &want, T::GRAD_TOL).map_err(TestCaseError::fail)
        });
        if let Err(e) = result {
            panic!("{} {op:?}: {e}", T::NAME);
        }
    }
}

#[test]
fn every_op_matches_central_differences_f64() {
    ops_against_differences::<f64>(64);
}

#[test]
fn every_op_matches_central_differences_f32() {
    ops_against_differences::<f32>(64);
}

// ---------------------------------------------------------------------------
// 2. PyTorch's values at the non-differentiable points
// ---------------------------------------------------------------------------

/// `∂(Σ f(x))/∂x` on a fresh tape.
fn grad_of<T: TestReal>(x: &[f64], f: impl for<'t> Fn(Var<'t, T>) -> Var<'t, T>) -> Vec<f64> {
    let tape = Tape::<T>::new();
    let xs: Vec<T> = x.iter().map(|v| T::lit(*v)).collect();
    let v = tape.var(&xs);
    let y = f(v);
    let g = if y.len() == 1 {
        y.backward()
    } else {
        y.sum().backward()
    };
    g.wrt(v).iter().map(|x| x.f64()).collect()
}

fn pytorch_edges<T: TestReal>() {
    let inf = f64::INFINITY;
    // torch.linalg.norm(zeros).backward() → zeros, not NaN
    assert_eq!(grad_of::<T>(&[0.0, 0.0, 0.0], |x| x.norm()), [0.0; 3]);
    // abs and relu at 0 → 0 (and ±1, 1/0 around it)
    assert_eq!(
        grad_of::<T>(&[-2.0, 0.0, 3.0], |x| x.abs()),
        [-1.0, 0.0, 1.0]
    );
    assert_eq!(grad_of::<T>(&[-0.0], |x| x.abs()), [0.0]);
    assert_eq!(
        grad_of::<T>(&[-2.0, 0.0, 3.0], |x| x.relu()),
        [0.0, 0.0, 1.0]
    );
    // sqrt at 0 → +inf (½·0^(−½))
    assert_eq!(grad_of::<T>(&[0.0, 4.0], |x| x.sqrt()), [inf, 0.25]);
    // x.powf(p) at 0: p = 0 → 0 (xᵖ ≡ 1), 0 < p < 1 → +inf, p = 1 → 1, p = 2 → 0
    let at0 = |p: f64| grad_of::<T>(&[0.0], |x| x.powf(T::lit(p)))[0];
    assert_eq!(
        (at0(0.0), at0(0.5), at0(1.0), at0(2.0)),
        (0.0, inf, 1.0, 0.0)
    );
    // ... and 0.0.powf(0) = 1 as the value
    let tape = Tape::<T>::new();
    assert_eq!(tape.var(&[T::zero()]).powf(T::zero()).item().f64(), 1.0);
    // x.pow(e) at base 0: the exponent's gradient is 0 (not 0ᵉ·ln 0 = NaN);
    // the base's is e·0^(e−1): 0 for e = 2, 1 for e = 1, 0 where e = 0
    for (e, dbase) in [(2.0, 0.0), (1.0, 1.0), (0.0, 0.0), (0.5, inf)] {
        let tape = Tape::<T>::new();
        let (b, x) = (tape.var(&[T::zero()]), tape.var(&[T::lit(e)]));
        let g = b.pow(x).backward();
        assert_eq!(
            (g.wrt(b)[0].f64(), g.wrt(x)[0].f64()),
            (dbase, 0.0),
            "{} 0^{e}",
            T::NAME
        );
    }
    // ln at 0 → +inf (1/0); value −inf
    assert_eq!(grad_of::<T>(&[0.0], |x| x.ln()), [inf]);
    // recip at 0 → −inf (−1/0²)
    assert_eq!(grad_of::<T>(&[0.0], |x| x.recip()), [-inf]);
    // tanh and sigmoid saturate: gradient exactly 0, never NaN
    for v in [-1e3, 1e3] {
        assert_eq!(grad_of::<T>(&[v], |x| x.tanh()), [0.0]);
        assert_eq!(grad_of::<T>(&[v], |x| x.sigmoid()), [0.0]);
    }
    // max/min ties share the gradient equally
    assert_eq!(
        grad_of::<T>(&[1.0, 3.0, 3.0, 2.0], |x| x.max()),
        [0.0, 0.5, 0.5, 0.0]
    );
    let third = (T::one() / T::lit(3.0)).f64();
    assert_eq!(
        grad_of::<T>(&[1.0, 1.0, 2.0, 1.0], |x| x.min()),
        [third, third, 0.0, third]
    );
    // a zero tie counts +0 and −0 alike
    assert_eq!(
        grad_of::<T>(&[0.0, -1.0, -0.0], |x| x.max()),
        [0.5, 0.0, 0.5]
    );
    // mean: 1/n each
    assert_eq!(grad_of::<T>(&[5.0, 6.0, 7.0, 8.0], |x| x.mean()), [0.25; 4]);
    // powi(0) is constant 1: gradient 0 everywhere, 0 included
    assert_eq!(grad_of::<T>(&[0.0, 2.0], |x| x.powi(0)), [0.0, 0.0]);
}

#[test]
fn non_differentiable_points_follow_pytorch() {
    pytorch_edges::<f64>();
    pytorch_edges::<f32>();
}

/// Broadcasting: a length-1 `Var` combined with a vector gets the sum of its
/// contributions, `∂Σ(s·x)/∂s = Σx`, exactly for small integers.
fn broadcast_sums<T>()
where
    for<'t> T: Lit<'t>,
{
    let tape = Tape::<T>::new();
    let x = tape.var(&[1.0, 2.0, 3.0, 4.0].map(T::lit));
    let s = tape.var(&[T::lit(2.0)]);
    let y = s * x + x / s - s; // (s, x) and (x, s) both broadcast
    let g = y.backward_with(&[T::one(); 4]);
    // ∂/∂s Σ(s·xᵢ + xᵢ/s − s) = Σxᵢ − Σxᵢ/s² − 4 = 10 − 2.5 − 4
    assert_eq!(g.wrt(s)[0].f64(), 3.5);
    // ∂/∂xᵢ = s + 1/s
    assert_eq!(
        g.wrt(x).iter().map(|v| v.f64()).collect::<Vec<_>>(),
        [2.5; 4]
    );
}

#[test]
fn broadcast_side_gets_the_sum() {
    broadcast_sums::<f64>();
    broadcast_sums::<f32>();
}

// ---------------------------------------------------------------------------
// 3. Random expressions against the hand-differentiated f64 interpreter
// ---------------------------------------------------------------------------

/// Two or three inputs, each of `n` elements or of 1 (broadcasting), values
/// in [−2, 2], and a seed for a vector output.
fn expression_case() -> impl Strategy<Value = (Expr, Vec<Vec<f64>>, Vec<f64>)> {
    (2usize..=3, 1usize..=5).prop_flat_map(|(k, n)| {
        let input = (any::<bool>(), prop::collection::vec(-2.0f64..2.0, n))
            .prop_map(|(scalar, v)| if scalar { v[..1].to_vec() } else { v });
        (
            expr(k, 4),
            prop::collection::vec(input, k),
            prop::collection::vec(-2.0f64..2.0, n),
        )
    })
}

/// The tape (in `T`) against `Expr::reference` (in f64), value and gradient,
/// normwise within `tol`. The inputs are rounded to `T` first, so both sides
/// see the same point.
fn expression_matches<T>(
    e: &Expr,
    xs: &[Vec<f64>],
    seed: &[f64],
    tol: f64,
) -> Result<(), TestCaseError>
where
    for<'t> T: Lit<'t>,
{
    let xs: Vec<Vec<f64>> = xs
        .iter()
        .map(|v| v.iter().map(|x| T::lit(*x).f64()).collect())
        .collect();
    let seed: Vec<f64> = seed.iter().map(|x| T::lit(*x).f64()).collect();
    let tape = Tape::<T>::new();
    let vars: Vec<_> = xs
        .iter()
        .map(|x| tape.var(&x.iter().map(|v| T::lit(*v)).collect::<Vec<_>>()))
        .collect();
    let y = e.on_tape(&vars);
    let value: Vec<f64> = y.value().iter().map(|v| v.f64()).collect();
    let seed = &seed[..value.len().min(seed.len())];
    // a length-1 output is reduced already; a longer one (n > 1) is seeded
    let zero_dirs: Vec<Vec<f64>> = xs.iter().map(|x| vec![0.0; x.len()]).collect();
    let (want_value, _) = e.reference(&xs, &zero_dirs);
    close(std::slice::from_ref(&value), &[want_value], tol)
        .map_err(|m| TestCaseError::fail(format!("value: {m}")))?;
    let g = if value.len() == 1 {
        y.backward()
    } else {
        y.backward_with(&seed.iter().map(|v| T::lit(*v)).collect::<Vec<_>>())
    };
    // An input recorded after the output (the expression is an earlier input
    // alone) cannot influence it: gradient 0, and `wrt` would refuse.
    let got: Vec<Vec<f64>> = vars
        .iter()
        .map(|v| {
            if v.id() <= y.id() {
                g.wrt(*v).iter().map(|x| x.f64()).collect()
            } else {
                vec![0.0; v.len()]
            }
        })
        .collect();
    // ∂(seed·y)/∂x_k[i] = seed · (tangent of y along e_{k,i})
    let mut want = Vec::new();
    for (k, x) in xs.iter().enumerate() {
        let mut wk = Vec::new();
        for i in 0..x.len() {
            let mut dirs = zero_dirs.clone();
            dirs[k][i] = 1.0;
            let (_, dy) = e.reference(&xs, &dirs);
            wk.push(if dy.len() == 1 {
                dy[0]
            } else {
                dy.iter().zip(seed).map(|(a, b)| a * b).sum()
            });
        }
        want.push(wk);
    }
    close(&got, &want, tol).map_err(|m| TestCaseError::fail(format!("gradient: {m}")))
}

proptest! {
    #![proptest_config(Config { cases: 1000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn random_expressions_match_reference_f64((e, xs, seed) in expression_case()) {
        expression_matches::<f64>(&e, &xs, &seed, 1e-9)?;
    }

    #[test]
    fn random_expressions_match_reference_f32((e, xs, seed) in expression_case()) {
        expression_matches::<f32>(&e, &xs, &seed, 1e-3)?;
    }
}

/// `retain_grad` keeps an intermediate's gradient through a fused sweep (where
/// the others live in block-local scratch, and the mean's adjoint is never
/// stored), bitwise as the eager sweep has it.
#[test]
fn retained_intermediates_in_a_fused_chain() {
    let n = 10_000; // several fusion blocks and a tail
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let run = |fusion: bool| {
        let tape = Tape::<f64>::new();
        tape.set_fusion(fusion);
        let x = tape.var(&xs);
        let square = (x * x).retain_grad();
        let wave = square.sin(); // not retained
        let scaled = (wave * 3.0 + x).retain_grad();
        let g = (scaled * scaled).mean().backward(); // a mean's rule: a splat
        let kept = |v| g.wrt(v).to_vec();
        (kept(x), kept(square), kept(scaled))
    };
    let fused = run(true);
    assert_eq!(fused, run(false));
    let (dx, dsquare, dscaled) = fused;
    let scaled = |x: f64| 3.0 * (x * x).sin() + x;
    let want_scaled: Vec<f64> = xs.iter().map(|&x| 2.0 * scaled(x) / n as f64).collect();
    let want_square: Vec<f64> = (xs.iter().zip(&want_scaled))
        .map(|(&x, &ds)| ds * 3.0 * (x * x).cos())
        .collect();
    let want_x: Vec<f64> = (xs.iter().zip(&want_square).zip(&want_scaled))
        .map(|((&x, &dq), &ds)| dq * 2.0 * x + ds)
        .collect();
    assert_close(&dscaled, &want_scaled, 1e-12, "d scaled");
    assert_close(&dsquare, &want_square, 1e-12, "d square");
    assert_close(&dx, &want_x, 1e-12, "dx");
}

/// Kept gradients the output does not reach are zeros, though the adjoint
/// arena still holds the last sweep's values there: leaves and retained
/// intermediates alike, retained twice or once, fused or eager, on a reused tape.
#[test]
fn kept_gradients_the_output_does_not_reach_are_zeros() {
    for n in [1, 5_000] {
        for fusion in [true, false] {
            let xs: Vec<f64> = (0..n).map(|i| 0.5 + (i as f64 * 0.3).sin()).collect();
            let mut tape = Tape::<f64>::new();
            tape.set_fusion(fusion);
            // A first sweep writes nonzero adjoints at every node's offsets.
            {
                let (x, u) = (tape.var(&xs), tape.var(&xs));
                let h = (x * u).retain_grad();
                let g = ((h * 2.0).exp() * x).sum().backward();
                assert!(g.wrt(h).iter().chain(g.wrt(u)).all(|&d| d != 0.0));
            }
            tape.clear();
            // The same layout, but neither `u` nor `h` reaches the output.
            let (x, u) = (tape.var(&xs), tape.var(&xs));
            let h = (x * u).retain_grad().retain_grad();
            let _unused = (h * 2.0).exp();
            let g = (x.exp() * x).sum().backward();
            let (zeros, case) = (vec![0.0; n], format!("n = {n}, fusion {fusion}"));
            assert_eq!(g.wrt(u), &zeros[..], "{case}: unused leaf");
            assert_eq!(g.wrt(h), &zeros[..], "{case}: unused kept node");
            let want: Vec<f64> = xs.iter().map(|&v| v.exp() * (v + 1.0)).collect();
            assert_close(g.wrt(x), &want, 1e-12, "dx");
        }
    }
}

/// A VJP of a chain still pending at `backward_with` (flushed, then swept
/// with the seed read in place): values, kept gradients and leaf gradients
/// come out bitwise as the eager tape has them, on one thread or several.
#[test]
fn vjp_of_a_pending_chain() {
    let n = (1 << 16) + 5; // blocks, a tail, and rayon pieces (PAR_MIN_LEN on)
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
    let bs: Vec<f64> = (0..n).map(|i| 1.5 + (i as f64 * 0.07).sin()).collect();
    let seed: Vec<f64> = (0..n).map(|i| 1.0 - (i % 7) as f64 * 0.25).collect();
    let run = |fusion: bool, par: dualtape::Par| {
        let tape = Tape::<f64>::new();
        tape.set_fusion(fusion);
        tape.set_par(par);
        let (a, b) = (tape.var(&xs), tape.var(&bs));
        let cube = a.powi(3).retain_grad();
        let q = cube * 3.0 - b.ln() * b + a.sin(); // sin keeps a partial
        let g = q.backward_with(&seed);
        let value = |v: Var<'_, f64>| v.value().to_vec();
        let (vq, vcube) = (value(q), value(cube));
        (
            vq,
            vcube,
            g.wrt(cube).to_vec(),
            g.wrt(a).to_vec(),
            g.wrt(b).to_vec(),
        )
    };
    let eager = run(false, dualtape::Par::Sequential);
    assert_eq!(run(true, dualtape::Par::Sequential), eager);
    assert_eq!(run(true, dualtape::Par::Rayon), eager);
    let (_, _, dcube, da, db) = eager;
    let want_cube: Vec<f64> = seed.iter().map(|&s| 3.0 * s).collect();
    let want_a: Vec<f64> = (xs.iter().zip(&seed))
        .map(|(&a, &s)| s * (9.0 * a * a + a.cos()))
        .collect();
    let want_b: Vec<f64> = (bs.iter().zip(&seed))
        .map(|(&b, &s)| -s * (b.ln() + 1.0))
        .collect();
    assert_close(&dcube, &want_cube, 1e-12, "d cube");
    assert_close(&da, &want_a, 1e-12, "da");
    assert_close(&db, &want_b, 1e-12, "db");
}

/// A fused sweep passes an adjoint through `a + b` (either side), `a − b` and
/// `x + c` to an input that gets nothing else, instead of copying it: from the
/// seed, from a sum's splat, through a chain of such ops, and not where the
/// input is kept or gets a second contribution. Bitwise the eager sweep's
/// gradients.
#[test]
fn adjoints_passed_through_a_fused_run() {
    let n = 5_000; // two fusion blocks and a tail
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let bs: Vec<f64> = (0..n).map(|i| 0.5 + (i as f64 * 0.11).cos()).collect();
    let seed: Vec<f64> = (0..n).map(|i| 1.0 - (i % 5) as f64 * 0.3).collect();
    /// Records a case on the tape from `xs`, `bs` and `seed`; its gradients.
    type Case = fn(&Tape<f64>, &[f64], &[f64], &[f64]) -> Vec<Vec<f64>>;
    let cases: [(&str, Case); 6] = [
        ("3a³ − b², from the seed", |tape, xs, bs, seed| {
            let (a, b) = (tape.var(xs), tape.var(bs));
            let g = (a.powi(3) * 3.0 - b.powi(2)).backward_with(seed);
            vec![g.wrt(a).to_vec(), g.wrt(b).to_vec()]
        }),
        ("W4, from a sum's splat", |tape, xs, _, _| {
            let x = tape.var(xs);
            let x2 = x * x; // two consumers: `−x2` and `x2 + 1`
            let g = (x.tanh() * (-x2).exp() + x.sin() / (x2 + 1.0))
                .sum()
                .backward();
            vec![g.wrt(x).to_vec()]
        }),
        ("a chain of passes", |tape, xs, bs, seed| {
            let (x, b) = (tape.var(xs), tape.var(bs));
            let y = (((x.sin() + 1.0) + 2.0) - b) * x;
            let g = y.backward_with(seed);
            vec![g.wrt(x).to_vec(), g.wrt(b).to_vec()]
        }),
        ("a + with one side also added to", |tape, xs, bs, seed| {
            let (x, b) = (tape.var(xs), tape.var(bs));
            let (k, c) = (x.sin(), (x * b).cos());
            let y = (k + c) * (k + k.exp()); // `k` also adds through `exp`
            let g = y.backward_with(seed);
            vec![g.wrt(x).to_vec(), g.wrt(b).to_vec()]
        }),
        ("a kept input", |tape, xs, bs, seed| {
            let (x, b) = (tape.var(xs), tape.var(bs));
            let h = (x * b).retain_grad();
            let g = ((h - x) + 1.0).backward_with(seed);
            vec![g.wrt(h).to_vec(), g.wrt(x).to_vec(), g.wrt(b).to_vec()]
        }),
        (
            "an input with a second contribution",
            |tape, xs, bs, seed| {
                let (x, b) = (tape.var(xs), tape.var(bs));
                let k = x.sin();
                let c = k.cos(); // adds to k's adjoint after the `−` writes it
                let g = ((k - b) * c).backward_with(seed);
                vec![g.wrt(x).to_vec(), g.wrt(b).to_vec()]
            },
        ),
    ];
    for (name, f) in cases {
        let run = |fusion: bool| {
            let tape = Tape::<f64>::new();
            tape.set_fusion(fusion);
            f(&tape, &xs, &bs, &seed)
        };
        let (fused, eager) = (run(true), run(false));
        for (k, (f, e)) in fused.iter().zip(&eager).enumerate() {
            let differs = f
                .iter()
                .zip(e)
                .position(|(f, e)| f.to_bits() != e.to_bits());
            assert_eq!(
                differs, None,
                "{name}: gradient {k}, first differing element"
            );
        }
    }
    // The first case against its closed form, so that a pass that lost the
    // seed would not go unseen in both sweeps.
    let tape = Tape::<f64>::new();
    let got = cases[0].1(&tape, &xs, &bs, &seed);
    let want_a: Vec<f64> = xs
        .iter()
        .zip(&seed)
        .map(|(&a, &s)| 9.0 * a * a * s)
        .collect();
    let want_b: Vec<f64> = bs.iter().zip(&seed).map(|(&b, &s)| -2.0 * b * s).collect();
    assert_close(&got[0], &want_a, 1e-12, "da");
    assert_close(&got[1], &want_b, 1e-12, "db");
}
