//! Property tests of the functional API on random compositions of ops:
//! ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩, forward and reverse Jacobians agree, `Float` code on
//! duals agrees with the tape. Each runs for f32 and f64. Gradcheck's
//! properties are in `gradcheck_props.rs`.

mod common;

use common::{cast, vec_in};
use dualtape::func;
use dualtape::{Dual, Real, Var};
use num_traits::Float;
use proptest::prelude::*;

/// One step of a random program on a vector `c`, with the input `x` at hand.
/// Each keeps values in a moderate range, so six steps neither overflow nor
/// underflow in f32, and none makes a whole vector constant (`Scale` stays
/// away from 0, `Relu` leaks): a reduction over exact ties (`max`) is where
/// forward and reverse mode may differ (one tie's tangent, the shared
/// gradient), and the identities tested here hold everywhere else.
#[derive(Clone, Copy, Debug)]
enum Step {
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    ExpTanh,
    Sqrt1,
    Ln1,
    Recip1,
    Powi(i32),
    Powf(f64),
    PowX,
    Abs,
    Relu,
    MulX,
    AddX,
    DivX,
    Scale(f64),
    Offset(f64),
    RSub(f64),
    SumMix,
    NormMix,
    DotMix,
    MaxMix,
    MinMix,
    MeanMix,
}

fn step() -> impl Strategy<Value = Step> {
    use Step::*;
    let k = -2.0..2.0f64;
    prop_oneof![
        Just(Sin),
        Just(Cos),
        Just(Tanh),
        Just(Sigmoid),
        Just(ExpTanh),
        Just(Sqrt1),
        Just(Ln1),
        Just(Recip1),
        (0..4i32).prop_map(Powi),
        (0.5..2.5f64).prop_map(Powf),
        Just(PowX),
        Just(Abs),
        Just(Relu),
        Just(MulX),
        Just(AddX),
        Just(DivX),
        (0.25..2.0f64, any::<bool>()).prop_map(|(k, neg)| Scale(if neg { -k } else { k })),
        k.clone().prop_map(Offset),
        k.prop_map(RSub),
        Just(SumMix),
        Just(NormMix),
        Just(DotMix),
        Just(MaxMix),
        Just(MinMix),
        Just(MeanMix),
    ]
}

/// The program on the tape, for any scalar the tape records.
fn program<'t, S: Real>(steps: &[Step], x: Var<'t, S>) -> Var<'t, S> {
    use Step::*;
    let l = S::lit;
    steps.iter().fold(x, |c, &s| match s {
        Sin => c.sin(),
        Cos => c.cos(),
        Tanh => c.tanh(),
        Sigmoid => c.sigmoid(),
        ExpTanh => c.tanh().exp(),
        Sqrt1 => (c * c + l(1.0)).sqrt(),
        Ln1 => (c * c + l(1.0)).ln(),
        Recip1 => (c * c + l(1.0)).recip(),
        Powi(n) => c.tanh().powi(n) * (c * c + l(1.0)).recip(),
        Powf(p) => (c.sigmoid() + l(0.5)).powf(l(p)),
        PowX => (c.sigmoid() + l(0.5)).pow(x),
        Abs => c.abs(),
        Relu => c.relu() + c * l(0.1),
        MulX => c * x,
        AddX => c + x,
        DivX => c / (x * x + l(1.0)),
        Scale(k) => c * l(k),
        Offset(k) => c + l(k),
        RSub(k) => (c * l(-1.0)) + l(k),
        SumMix => c + c.sum() * l(0.1),
        NormMix => c / (c.norm() + l(1.0)),
        DotMix => c * c.dot(x).tanh(),
        MaxMix => c - c.max(),
        MinMix => c - c.min(),
        MeanMix => c * c.mean(),
    })
}

/// The same program as plain `Float` code, element by element.
fn program_scalar<S: Float>(steps: &[Step], x: &[S]) -> Vec<S> {
    use Step::*;
    let l = |v: f64| S::from(v).unwrap();
    let one = S::one();
    let sig = |c: S| one / (one + (-c).exp());
    let mut c = x.to_vec();
    for &s in steps {
        let sum = c.iter().fold(S::zero(), |a, &b| a + b);
        let (n, norm) = (
            l(c.len() as f64),
            c.iter().fold(S::zero(), |a, &b| a + b * b).sqrt(),
        );
        let dot = c
            .iter()
            .zip(x)
            .fold(S::zero(), |a, (&p, &q)| a + p * q)
            .tanh();
        let max = c.iter().copied().fold(S::neg_infinity(), S::max);
        let min = c.iter().copied().fold(S::infinity(), S::min);
        c = c
            .iter()
            .zip(x)
            .map(|(&c, &x)| match s {
                Sin => c.sin(),
                Cos => c.cos(),
                Tanh => c.tanh(),
                Sigmoid => sig(c),
                ExpTanh => c.tanh().exp(),
                Sqrt1 => (c * c + one).sqrt(),
                Ln1 => (c * c + one).ln(),
                Recip1 => (c * c + one).recip(),
                Powi(k) => c.tanh().powi(k) * (c * c + one).recip(),
                Powf(p) => (sig(c) + l(0.5)).powf(l(p)),
                PowX => (sig(c) + l(0.5)).powf(x),
                Abs => c.abs(),
                Relu => (if c > S::zero() { c } else { S::zero() }) + c * l(0.1),
                MulX => c * x,
                AddX => c + x,
                DivX => c / (x * x + one),
                Scale(k) => c * l(k),
                Offset(k) => c + l(k),
                RSub(k) => l(k) - c,
                SumMix => c + sum * l(0.1),
                NormMix => c / (norm + one),
                DotMix => c * dot,
                MaxMix => c - max,
                MinMix => c - min,
                MeanMix => c * (sum / n),
            })
            .collect();
    }
    c
}

/// The first `m` elements, as a custom op (the tape has no slicing): a
/// Jacobian with fewer outputs than inputs that is not a single row.
fn take<'t, S: Real>(x: Var<'t, S>, m: usize) -> Var<'t, S> {
    let out = x.value()[..m].to_vec();
    x.tape().custom(&[x], &out, move |cx| {
        let g = cx.grad_output().to_vec();
        cx.grad_input_mut(0)[..m].copy_from_slice(&g);
    })
}

fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |s, (&x, &y)| s + x * y)
}

/// The error allowed a program of `steps` steps: a few ulps per step, with room.
fn tol<T: Real>(steps: &[Step]) -> T {
    T::lit(256.0 * (steps.len() + 1) as f64) * T::epsilon()
}

fn check_adjoint_identity<T: Real>(
    steps: &[Step],
    x: &[f64],
    u: &[f64],
    v: &[f64],
) -> Result<(), TestCaseError> {
    let (x, u, v) = (cast::<T>(x), cast::<T>(u), cast::<T>(v));
    let jv = func::jvp(|x| program(steps, x), &x, &v);
    let jtu = func::vjp(|x| program(steps, x), &x, &u);
    let (lhs, rhs) = (dot(&u, &jv), dot(&jtu, &v));
    // The scale: ‖u‖₁·‖v‖₁·max|Jᵢⱼ|. Not Σ|uᵢ·Jᵢⱼ·vⱼ|: an entry that is 0 up to
    // rounding (forward: ċ − ċ = 0; reverse: ḡ − ḡ summed in another order)
    // errs relative to the terms that cancelled in it, not to itself.
    let j = func::jacobian_rev(|x| program(steps, x), &x);
    let l1 = |w: &[T]| w.iter().fold(T::zero(), |s, &e| s + Float::abs(e));
    let jmax = j
        .as_slice()
        .iter()
        .fold(T::one(), |m, &e| Float::max(m, Float::abs(e)));
    let scale = l1(&u) * l1(&v) * jmax;
    let bound = tol::<T>(steps) * Float::max(scale, T::min_positive_value());
    prop_assert!(
        Float::abs(lhs - rhs) <= bound,
        "⟨u, Jv⟩ = {lhs}, ⟨Jᵀu, v⟩ = {rhs}, bound {bound}"
    );
    Ok(())
}

#[track_caller]
fn matrices_agree<T: Real>(
    a: &func::Matrix<T>,
    b: &func::Matrix<T>,
    tol: T,
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!((a.rows(), a.cols()), (b.rows(), b.cols()));
    let scale = b
        .as_slice()
        .iter()
        .fold(T::one(), |m, &v| Float::max(m, Float::abs(v)));
    for (k, (&p, &q)) in a.as_slice().iter().zip(b.as_slice()).enumerate() {
        prop_assert!(
            Float::abs(p - q) <= tol * scale,
            "{what}: entry {k}: {p} vs {q}"
        );
    }
    Ok(())
}

fn check_jacobians_agree<T: Real>(steps: &[Step], x: &[f64]) -> Result<(), TestCaseError> {
    let x = cast::<T>(x);
    let (n, tol) = (x.len(), tol::<T>(steps));
    let rev = func::jacobian_rev(|x| program(steps, x), &x);
    let fwd = func::jacobian_fwd(|x| program(steps, x), &x);
    let auto = func::jacobian(|x| program(steps, x), &x); // square: forward
    matrices_agree(&fwd, &rev, tol, "fwd vs rev")?;
    matrices_agree(&auto, &rev, tol, "auto vs rev")?;
    // Fewer outputs than inputs (m = n − 2): the auto Jacobian sweeps
    // LANES + 1 rows at a time in the value and the tangent lanes.
    let m = n - 2;
    let rev = func::jacobian_rev(|x| take(program(steps, x), m), &x);
    let auto = func::jacobian(|x| take(program(steps, x), m), &x);
    let fwd = func::jacobian_fwd(|x| take(program(steps, x), m), &x);
    matrices_agree(&auto, &rev, tol, "auto (reverse, batched rows) vs rev")?;
    matrices_agree(&fwd, &rev, tol, "fwd vs rev, m < n")?;
    // One row: the gradient of the sum.
    let g = func::grad(|x| program(steps, x).sum(), &x);
    let row = func::jacobian(|x| program(steps, x).sum(), &x);
    prop_assert!(
        row.row(0)
            .iter()
            .zip(&g)
            .all(|(&p, &q)| Float::abs(p - q) <= tol * Float::max(T::one(), Float::abs(q)))
    );
    Ok(())
}

fn check_float_code_on_duals_agrees_with_the_tape<T: Real>(
    steps: &[Step],
    x: &[f64],
    v: &[f64],
) -> Result<(), TestCaseError> {
    let (x, v) = (cast::<T>(x), cast::<T>(v));
    let duals: Vec<Dual<T>> = x.iter().zip(&v).map(|(&x, &v)| Dual::new(x, v)).collect();
    let y = program_scalar(steps, &duals);
    let jv = func::jvp(|x| program(steps, x), &x, &v);
    let tol = tol::<T>(steps);
    let scale = jv
        .iter()
        .fold(T::one(), |m, &e| Float::max(m, Float::abs(e)));
    for i in 0..x.len() {
        prop_assert!(
            Float::abs(y[i].eps - jv[i]) <= tol * scale,
            "J·v[{i}]: dual {} vs tape {}",
            y[i].eps,
            jv[i]
        );
    }
    let plain = program_scalar(steps, &x);
    for i in 0..x.len() {
        prop_assert!(y[i].re == plain[i], "the dual's value is the plain value");
    }
    Ok(())
}

macro_rules! props_for {
    ($m:ident, $t:ty) => {
        mod $m {
            use super::*;
            proptest! {
                #[test]
                fn jvp_and_vjp_satisfy_the_adjoint_identity(
                    steps in prop::collection::vec(step(), 1..7),
                    (x, u, v) in (1..12usize).prop_flat_map(|n| (vec_in(n, -2.0, 2.0), vec_in(n, -1.0, 1.0), vec_in(n, -1.0, 1.0))),
                ) {
                    check_adjoint_identity::<$t>(&steps, &x, &u, &v)?;
                }

                #[test]
                fn forward_and_reverse_jacobians_agree(
                    steps in prop::collection::vec(step(), 1..7),
                    x in vec_in(<$t as Real>::LANES + 4..3 * <$t as Real>::LANES, -2.0, 2.0),
                ) {
                    check_jacobians_agree::<$t>(&steps, &x)?;
                }

                #[test]
                fn float_code_on_duals_agrees_with_the_tape(
                    steps in prop::collection::vec(step(), 1..7),
                    (x, v) in (1..12usize).prop_flat_map(|n| (vec_in(n, -2.0, 2.0), vec_in(n, -1.0, 1.0))),
                ) {
                    check_float_code_on_duals_agrees_with_the_tape::<$t>(&steps, &x, &v)?;
                }
            }
        }
    };
}

props_for!(f32_, f32);
props_for!(f64_, f64);
