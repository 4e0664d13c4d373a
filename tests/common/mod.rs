//! Shared by the test binaries: the per-type constants a test body is written
//! against (habit 13: one generic body, run for f32 and f64), value strategies
//! with the IEEE edge cases in them, element comparisons, and the reference
//! interpreter of random expressions that `tests/gradients.rs` holds the tape to.
//!
//! Each binary uses a different part of this module.
#![allow(dead_code)]

use dualtape::{Real, Var};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Per-type constants and comparisons
// ---------------------------------------------------------------------------

/// Which `wide` approximation an op runs through (the scalar twin runs std's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approx {
    Exp,
    Ln,
    SinCos,
    Tanh,
    Sigmoid,
    Pow,
}

/// A scalar the tests run for: `f32` and `f64`.
pub trait TestReal: Real {
    /// `"f32"` or `"f64"`, for messages.
    const NAME: &'static str;
    /// Tolerance of the gradient tests against central differences, relative
    /// to `1 + max |gradient|` (see `tests/gradients.rs`).
    const GRAD_TOL: f64;
    /// The bits, for bitwise comparison.
    fn bits(self) -> u64;
    /// An integer that grows by one from each float to the next (−0 and +0 both
    /// map to 0), so the distance of two floats in ulps is a subtraction.
    fn ordered(self) -> i64;
    /// Lossless widening.
    fn f64(self) -> f64 {
        self.to_f64().expect("f32 and f64 widen to f64")
    }
    /// The measured bound of `wide`'s approximation against std's, for this type.
    fn tol(op: Approx) -> Tol;
}

/// How far a SIMD result may be from the scalar twin's: within `ulps +
/// per_log·|ln |want||` units in the last place, or within `abs` absolutely.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub ulps: f64,
    pub per_log: f64,
    pub abs: f64,
}

impl Tol {
    pub const fn ulps(ulps: f64) -> Tol {
        Tol {
            ulps,
            per_log: 0.0,
            abs: 0.0,
        }
    }
}

// The bounds below were found by scanning 2¹⁸ points per magnitude decade
// (|x| from 1e-9 to 1e300, bases of pow from 1e-30 to 1e30 and exponents up
// to 1e15) and by the property tests of tests/kernels.rs; each is the largest
// distance seen, rounded up. Where `wide` was wrong outright (sin of huge
// arguments, ln of subnormals, pow at infinities, NaN and subnormals), the
// lanes now take std's path (src/real.rs) and agree to the bit.
impl TestReal for f64 {
    const NAME: &'static str = "f64";
    const GRAD_TOL: f64 = 1e-6;
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn ordered(self) -> i64 {
        let i = self.to_bits() as i64;
        if i < 0 { i64::MIN - i } else { i }
    }
    fn tol(op: Approx) -> Tol {
        match op {
            // seen: 1 ulp everywhere, subnormal results included
            Approx::Exp | Approx::Ln => Tol::ulps(1.0),
            // seen: 2 ulps for |x| ≤ 1e12; near a zero of sin/cos the ulp is
            // tiny and the error is absolute: ≤ 1 eps (|sin| ≤ 1 sets the scale)
            Approx::SinCos => Tol {
                ulps: 2.0,
                per_log: 0.0,
                abs: f64::EPSILON,
            },
            // seen: 7 ulps where wide switches to tanh x ≈ x (|x| ≈ 5e-8), 4 elsewhere
            Approx::Tanh => Tol::ulps(8.0),
            // seen: 4 ulps (1/(1 + e⁻ˣ): exp's ulp plus two roundings)
            Approx::Sigmoid => Tol::ulps(4.0),
            // xᵖ = e^(p·ln x): e^v has condition number |v| = |ln y|, so the
            // error grows with |ln y|. seen: 6 ulps at |ln y| ≈ 31, 17 at 663.
            Approx::Pow => Tol {
                ulps: 4.0,
                per_log: 1.0 / 8.0,
                abs: 0.0,
            },
        }
    }
}

impl TestReal for f32 {
    const NAME: &'static str = "f32";
    const GRAD_TOL: f64 = 2e-4;
    fn bits(self) -> u64 {
        self.to_bits() as u64
    }
    fn ordered(self) -> i64 {
        let i = self.to_bits() as i32 as i64;
        if i < 0 { i32::MIN as i64 - i } else { i }
    }
    fn tol(op: Approx) -> Tol {
        match op {
            Approx::Exp | Approx::Ln => Tol::ulps(1.0),
            // seen: 2 ulps near 1; 321 ulps but ≤ 1 eps absolute near zeros for
            // |x| ≤ 1e5 (std takes over past 1e5)
            Approx::SinCos => Tol {
                ulps: 2.0,
                per_log: 0.0,
                abs: f32::EPSILON as f64,
            },
            // seen: 4 ulps
            Approx::Tanh => Tol::ulps(4.0),
            // seen: 3 ulps
            Approx::Sigmoid => Tol::ulps(4.0),
            // seen: 5 ulps at |ln y| ≈ 27
            Approx::Pow => Tol {
                ulps: 4.0,
                per_log: 1.0 / 8.0,
                abs: 0.0,
            },
        }
    }
}

/// How a fast kernel's element is held to the twin's.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// The same bits (any NaN matches any NaN).
    Exact,
    /// Within a [`Tol`]; non-finite values must match exactly.
    Tol(Tol),
    /// Within an absolute bound (sums); non-finite values must match exactly.
    Near(f64),
    /// Equal as numbers (`+0 == −0`), or both NaN: `max`/`min`, where IEEE leaves
    /// the sign of a zero tie open.
    Number,
    /// Not compared (a sum whose finite terms could overflow in one order and
    /// not in another).
    Any,
}

/// Whether `got` passes `check` against `want`.
pub fn within<T: TestReal>(got: T, want: T, check: Check) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan() || matches!(check, Check::Any);
    }
    match check {
        Check::Exact => got.bits() == want.bits(),
        Check::Number => got == want,
        Check::Any => true,
        // ±inf counts as the float after ±MAX: rounding at the overflow
        // threshold may land on either.
        Check::Tol(t) if !(got.is_infinite() && want.is_infinite()) => {
            let ulps = (got.ordered() - want.ordered()).unsigned_abs() as f64;
            let mag = want
                .f64()
                .abs()
                .clamp(T::min_positive_value().f64(), T::max_value().f64());
            ulps <= t.ulps + t.per_log * mag.ln().abs() || (got.f64() - want.f64()).abs() <= t.abs
        }
        _ if !got.is_finite() || !want.is_finite() => got == want,
        Check::Near(bound) => (got.f64() - want.f64()).abs() <= bound,
        Check::Tol(_) => unreachable!("both infinite: compared above"),
    }
}

/// The first element where `got` fails `check` against `want`, described.
pub fn mismatch<T: TestReal>(got: &[T], want: &[T], check: Check) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("lengths {} vs {}", got.len(), want.len()));
    }
    got.iter()
        .zip(want)
        .position(|(&g, &w)| !within(g, w, check))
        .map(|i| {
            format!(
                "element {i}: got {:e} ({:#x}), want {:e} ({:#x}), check {check:?}",
                got[i].f64(),
                got[i].bits(),
                want[i].f64(),
                want[i].bits()
            )
        })
}

/// The first element where `got` and `want` differ in their bits (NaN = NaN).
pub fn bitwise_mismatch<T: TestReal>(got: &[T], want: &[T]) -> Option<String> {
    mismatch(got, want, Check::Exact)
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// The edge cases habit 6 names, for type `T` (each converted from f64, so
/// 1e300 becomes +inf in f32 and 1e-310 becomes 0).
pub fn special_values<T: TestReal>() -> Vec<T> {
    let min = T::min_positive_value();
    let mut v: Vec<T> = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e30,
        -1e30,
        1e-30,
        -1e-30,
        1.0,
        -1.0,
        0.5,
        2.0,
        -3.0,
    ]
    .iter()
    .map(|&x| T::lit(x))
    .collect();
    let max = T::max_value();
    v.extend([
        min,                  // smallest normal
        -min,                 //
        min / T::lit(4.0),    // subnormal
        -min / T::lit(64.0),  // subnormal
        min * T::epsilon(),   // smallest subnormal
        max,                  //
        -max,                 //
        T::lit(1e5 + 0.25),   // past f32's sin/cos cut-over
        T::lit(1e14 + 0.125), // past f64's
    ]);
    v
}

/// Any value: the edge cases, ordinary numbers and a log-uniform spread of
/// magnitudes from 1e-40 to 1e40 (so subnormals and overflow in f32 too).
pub fn value<T: TestReal>() -> impl Strategy<Value = T> + Clone {
    prop_oneof![
        2 => prop::sample::select(special_values::<T>()),
        3 => (-100.0f64..100.0).prop_map(T::lit),
        3 => (-40.0f64..40.0, any::<bool>())
            .prop_map(|(e, neg)| T::lit(if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })),
    ]
}

/// A finite value no larger than 1e30 in magnitude, for sums and products
/// whose overflow would say nothing about the kernel.
pub fn moderate<T: TestReal>() -> impl Strategy<Value = T> + Clone {
    value::<T>().prop_map(|v| {
        if v.is_finite() && v.f64().abs() <= 1e30 {
            v
        } else {
            T::lit(0.5)
        }
    })
}

/// A small deterministic generator for the long vectors (proptest would spend
/// its time shrinking 65 537-element vectors).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// What [`value`] draws from, with edge cases 1 time in 16.
    pub fn value<T: TestReal>(&mut self, specials: &[T]) -> T {
        match self.next_u64() % 16 {
            0 => specials[(self.next_u64() % specials.len() as u64) as usize],
            1..=7 => T::lit(self.range(-100.0, 100.0)),
            _ => {
                let m = 10f64.powf(self.range(-40.0, 40.0));
                T::lit(if self.next_u64() & 1 == 0 { m } else { -m })
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Random expressions: the tape against a plain scalar reference
// ---------------------------------------------------------------------------

/// Elementwise functions of one argument in a random expression. Ops with a
/// restricted domain are applied to `e² + 1` (≥ 1) or `tanh e` (in (−1, 1)), so
/// every expression is finite and smooth wherever it is evaluated; the guard
/// is recorded on the tape like any other op.
#[derive(Clone, Copy, Debug)]
pub enum Un {
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    Abs,
    Neg,
    /// `e^(tanh x)`
    ExpTanh,
    /// `ln(x² + 1)`
    LnSq1,
    /// `√(x² + 1)`
    SqrtSq1,
    /// `1/(x² + 1)`
    RecipSq1,
    /// `xⁿ`
    Powi(i32),
    /// `(x² + 1)ᵖ`
    PowfSq1(f64),
    /// `x + c`, `c + x`, `x − c`, `c − x`, `c·x`, `x·c`, `x/c`, `c/(x² + 1)`
    AddC(f64),
    CAdd(f64),
    SubC(f64),
    CSub(f64),
    MulC(f64),
    CMul(f64),
    DivC(f64),
    CDivSq1(f64),
}

/// Elementwise functions of two arguments (a length-1 side broadcasts).
#[derive(Clone, Copy, Debug)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    /// `a / (b² + 1)`
    DivSq1,
    /// `(a² + 1)^(tanh b)`
    PowSq1Tanh,
    /// `a·b` summed: `dot` when the lengths match, else `(a·b).sum()`
    Dot,
}

/// Reductions to one element.
#[derive(Clone, Copy, Debug)]
pub enum Red {
    Sum,
    Mean,
    Norm,
    Max,
    Min,
}

/// A random expression over a few input vectors.
#[derive(Clone, Debug)]
pub enum Expr {
    Input(usize),
    Un(Un, Box<Expr>),
    Bin(Bin, Box<Expr>, Box<Expr>),
    Red(Red, Box<Expr>),
}

fn constant() -> impl Strategy<Value = f64> {
    prop_oneof![(-3.0f64..3.0), Just(2.0), Just(-1.0)]
}

fn un() -> impl Strategy<Value = Un> {
    prop_oneof![
        Just(Un::Sin),
        Just(Un::Cos),
        Just(Un::Tanh),
        Just(Un::Sigmoid),
        Just(Un::Relu),
        Just(Un::Abs),
        Just(Un::Neg),
        Just(Un::ExpTanh),
        Just(Un::LnSq1),
        Just(Un::SqrtSq1),
        Just(Un::RecipSq1),
        (0i32..=3).prop_map(Un::Powi),
        (-2.0f64..2.5).prop_map(Un::PowfSq1),
        constant().prop_map(Un::AddC),
        constant().prop_map(Un::CAdd),
        constant().prop_map(Un::SubC),
        constant().prop_map(Un::CSub),
        constant().prop_map(Un::MulC),
        constant().prop_map(Un::CMul),
        (0.5f64..3.0).prop_map(Un::DivC),
        constant().prop_map(Un::CDivSq1),
    ]
}

/// Expressions of up to `depth` levels over `inputs` input vectors.
pub fn expr(inputs: usize, depth: u32) -> impl Strategy<Value = Expr> {
    let leaf = (0..inputs).prop_map(Expr::Input);
    leaf.prop_recursive(depth, 24, 2, |inner| {
        prop_oneof![
            3 => (un(), inner.clone()).prop_map(|(u, e)| Expr::Un(u, Box::new(e))),
            3 => (
                prop_oneof![
                    Just(Bin::Add),
                    Just(Bin::Sub),
                    Just(Bin::Mul),
                    Just(Bin::DivSq1),
                    Just(Bin::PowSq1Tanh),
                    Just(Bin::Dot),
                ],
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(b, l, r)| Expr::Bin(b, Box::new(l), Box::new(r))),
            1 => (
                prop_oneof![
                    Just(Red::Sum),
                    Just(Red::Mean),
                    Just(Red::Norm),
                    Just(Red::Max),
                    Just(Red::Min),
                ],
                inner
            )
                .prop_map(|(r, e)| Expr::Red(r, Box::new(e))),
        ]
    })
}

/// `e² + 1` on the tape.
fn sq1<'t, T: Real>(e: Var<'t, T>) -> Var<'t, T> {
    e * e + T::one()
}

impl Expr {
    /// Records the expression over the `inputs` leaves (on their tape).
    pub fn on_tape<'t, T>(&self, inputs: &[Var<'t, T>]) -> Var<'t, T>
    where
        T: TestReal
            + core::ops::Add<Var<'t, T>, Output = Var<'t, T>>
            + core::ops::Sub<Var<'t, T>, Output = Var<'t, T>>
            + core::ops::Mul<Var<'t, T>, Output = Var<'t, T>>
            + core::ops::Div<Var<'t, T>, Output = Var<'t, T>>,
    {
        let c = T::lit;
        match self {
            Expr::Input(k) => inputs[*k],
            Expr::Un(u, e) => {
                let x = e.on_tape(inputs);
                match *u {
                    Un::Sin => x.sin(),
                    Un::Cos => x.cos(),
                    Un::Tanh => x.tanh(),
                    Un::Sigmoid => x.sigmoid(),
                    Un::Relu => x.relu(),
                    Un::Abs => x.abs(),
                    Un::Neg => -x,
                    Un::ExpTanh => x.tanh().exp(),
                    Un::LnSq1 => sq1(x).ln(),
                    Un::SqrtSq1 => sq1(x).sqrt(),
                    Un::RecipSq1 => sq1(x).recip(),
                    Un::Powi(n) => x.powi(n),
                    Un::PowfSq1(p) => sq1(x).powf(c(p)),
                    Un::AddC(k) => x + c(k),
                    Un::CAdd(k) => c(k) + x,
                    Un::SubC(k) => x - c(k),
                    Un::CSub(k) => c(k) - x,
                    Un::MulC(k) => x * c(k),
                    Un::CMul(k) => c(k) * x,
                    Un::DivC(k) => x / c(k),
                    Un::CDivSq1(k) => c(k) / sq1(x),
                }
            }
            Expr::Bin(b, l, r) => {
                let (a, b2) = (l.on_tape(inputs), r.on_tape(inputs));
                match b {
                    Bin::Add => a + b2,
                    Bin::Sub => a - b2,
                    Bin::Mul => a * b2,
                    Bin::DivSq1 => a / sq1(b2),
                    Bin::PowSq1Tanh => sq1(a).pow(b2.tanh()),
                    Bin::Dot if a.len() == b2.len() => a.dot(b2),
                    Bin::Dot => (a * b2).sum(),
                }
            }
            Expr::Red(r, e) => {
                let x = e.on_tape(inputs);
                match r {
                    Red::Sum => x.sum(),
                    Red::Mean => x.mean(),
                    Red::Norm => x.norm(),
                    Red::Max => x.max(),
                    Red::Min => x.min(),
                }
            }
        }
    }

    /// The value and the tangent (directional derivative along `dir`) of the
    /// expression, by plain f64 loops and derivatives written out by hand:
    /// forward mode, independent of everything in the crate.
    pub fn reference(&self, inputs: &[Vec<f64>], dir: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
        match self {
            Expr::Input(k) => (inputs[*k].clone(), dir[*k].clone()),
            Expr::Un(u, e) => {
                let (x, dx) = e.reference(inputs, dir);
                // (f(x), f'(x)) per element; the tangent is f'(x)·dx
                let f = |v: f64| -> (f64, f64) {
                    let s1 = v * v + 1.0; // d(x² + 1) = 2x
                    match *u {
                        Un::Sin => (v.sin(), v.cos()),
                        Un::Cos => (v.cos(), -v.sin()),
                        Un::Tanh => (v.tanh(), 1.0 - v.tanh().powi(2)),
                        Un::Sigmoid => {
                            let s = 1.0 / (1.0 + (-v).exp());
                            (s, s * (1.0 - s))
                        }
                        // PyTorch: relu'(0) = 0, abs'(0) = 0
                        Un::Relu => (v.max(0.0), if v > 0.0 { 1.0 } else { 0.0 }),
                        Un::Abs => (
                            v.abs(),
                            if v > 0.0 {
                                1.0
                            } else if v < 0.0 {
                                -1.0
                            } else {
                                0.0
                            },
                        ),
                        Un::Neg => (-v, -1.0),
                        // d e^(tanh x) = e^(tanh x)·(1 − tanh² x)
                        Un::ExpTanh => (v.tanh().exp(), v.tanh().exp() * (1.0 - v.tanh().powi(2))),
                        // d ln(x² + 1) = 2x/(x² + 1)
                        Un::LnSq1 => (s1.ln(), 2.0 * v / s1),
                        // d √(x² + 1) = x/√(x² + 1)
                        Un::SqrtSq1 => (s1.sqrt(), v / s1.sqrt()),
                        // d 1/(x² + 1) = −2x/(x² + 1)²
                        Un::RecipSq1 => (1.0 / s1, -2.0 * v / (s1 * s1)),
                        // d xⁿ = n·xⁿ⁻¹ (0 for n = 0)
                        Un::Powi(n) => (
                            v.powi(n),
                            if n == 0 {
                                0.0
                            } else {
                                n as f64 * v.powi(n - 1)
                            },
                        ),
                        // d (x² + 1)ᵖ = p·(x² + 1)ᵖ⁻¹·2x
                        Un::PowfSq1(p) => (s1.powf(p), p * s1.powf(p - 1.0) * 2.0 * v),
                        Un::AddC(k) | Un::CAdd(k) => (v + k, 1.0),
                        Un::SubC(k) => (v - k, 1.0),
                        Un::CSub(k) => (k - v, -1.0),
                        Un::MulC(k) | Un::CMul(k) => (k * v, k),
                        Un::DivC(k) => (v / k, 1.0 / k),
                        // d c/(x² + 1) = −c·2x/(x² + 1)²
                        Un::CDivSq1(k) => (k / s1, -k * 2.0 * v / (s1 * s1)),
                    }
                };
                let (mut y, mut dy) = (Vec::with_capacity(x.len()), Vec::with_capacity(x.len()));
                for (v, d) in x.iter().zip(&dx) {
                    let (fv, fd) = f(*v);
                    y.push(fv);
                    dy.push(fd * d);
                }
                (y, dy)
            }
            Expr::Bin(b, l, r) => {
                let (a, da) = l.reference(inputs, dir);
                let (c, dc) = r.reference(inputs, dir);
                let n = a.len().max(c.len());
                // a length-1 side broadcasts
                let at = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
                let mut y = vec![0.0; n];
                let mut dy = vec![0.0; n];
                for i in 0..n {
                    let (u, du, w, dw) = (at(&a, i), at(&da, i), at(&c, i), at(&dc, i));
                    (y[i], dy[i]) = match b {
                        Bin::Add => (u + w, du + dw),
                        Bin::Sub => (u - w, du - dw),
                        Bin::Mul | Bin::Dot => (u * w, du * w + u * dw),
                        // d u/(w² + 1) = du/(w² + 1) − u·2w·dw/(w² + 1)²
                        Bin::DivSq1 => {
                            let s = w * w + 1.0;
                            (u / s, du / s - u * 2.0 * w * dw / (s * s))
                        }
                        // y = sᵗ with s = u² + 1, t = tanh w:
                        // dy = t·sᵗ⁻¹·2u·du + sᵗ·ln s·(1 − t²)·dw
                        Bin::PowSq1Tanh => {
                            let (s, t) = (u * u + 1.0, w.tanh());
                            let y = s.powf(t);
                            (
                                y,
                                t * s.powf(t - 1.0) * 2.0 * u * du
                                    + y * s.ln() * (1.0 - t * t) * dw,
                            )
                        }
                    };
                }
                if let Bin::Dot = b {
                    (vec![y.iter().sum()], vec![dy.iter().sum()])
                } else {
                    (y, dy)
                }
            }
            Expr::Red(r, e) => {
                let (x, dx) = e.reference(inputs, dir);
                let n = x.len() as f64;
                let (y, dy) = match r {
                    Red::Sum => (x.iter().sum(), dx.iter().sum()),
                    Red::Mean => (x.iter().sum::<f64>() / n, dx.iter().sum::<f64>() / n),
                    // d‖x‖ = xᵀdx/‖x‖, 0 at x = 0
                    Red::Norm => {
                        let nrm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
                        let d = if nrm == 0.0 {
                            0.0
                        } else {
                            x.iter().zip(&dx).map(|(v, d)| v * d).sum::<f64>() / nrm
                        };
                        (nrm, d)
                    }
                    // d max x = mean of dxᵢ over the i attaining it (ties share)
                    Red::Max | Red::Min => {
                        let m = if let Red::Max = r {
                            x.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                        } else {
                            x.iter().cloned().fold(f64::INFINITY, f64::min)
                        };
                        let ties: Vec<f64> = x
                            .iter()
                            .zip(&dx)
                            .filter(|(v, _)| **v == m)
                            .map(|(_, d)| *d)
                            .collect();
                        (m, ties.iter().sum::<f64>() / ties.len() as f64)
                    }
                };
                (vec![y], vec![dy])
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers of the functional-API tests
// ---------------------------------------------------------------------------

/// `|a − b| ≤ tol·max(1, |b|)`, element by element, naming the first miss.
#[track_caller]
pub fn assert_close<T: Real>(a: &[T], b: &[T], tol: T, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let scale = T::one().max(num_traits::Float::abs(y));
        assert!(
            num_traits::Float::abs(x - y) <= tol * scale,
            "{what}[{i}]: {x} vs {y} (tol {tol})"
        );
    }
}

/// Vectors of `n` values uniform in `lo..hi`.
pub fn vec_in(
    n: impl Into<prop::collection::SizeRange>,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(lo..hi, n)
}

/// `v` in the test's scalar type.
pub fn cast<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::lit(x)).collect()
}

// ---------------------------------------------------------------------------
// Helpers of the tests that reuse a tape's buffers
// ---------------------------------------------------------------------------

/// A tape whose stale value arena is NaN for the first `len` elements, so a
/// value read without being computed first shows; fusion set to `fusion`.
pub fn poisoned(len: usize, fusion: bool) -> dualtape::Tape<f64> {
    let mut tape = dualtape::Tape::<f64>::new();
    tape.constant(&vec![f64::NAN; len]);
    tape.clear();
    tape.set_fusion(fusion);
    tape
}

/// The bits of every element, for bitwise comparison.
pub fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}
