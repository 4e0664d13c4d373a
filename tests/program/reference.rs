//! The oracle: each step's value and local partials in plain `f64`, one
//! element at a time, with every derivative written out by hand.
//!
//! Conventions at the edges are PyTorch's (and the crate's documented table):
//! `|x|′ = 0` and `relu′ = 0` at 0, `relu′(NaN)` passes the gradient (PyTorch
//! tests `x ≤ 0`), `‖x‖′ = 0` at the zero vector, `(xⁿ)′ = 0` for `n = 0`,
//! `∂aᵇ/∂a = 0` where `b = 0` and `∂aᵇ/∂b = 0` where `a = 0`, and `max`/`min`
//! share the gradient equally among the elements equal to the result (among
//! the NaNs when the result is NaN).
//!
//! A value is an [`Approx`]: exact (the IEEE-exact ops, compared bit for bit
//! after rounding to the tape's type), within a tolerance (transcendental
//! functions, sums), NaN, or anything (a sum whose overflow depends on the
//! order of its terms).

use super::{Binary, Reduce, Step, Unary};

/// The tape's scalar type, as the oracle needs to know it.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// `"f32"` or `"f64"`.
    pub name: &'static str,
    /// Machine epsilon.
    pub eps: f64,
    /// Largest finite value.
    pub max: f64,
    /// Smallest positive normal value.
    pub min_pos: f64,
    /// Rounds an `f64` to the type (and back).
    pub round: fn(f64) -> f64,
}

/// `f64`.
pub const F64: Kind = Kind {
    name: "f64",
    eps: f64::EPSILON,
    max: f64::MAX,
    min_pos: f64::MIN_POSITIVE,
    round: |v| v,
};

/// `f32`.
pub const F32: Kind = Kind {
    name: "f32",
    eps: f32::EPSILON as f64,
    max: f32::MAX as f64,
    min_pos: f32::MIN_POSITIVE as f64,
    round: |v| v as f32 as f64,
};

/// What the tape must produce for one element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Approx {
    /// This value rounded to the tape's type, to the bit (any NaN for NaN).
    Exact(f64),
    /// Within `tol` of `v`; an infinite `v` must come out as that infinity,
    /// and a window that reaches past the type's largest value admits the
    /// infinity of that sign.
    Near {
        /// The value.
        v: f64,
        /// Absolute tolerance.
        tol: f64,
    },
    /// NaN.
    Nan,
    /// A partial that is zero by convention at a non-differentiable or
    /// flat point (relu at x ≤ 0, the zero vector's norm, `x⁰`). Its term is
    /// 0 for a finite adjoint; for an infinite or NaN one PyTorch's `where`
    /// still gives 0 while a product gives NaN, and either is accepted.
    Zero,
    /// Anything: the result depends on the order of the terms (overflow).
    Any,
}

impl Approx {
    /// Whether the tape's `got` is acceptable.
    pub fn admits(self, got: f64, k: &Kind) -> bool {
        match self {
            Approx::Any => true,
            Approx::Nan => got.is_nan(),
            Approx::Zero => got == 0.0,
            Approx::Exact(v) => {
                let r = (k.round)(v);
                if r.is_nan() {
                    got.is_nan()
                } else {
                    r.to_bits() == got.to_bits()
                }
            }
            Approx::Near { v, tol } => {
                if v.is_nan() || got.is_nan() {
                    v.is_nan() && got.is_nan()
                } else if v.is_infinite() {
                    got == v
                } else if got.is_infinite() {
                    if got > 0.0 {
                        v + tol >= k.max
                    } else {
                        v - tol <= -k.max
                    }
                } else {
                    (got - v).abs() <= tol
                }
            }
        }
    }

    /// `self / n` for a count `n` (the mean), adding the division's rounding.
    fn div(self, n: f64, k: &Kind) -> Approx {
        match self {
            Approx::Exact(v) | Approx::Near { v, tol: _ } if v.is_nan() => Approx::Nan,
            Approx::Exact(v) => near(k, v / n, 1.0, 0.0),
            Approx::Near { v, tol } => {
                let q = v / n;
                Approx::Near {
                    v: q,
                    tol: tol / n + k.eps * q.abs() + k.min_pos * k.eps,
                }
            }
            other => other,
        }
    }
}

/// `v` within `ulps` of the type's epsilon (relative) plus `abs`; half an
/// ulp is added for the final rounding to the type.
pub fn near(k: &Kind, v: f64, ulps: f64, abs: f64) -> Approx {
    if v.is_nan() {
        Approx::Nan
    } else if v.is_infinite() {
        Approx::Near { v, tol: 0.0 }
    } else {
        // (An infinite `ulps` on a zero `v`, as for 2^(−1e308), adds nothing.)
        let rel = if v == 0.0 {
            0.0
        } else {
            (ulps + 0.5) * k.eps * v.abs()
        };
        // One subnormal step: no value computed near underflow, the
        // reference's included, is better than that.
        Approx::Near {
            v,
            tol: rel + abs + k.min_pos * k.eps,
        }
    }
}

/// Error allowance of a transcendental function, in ulps of its result.
pub const ULPS: f64 = 8.0;

/// A transcendental value: [`ULPS`] relative, and anything below the normal
/// range counts as its neighbour (results in the subnormal range lose
/// relative precision in every implementation).
fn tr(k: &Kind, v: f64, condition: f64) -> Approx {
    let c = if condition.is_finite() {
        condition
    } else {
        0.0
    };
    near(k, v, ULPS * (1.0 + c), k.min_pos)
}

/// `|p·ln|x||`: the relative condition of `xᵖ` with respect to `p`, which is
/// how far an `exp(p·ln x)` implementation's error grows.
fn pow_condition(x: f64, p: f64) -> f64 {
    let c = (p * x.abs().ln()).abs();
    if c.is_finite() { c } else { 0.0 }
}

/// `sin` and `cos`: an absolute error of `ULPS·eps·|x|` is the condition of
/// the argument reduction; no implementation does better for large `|x|`.
fn trig(k: &Kind, v: f64, x: f64) -> Approx {
    match near(k, v, ULPS, k.min_pos) {
        Approx::Near { v, tol } => Approx::Near {
            v,
            tol: tol + ULPS * k.eps * x.abs(),
        },
        other => other,
    }
}

/// `xⁿ` by the math (libm's `pow` is correctly rounded to within an ulp), with
/// the tolerance of binary powering: each squaring doubles the relative error
/// so far, `(|n| + 2)` ulps in all; a negative `n` divides `1` by `x^|n|`,
/// which loses relative precision if `x^|n|` is subnormal.
fn powi(k: &Kind, x: f64, n: i64) -> Approx {
    let v = x.powf(n as f64);
    let mut ulps = n.unsigned_abs() as f64 + 2.0;
    if n < 0 {
        let pos = x.abs().powf(-(n as f64));
        if pos < k.min_pos {
            ulps += (n.unsigned_abs() as f64 + 2.0) * k.min_pos / pos;
        }
    }
    if ulps.is_finite() {
        near(k, v, ulps, k.min_pos)
    } else if v.is_nan() {
        Approx::Nan
    } else {
        Approx::Any
    }
}

/// The logistic function, split so that neither side overflows.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `sign x`: 0 at ±0, NaN at NaN.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0 // ±0 stays 0; NaN stays NaN
    }
}

/// `‖x‖₂` scaled by `max |x|`, so no square overflows or underflows.
fn norm(x: &[f64]) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if m == 0.0 || m.is_infinite() {
        return m;
    }
    m * x.iter().map(|v| (v / m) * (v / m)).sum::<f64>().sqrt()
}

/// One term of a sum (an input element, or a partial times an adjoint).
#[derive(Clone, Copy, Debug)]
pub struct Term {
    /// Its value.
    pub v: f64,
    /// How far the tape's term may be from `v`.
    pub err: f64,
    /// Whether even the term's class (finite, infinite, NaN) is uncertain.
    pub uncertain: bool,
}

impl Term {
    /// An exact term.
    pub fn exact(v: f64) -> Term {
        Term {
            v,
            err: 0.0,
            uncertain: false,
        }
    }
}

/// `d · g`: a partial derivative times an adjoint, as the tape's kernel
/// computes it (one more rounding in the tape's type).
pub fn term(d: Approx, g: f64, k: &Kind) -> Term {
    // The tape holds the partial (or the value it is made of, as eˣ for exp)
    // in its own type before multiplying: past the type's range it is ±inf.
    match in_type(d, k) {
        Approx::Exact(d) => {
            let v = (k.round)(d) * g;
            Term {
                v,
                err: k.eps * v.abs(),
                uncertain: false,
            }
        }
        Approx::Near { v: d, tol } => {
            let v = d * g;
            Term {
                v,
                err: tol * g.abs() + k.eps * v.abs(),
                // d·inf depends on whether d is exactly 0; inf·0 on whether d is inf.
                uncertain: (g.is_infinite() && d.abs() <= tol)
                    || (g == 0.0 && d.abs() + tol >= k.max)
                    // d·g overflowed here, but the tape's d may be small enough
                    || (v.is_infinite()
                        && g.is_finite()
                        && d.is_finite()
                        && (d.abs() - tol) * g.abs() * (1.0 - k.eps) <= k.max),
            }
        }
        Approx::Nan => Term::exact(f64::NAN),
        Approx::Zero if g.is_finite() => Term::exact(0.0),
        Approx::Zero | Approx::Any => Term {
            v: f64::NAN,
            err: 0.0,
            uncertain: true,
        },
    }
}

/// What a sum of `terms` in any order and grouping comes to, in the tape's
/// type: NaN if a term is NaN or infinities of both signs meet; an infinity
/// if one is present and the finite terms cannot overflow the other way;
/// otherwise the sum within `(n + 1)` ulps of `Σ|t|` plus the terms' own
/// errors, unless `Σ|t|` reaches the overflow threshold (then the result
/// depends on the order: [`Approx::Any`]).
pub fn sum(terms: &[Term], k: &Kind) -> Approx {
    if terms.is_empty() {
        return Approx::Exact(0.0);
    }
    if terms.iter().any(|t| t.uncertain) {
        return Approx::Any;
    }
    if terms.iter().any(|t| t.v.is_nan()) {
        return Approx::Nan;
    }
    let n = terms.len() as f64;
    let (mut pos_inf, mut neg_inf) = (false, false);
    let (mut total, mut abs, mut err) = (0.0, 0.0, 0.0);
    for t in terms {
        let r = (k.round)(t.v);
        if r.is_infinite() {
            if t.v.abs() - t.err <= k.max {
                return Approx::Any; // overflows in one rounding, not in another
            }
            if r > 0.0 {
                pos_inf = true;
            } else {
                neg_inf = true;
            }
        } else {
            total += t.v;
            abs += t.v.abs();
            err += t.err;
        }
    }
    if pos_inf && neg_inf {
        return Approx::Nan;
    }
    let slack = (n + 1.0) * k.eps;
    if (abs + err) * (1.0 + slack) >= k.max {
        return Approx::Any;
    }
    if pos_inf || neg_inf {
        let v = if pos_inf {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        return Approx::Near { v, tol: 0.0 };
    }
    Approx::Near {
        v: total,
        tol: err + slack * abs + n * k.min_pos * k.eps,
    }
}

/// The value of one step, element by element, from its operands' values.
pub fn value(step: &Step, args: &[&[f64]], len: usize, k: &Kind) -> Vec<Approx> {
    let r = |c: f64| (k.round)(c);
    match *step {
        Step::Input { ref values, .. } => values.iter().map(|&v| Approx::Exact(v)).collect(),
        Step::Unary(op, _) => args[0].iter().map(|&x| unary(op, x, k)).collect(),
        Step::Binary(op, _, _) => (0..len)
            .map(|e| binary(op, at(args[0], e), at(args[1], e), k))
            .collect(),
        Step::Reduce(op, _) => {
            let x = args[0];
            let n = x.len() as f64;
            let terms: Vec<Term> = x.iter().map(|&v| Term::exact(v)).collect();
            vec![match op {
                Reduce::Sum => sum(&terms, k),
                Reduce::Mean => sum(&terms, k).div(n, k),
                Reduce::Norm => near(k, norm(x), n + 4.0, k.min_pos * k.eps),
                Reduce::Max => extremum(x, f64::max),
                Reduce::Min => extremum(x, f64::min),
            }]
        }
        Step::Dot(..) => {
            let terms: Vec<Term> = args[0]
                .iter()
                .zip(args[1])
                .map(|(&a, &b)| Term::exact(r(a * b)))
                .collect();
            vec![sum(&terms, k)]
        }
    }
}

/// Element `e` of an operand, broadcasting a length-1 one.
fn at(x: &[f64], e: usize) -> f64 {
    if x.len() == 1 { x[0] } else { x[e] }
}

/// The largest (`f64::max`) or smallest element, exactly; NaN if any is NaN.
/// A zero result may carry either sign (`max(−0, 0)` depends on the order).
fn extremum(x: &[f64], pick: fn(f64, f64) -> f64) -> Approx {
    if x.iter().any(|v| v.is_nan()) {
        return Approx::Nan;
    }
    match x.iter().copied().reduce(pick).expect("not empty") {
        0.0 => Approx::Near { v: 0.0, tol: 0.0 },
        m => Approx::Exact(m),
    }
}

fn unary(op: Unary, x: f64, k: &Kind) -> Approx {
    let r = |c: f64| (k.round)(c);
    match op {
        Unary::Exp => tr(k, x.exp(), 0.0),
        Unary::Ln => tr(k, x.ln(), 0.0),
        Unary::Sqrt => Approx::Exact(x.sqrt()),
        Unary::Sin => trig(k, x.sin(), x),
        Unary::Cos => trig(k, x.cos(), x),
        Unary::Tanh => tr(k, x.tanh(), 0.0),
        Unary::Sigmoid => tr(k, sigmoid(x), 0.0),
        Unary::Relu => Approx::Exact(if x > 0.0 || x.is_nan() { x } else { 0.0 }),
        Unary::Abs => Approx::Exact(x.abs()),
        Unary::Recip => Approx::Exact(1.0 / x),
        Unary::Neg => Approx::Exact(-x),
        Unary::Powi(n) => powi(k, x, i64::from(n)),
        Unary::Powf(p) => {
            let p = r(p);
            tr(k, x.powf(p), pow_condition(x, p))
        }
        Unary::AddC(c) => Approx::Exact(x + r(c)),
        Unary::SubC(c) => Approx::Exact(x - r(c)),
        Unary::RSubC(c) => Approx::Exact(r(c) - x),
        Unary::MulC(c) | Unary::RMulC(c) => Approx::Exact(x * r(c)),
        Unary::DivC(c) => Approx::Exact(x / r(c)),
        Unary::RDivC(c) => Approx::Exact(r(c) / x),
    }
}

fn binary(op: Binary, a: f64, b: f64, k: &Kind) -> Approx {
    match op {
        Binary::Add => Approx::Exact(a + b),
        Binary::Sub => Approx::Exact(a - b),
        Binary::Mul => Approx::Exact(a * b),
        Binary::Div => Approx::Exact(a / b),
        Binary::Pow => tr(k, a.powf(b), pow_condition(a, b)),
    }
}

/// `∂y/∂x` of a unary op at `x`.
fn unary_partial(op: Unary, x: f64, k: &Kind) -> Approx {
    let r = |c: f64| (k.round)(c);
    match op {
        // d eˣ = eˣ
        Unary::Exp => tr(k, x.exp(), 0.0),
        // d ln x = 1/x
        Unary::Ln => near(k, 1.0 / x, 1.0, 0.0),
        // d √x = 1/(2√x)
        Unary::Sqrt => near(k, 0.5 / x.sqrt(), 2.0, 0.0),
        // d sin x = cos x, d cos x = −sin x
        Unary::Sin => trig(k, x.cos(), x),
        Unary::Cos => trig(k, -x.sin(), x),
        // d tanh x = sech² x; 1 − tanh² x loses ~ulps absolute near |x| ≈ 19
        Unary::Tanh => match tr(k, 1.0 / x.cosh().powi(2), 0.0) {
            Approx::Near { v, tol } => Approx::Near {
                v,
                tol: tol + 32.0 * k.eps,
            },
            other => other,
        },
        // dσ = σ(x)·σ(−x); σ(1 − σ) loses an ulp absolute for large x
        Unary::Sigmoid => match tr(k, sigmoid(x) * sigmoid(-x), 0.0) {
            Approx::Near { v, tol } => Approx::Near {
                v,
                tol: tol + 4.0 * k.eps,
            },
            other => other,
        },
        // relu′ = [x > 0]; NaN passes the gradient (PyTorch: `x ≤ 0 ? 0 : g`)
        Unary::Relu => {
            if x > 0.0 || x.is_nan() {
                Approx::Exact(1.0)
            } else {
                Approx::Zero
            }
        }
        Unary::Abs => Approx::Exact(sign(x)),
        // d(1/x) = −1/x²
        Unary::Recip => near(k, -(1.0 / x) * (1.0 / x), 3.0, k.min_pos),
        Unary::Neg => Approx::Exact(-1.0),
        Unary::AddC(_) | Unary::SubC(_) => Approx::Exact(1.0),
        Unary::RSubC(_) => Approx::Exact(-1.0),
        Unary::MulC(c) | Unary::RMulC(c) => Approx::Exact(r(c)),
        Unary::DivC(c) => near(k, 1.0 / r(c), 1.0, 0.0),
        // d(c/x) = −c/x²
        Unary::RDivC(c) => near(k, -(r(c) / x) / x, 3.0, k.min_pos),
        // d xⁿ = n·xⁿ⁻¹, 0 for n = 0
        Unary::Powi(0) => Approx::Zero,
        Unary::Powi(n) => scaled(r(f64::from(n)), in_type(powi(k, x, i64::from(n) - 1), k), k),
        // d xᵖ = p·xᵖ⁻¹, 0 for p = 0
        Unary::Powf(p) => {
            let p = r(p);
            if p == 0.0 {
                Approx::Zero
            } else {
                let q = r(p - 1.0); // the exponent p − 1 is formed in the tape's type
                scaled(p, in_type(tr(k, x.powf(q), pow_condition(x, q)), k), k)
            }
        }
    }
}

/// `a` as a value of the tape's type: an intermediate that overflows the
/// type is infinite there (PyTorch's `b·aᵇ⁻¹` is inf for a subnormal `a` with
/// `b ≈ a`, though the product `≈ 1` would fit). Near the threshold either.
fn in_type(a: Approx, k: &Kind) -> Approx {
    match a {
        Approx::Near { v, tol } if v.is_finite() => {
            if v.abs() - tol > k.max {
                Approx::Near {
                    v: v.signum() * f64::INFINITY,
                    tol: 0.0,
                }
            } else if v.abs() + tol >= k.max {
                Approx::Any
            } else {
                a
            }
        }
        other => other,
    }
}

/// `c · a` for an exact `c`, with one more rounding.
fn scaled(c: f64, a: Approx, k: &Kind) -> Approx {
    match a {
        Approx::Exact(v) => near(k, c * v, 1.0, k.min_pos * k.eps),
        Approx::Near { v, tol } => {
            let p = c * v;
            if p.is_nan() {
                Approx::Nan
            } else if p.is_infinite() {
                Approx::Near { v: p, tol: 0.0 }
            } else {
                // (A product in the subnormal range is good to one step there.)
                Approx::Near {
                    v: p,
                    tol: tol * c.abs() + k.eps * p.abs() + k.min_pos * k.eps,
                }
            }
        }
        other => other,
    }
}

/// `(∂y/∂a, ∂y/∂b)` of a binary op at `(a, b)`.
fn binary_partials(op: Binary, a: f64, b: f64, k: &Kind) -> (Approx, Approx) {
    match op {
        Binary::Add => (Approx::Exact(1.0), Approx::Exact(1.0)),
        Binary::Sub => (Approx::Exact(1.0), Approx::Exact(-1.0)),
        Binary::Mul => (Approx::Exact(b), Approx::Exact(a)),
        // d(a/b) = da/b − a/b²·db
        Binary::Div => (
            near(k, 1.0 / b, 1.0, 0.0),
            near(k, -(a / b) / b, 3.0, k.min_pos),
        ),
        // d aᵇ = b·aᵇ⁻¹·da + aᵇ·ln a·db; 0 where b = 0, resp. a = 0
        Binary::Pow => {
            let da = if b == 0.0 {
                Approx::Zero
            } else {
                let q = (k.round)(b - 1.0); // formed in the tape's type
                scaled(b, in_type(tr(k, a.powf(q), pow_condition(a, q)), k), k)
            };
            let db = if a == 0.0 {
                Approx::Zero
            } else {
                // aᵇ is the op's value, held in the tape's type.
                let y = (k.round)(a.powf(b));
                tr(k, y * a.ln(), pow_condition(a, b) + 1.0)
            };
            (da, db)
        }
    }
}

/// The local partials of `step` for each of its operand slots: for an
/// elementwise step, one per output element (`∂y[e]/∂x[e]`, or `∂y[e]/∂x[0]`
/// for a broadcast operand); for a reduction, one per input element
/// (`∂y/∂x[i]`). `y` is the tape's value of the step.
pub fn partials(step: &Step, args: &[&[f64]], y: &[f64], k: &Kind) -> Vec<Vec<Approx>> {
    match *step {
        Step::Input { .. } => vec![],
        Step::Unary(op, _) => vec![args[0].iter().map(|&x| unary_partial(op, x, k)).collect()],
        Step::Binary(op, _, _) => {
            let (da, db) = (0..y.len())
                .map(|e| binary_partials(op, at(args[0], e), at(args[1], e), k))
                .unzip();
            vec![da, db]
        }
        Step::Reduce(op, _) => {
            let x = args[0];
            let n = x.len() as f64;
            let y = y[0];
            vec![match op {
                Reduce::Sum => vec![Approx::Exact(1.0); x.len()],
                Reduce::Mean => vec![near(k, 1.0 / n, 1.0, 0.0); x.len()],
                // d‖x‖ = x/‖x‖, 0 at the zero vector
                Reduce::Norm => x
                    .iter()
                    .map(|&v| {
                        if y == 0.0 {
                            Approx::Zero
                        } else {
                            near(k, v / y, 4.0, k.min_pos * k.eps * v.abs())
                        }
                    })
                    .collect(),
                // shared among the elements equal to y (the NaNs if y is NaN)
                Reduce::Max | Reduce::Min => {
                    let hit = |v: f64| if y.is_nan() { v.is_nan() } else { v == y };
                    let ties = x.iter().filter(|&&v| hit(v)).count() as f64;
                    x.iter()
                        .map(|&v| {
                            if hit(v) {
                                near(k, 1.0 / ties, 1.0, 0.0)
                            } else {
                                Approx::Zero
                            }
                        })
                        .collect()
                }
            }]
        }
        // d(a·b) = bᵀda + aᵀdb
        Step::Dot(..) => vec![
            args[1].iter().map(|&v| Approx::Exact(v)).collect(),
            args[0].iter().map(|&v| Approx::Exact(v)).collect(),
        ],
    }
}

/// The operand indices of `step`, slot by slot.
pub fn operands(step: &Step) -> Vec<usize> {
    match *step {
        Step::Input { .. } => vec![],
        Step::Unary(_, x) | Step::Reduce(_, x) => vec![x],
        Step::Binary(_, a, b) | Step::Dot(a, b) => vec![a, b],
    }
}
