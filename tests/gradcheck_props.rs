//! Property tests of `func::gradcheck`: it passes for every op of the tape at
//! random points in the op's domain, and fails, naming the right element, for
//! a deliberately wrong custom rule. Each runs for f32 and f64.

mod common;

use common::{cast, vec_in};
use dualtape::func::{self, many};
use dualtape::{Real, Var};
use proptest::prelude::*;

/// `Σ wᵢ·op(a, b)ᵢ` is checked for every op of the tape, each at a point in its domain.
fn check_every_op_passes_gradcheck<T: Real>(
    a: &[f64],
    b: &[f64],
    w: &[f64],
) -> Result<(), TestCaseError> {
    type Op<T> = (
        &'static str,
        for<'t> fn(Var<'t, T>, Var<'t, T>) -> Var<'t, T>,
    );
    let ops: [Op<T>; 28] = [
        ("exp", |a, _| a.exp()),
        ("ln", |a, b| (a * a + b * b).ln()),
        ("sqrt", |a, b| (a * a + b * b).sqrt()),
        ("sin", |a, _| a.sin()),
        ("cos", |a, _| a.cos()),
        ("tanh", |a, _| a.tanh()),
        ("sigmoid", |a, _| a.sigmoid()),
        ("relu", |a, _| a.relu()),
        ("abs", |a, _| a.abs()),
        ("recip", |_, b| b.recip()),
        ("powi", |a, _| a.powi(3)),
        ("powi<0", |_, b| b.powi(-2)),
        ("powf", |a, b| (a * a + b * b).powf(T::lit(2.5))),
        ("neg", |a, _| -a),
        ("add", |a, b| a + b),
        ("sub", |a, b| a - b),
        ("mul", |a, b| a * b),
        ("div", |a, b| a / b),
        ("pow", |a, b| (b * b).pow(a)),
        ("sum", |a, b| (a * b).sum()),
        ("mean", |a, _| a.mean()),
        ("norm", |a, b| (a * b).norm()),
        ("max", |a, _| a.max()),
        ("min", |a, _| a.min()),
        ("dot", |a, b| a.dot(b)),
        ("scalars", |a, _| {
            (a * T::lit(3.0) + T::lit(1.0)) / T::lit(4.0) - T::lit(2.0)
        }),
        ("rsub", |a, _| a.scalar_rsub(T::lit(2.0))),
        ("rdiv", |_, b| b.scalar_rdiv(T::lit(2.0))),
    ];
    let (a, b, w) = (cast::<T>(a), cast::<T>(b), cast::<T>(w));
    for (name, op) in ops {
        let report = many::gradcheck(
            |v| {
                let y = op(v[0], v[1]);
                if y.len() == 1 {
                    y
                } else {
                    y.dot(v[0].tape().constant(&w))
                }
            },
            &[&a, &b],
        );
        prop_assert!(report.passed, "{name}: {report}");
    }
    Ok(())
}

/// x³ with backward 3x²·ḡ, except 2x²·ḡ at element `wrong`.
fn cube<'t, T: Real>(x: Var<'t, T>, wrong: usize) -> Var<'t, T> {
    let out: Vec<T> = x.value().iter().map(|&v| v * v * v).collect();
    x.tape().custom(&[x], &out, move |cx| {
        let (xs, g) = (cx.input(0).to_vec(), cx.grad_output().to_vec());
        for (i, d) in cx.grad_input_mut(0).iter_mut().enumerate() {
            let k = if i == wrong { 2.0 } else { 3.0 };
            *d = T::lit(k) * xs[i] * xs[i] * g[i];
        }
    })
}

fn check_wrong_custom_rule_is_named<T: Real>(x: &[f64], wrong: usize) -> Result<(), TestCaseError> {
    let x = cast::<T>(x);
    let wrong = wrong % x.len();
    let report = func::gradcheck(|x| cube(x, wrong).sum(), &x);
    prop_assert!(!report.passed, "{report}");
    prop_assert_eq!(report.worst.index, wrong, "{}", report);
    Ok(())
}

macro_rules! props_for {
    ($m:ident, $t:ty) => {
        mod $m {
            use super::*;
            proptest! {
                #[test]
                fn every_op_passes_gradcheck_in_its_domain(
                    (a, b, w) in (1..10usize).prop_flat_map(|n| (
                        // a: apart by ≥ 0.1 pairwise and ≥ 0.05 from 0 (max, min, relu, abs are kinked there)
                        vec_in(n, 0.1, 1.0).prop_map(|d| d.iter().scan(-2.5, |s, &d| { *s += d + 0.1; Some(*s) }).collect::<Vec<f64>>()),
                        // b: |b| ∈ [0.5, 2] (recip, div, powi(−2))
                        vec_in(n, 0.5, 2.0).prop_flat_map(|m| prop::collection::vec(any::<bool>(), m.len()).prop_map(move |s| m.iter().zip(&s).map(|(&v, &neg)| if neg { -v } else { v }).collect::<Vec<f64>>())),
                        // w > 0: no cancellation in Σ wᵢ·yᵢ, so its rounding is the ε·|f| the
                        // check's floor assumes (a cancelling f32 sum needs gradcheck_with)
                        vec_in(n, 0.25, 1.0),
                    )),
                ) {
                    let a: Vec<f64> = a.iter().map(|&v| if v.abs() < 0.05 { v + 0.1 } else { v }).collect();
                    check_every_op_passes_gradcheck::<$t>(&a, &b, &w)?;
                }

                #[test]
                fn gradcheck_names_a_wrong_custom_rule(
                    x in vec_in(1..10, 0.4, 2.0),
                    wrong in 0..10usize,
                ) {
                    check_wrong_custom_rule_is_named::<$t>(&x, wrong)?;
                }
            }
        }
    };
}

props_for!(f32_, f32);
props_for!(f64_, f64);
