//! Newton–CG on the Rosenbrock function, in 2 and in 100 dimensions.
//!
//! Each Newton step solves `H·p = −∇f` by conjugate gradients, and CG needs
//! `H` only through products `H·v`: `func::hvp` computes each one by
//! forward-over-reverse (one sweep of a tape of duals), so the Hessian is
//! never formed. `f` is written once, generic over the tape's scalar, and
//! `func::value_and_grad` (on `f64`) and `func::hvp` (on `Dual<f64>`) each
//! record it with the scalar they need.
//!
//! Run with `cargo run --release --example newton`.

use std::ops::Range;

use dualtape::func::{hvp, value_and_grad};
use dualtape::{Real, Var};

/// `x[range]` as a custom op (the tape has no slicing op): the values are
/// copied, and the backward rule scatters the output's adjoint into `range`.
fn slice<'t, S: Real>(x: Var<'t, S>, range: Range<usize>) -> Var<'t, S> {
    let out = x.value()[range.clone()].to_vec();
    x.tape().custom(&[x], &out, move |cx| {
        let g = cx.grad_output().to_vec();
        cx.grad_input_mut(0)[range.clone()].copy_from_slice(&g);
    })
}

/// `f(x) = Σᵢ 100·(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`, minimum 0 at `x = (1, …, 1)`.
fn rosenbrock<'t, S: Real>(x: Var<'t, S>) -> Var<'t, S> {
    let n = x.len();
    let (head, tail) = (slice(x, 0..n - 1), slice(x, 1..n));
    let valley = (tail - head.powi(2)).powi(2) * S::lit(100.0);
    let slope = (head - S::lit(1.0)).powi(2);
    (valley + slope).sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Truncated CG for `H·p = −g`: stops at a residual of `tol·‖g‖`, at `n`
/// iterations, or at a direction of non-positive curvature (then it returns
/// the step so far, or steepest descent if there is none yet).
fn newton_direction(x: &[f64], g: &[f64], tol: f64) -> (Vec<f64>, usize) {
    let n = x.len();
    let mut p = vec![0.0; n];
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut d = r.clone();
    let mut rr = dot(&r, &r);
    let stop = tol * tol * rr;
    for k in 0..n {
        let hd = hvp(rosenbrock, x, &d);
        let curv = dot(&d, &hd);
        if curv <= 0.0 {
            return (if k == 0 { r } else { p }, k + 1);
        }
        let alpha = rr / curv;
        for i in 0..n {
            p[i] += alpha * d[i];
            r[i] -= alpha * hd[i];
        }
        let rr_next = dot(&r, &r);
        if rr_next <= stop {
            return (p, k + 1);
        }
        let beta = rr_next / rr;
        rr = rr_next;
        for i in 0..n {
            d[i] = r[i] + beta * d[i];
        }
    }
    (p, n)
}

/// Minimises Rosenbrock from `x` and returns the point and the Newton steps taken.
fn minimise(mut x: Vec<f64>, print_every: usize) -> (Vec<f64>, usize) {
    for step in 0..200 {
        let (f, g) = value_and_grad(rosenbrock, &x);
        let gnorm = dot(&g, &g).sqrt();
        if gnorm < 1e-10 {
            return (x, step);
        }
        // CG to a relative residual of min(0.01, ‖∇f‖): near-exact Newton steps,
        // exact to quadratic order near the minimum.
        let (p, cg) = newton_direction(&x, &g, gnorm.min(0.01));
        // Backtracking (Armijo) line search from the full Newton step.
        let slope = dot(&g, &p);
        let mut t = 1.0;
        let mut trial: Vec<f64>;
        loop {
            trial = x.iter().zip(&p).map(|(x, p)| x + t * p).collect();
            let (ft, _) = value_and_grad(rosenbrock, &trial);
            if ft <= f + 1e-4 * t * slope || t < 1e-12 {
                break;
            }
            t *= 0.5;
        }
        if step % print_every == 0 {
            println!(
                "  step {step:3}: f = {f:10.3e}   ‖∇f‖ = {gnorm:9.3e}   CG iterations {cg:3}   t = {t}"
            );
        }
        x = trial;
    }
    panic!("Newton-CG did not converge in 200 steps");
}

fn main() {
    // In 2 dimensions the classic start (−1.2, 1), every step printed. In 100
    // the origin, every tenth step: the chained function has a second, local
    // minimum near (−1, 1, …, 1), whose basin (−1.2, 1, −1.2, 1, …) lies in.
    for (start, print_every) in [(vec![-1.2, 1.0], 1), (vec![0.0; 100], 10)] {
        let n = start.len();
        println!("Rosenbrock, n = {n}, from ({}, {}, …):", start[0], start[1]);
        let (x, steps) = minimise(start, print_every);
        let err = x.iter().map(|v| (v - 1.0).abs()).fold(0.0, f64::max);
        let shown: Vec<String> = x.iter().take(6).map(|v| format!("{v:.12}")).collect();
        let more = if n > 6 { ", …" } else { "" };
        println!(
            "  converged in {steps} Newton steps to x = ({}{more})",
            shown.join(", ")
        );
        println!("  max |xᵢ − 1| = {err:.3e}\n");
        assert!(err < 1e-8, "did not reach (1, …, 1): max |xᵢ − 1| = {err}");
    }
}
