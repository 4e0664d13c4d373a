//! Forward mode: `Dual`'s rules shared with the tape, the lane-wide dual,
//! and a tape of duals (forward-over-reverse). `Dual` as a `num_traits::Float`
//! is tested in `dual_float.rs`.

use dualtape::rules::{self, BinaryRule, UnaryRule};
use dualtape::{Dual, Dual64, DualVec, Real, Tape, Var};
use num_traits::Float;

/// Runs a generic test body once for f32 and once for f64.
macro_rules! for_f32_f64 {
    ($($name:ident),* $(,)?) => {
        mod f32_ { $(#[test] fn $name() { super::$name::<f32>() })* }
        mod f64_ { $(#[test] fn $name() { super::$name::<f64>() })* }
    };
}

for_f32_f64!(
    core_ops_take_value_and_derivative_from_the_rules,
    tape_and_duals_agree_on_every_core_op,
    lane_wide_duals_carry_lanes_directions_in_one_pass,
    tape_of_duals_gives_gradient_and_hvp_in_one_sweep,
);

/// `(value, tangent)` of `op` at `x` with tangent 1.
fn d1<T: Real>(x: T, op: impl Fn(Dual<T>) -> Dual<T>) -> (T, T) {
    let y = op(Dual::variable(x));
    (y.re, y.eps)
}

fn core_ops_take_value_and_derivative_from_the_rules<T: Real>() {
    let lit = T::lit;
    for x in [lit(-1.5), lit(-0.25), lit(0.0), lit(0.75), lit(2.0)] {
        let r = |rule: &dyn Fn(T) -> (T, T)| rule(x);
        // Bitwise: the dual runs the very statement the tape's kernels run.
        assert_eq!(d1(x, Float::exp), r(&|x| rules::Exp.value_and_deriv(x)));
        assert_eq!(d1(x, Float::sin), r(&|x| rules::Sin.value_and_deriv(x)));
        assert_eq!(d1(x, Float::cos), r(&|x| rules::Cos.value_and_deriv(x)));
        assert_eq!(d1(x, Float::tanh), r(&|x| rules::Tanh.value_and_deriv(x)));
        assert_eq!(
            d1(x, Dual::sigmoid),
            r(&|x| rules::Sigmoid.value_and_deriv(x))
        );
        assert_eq!(d1(x, Dual::relu), r(&|x| rules::Relu.value_and_deriv(x)));
        assert_eq!(d1(x, Float::abs), r(&|x| rules::Abs.value_and_deriv(x)));
        assert_eq!(
            d1(x, |d| d.powi(3)),
            r(&|x| rules::Powi { n: 3 }.value_and_deriv(x))
        );
        assert_eq!(
            d1(x, |d| d * lit(3.0)),
            r(&|x| rules::Scale { c: lit(3.0) }.value_and_deriv(x))
        );
        assert_eq!(
            d1(x, |d| d + lit(3.0)),
            r(&|x| rules::Offset { c: lit(3.0) }.value_and_deriv(x))
        );
        if x != T::zero() {
            assert_eq!(d1(x, Float::recip), r(&|x| rules::Recip.value_and_deriv(x)));
            assert_eq!(
                d1(x, |d| d.powi(-2)),
                r(&|x| rules::Powi { n: -2 }.value_and_deriv(x))
            );
        }
        if x > T::zero() {
            assert_eq!(d1(x, Float::ln), r(&|x| rules::Ln.value_and_deriv(x)));
            assert_eq!(d1(x, Float::sqrt), r(&|x| rules::Sqrt.value_and_deriv(x)));
            let p = lit(2.5);
            let (y, d) = d1(x, |d| d.powf(Dual::constant(p)));
            assert_eq!((y, d), rules::Powf { p }.value_and_deriv(x));
        }
        // Binary ops: ∂/∂a from the rule's partials.
        let b = lit(1.25);
        for (y, (v, (pa, _))) in [
            (
                d1(x, |a| a * Dual::constant(b)),
                (x * b, rules::Mul.partials(x, b, x * b)),
            ),
            (
                d1(x, |a| a / Dual::constant(b)),
                (x / b, rules::Div.partials(x, b, x / b)),
            ),
            (
                d1(x, |a| a - Dual::constant(b)),
                (x - b, rules::Sub.partials(x, b, x - b)),
            ),
        ] {
            assert_eq!(y, (v, pa));
        }
    }
}

/// The tape's gradient of `Σ op(x)` against the dual's tangent: equal up to
/// the SIMD lanes' polynomial approximations (the tail runs the same rule).
fn tape_and_duals_agree_on_every_core_op<T: Real>() {
    let n = 2 * T::LANES + 3;
    let xs: Vec<T> = (0..n).map(|i| T::lit(0.2 + 0.37 * i as f64)).collect();
    type Op<T> = (
        &'static str,
        fn(Var<'_, T>) -> Var<'_, T>,
        fn(Dual<T>) -> Dual<T>,
    );
    let ops: [Op<T>; 12] = [
        ("exp", |x| x.exp(), |d| d.exp()),
        ("ln", |x| x.ln(), |d| d.ln()),
        ("sqrt", |x| x.sqrt(), |d| d.sqrt()),
        ("sin", |x| x.sin(), |d| d.sin()),
        ("cos", |x| x.cos(), |d| d.cos()),
        ("tanh", |x| x.tanh(), |d| d.tanh()),
        ("sigmoid", |x| x.sigmoid(), |d| d.sigmoid()),
        (
            "abs",
            |x| (x - T::lit(1.0)).abs(),
            |d| (d - T::lit(1.0)).abs(),
        ),
        ("recip", |x| x.recip(), |d| d.recip()),
        ("powi", |x| x.powi(3), |d| d.powi(3)),
        (
            "powf",
            |x| x.powf(T::lit(1.5)),
            |d| d.powf(Dual::constant(T::lit(1.5))),
        ),
        ("pow", |x| x.pow(x), |d| d.powf(d)),
    ];
    let tol = T::lit(64.0) * T::epsilon();
    for (name, on_tape, on_dual) in ops {
        let tape = Tape::new();
        let x = tape.var(&xs);
        let g = on_tape(x).sum().backward();
        for (i, &xi) in xs.iter().enumerate() {
            let d = on_dual(Dual::variable(xi)).eps;
            let err = Float::abs(g.wrt(x)[i] - d) / Float::max(T::one(), Float::abs(d));
            assert!(
                err <= tol,
                "{name} at x[{i}] = {xi}: tape {} vs dual {d}",
                g.wrt(x)[i]
            );
        }
    }
}

fn lane_wide_duals_carry_lanes_directions_in_one_pass<T: Real>() {
    let n = T::LANES;
    let xs: Vec<T> = (0..n).map(|i| T::lit(0.3 + 0.1 * i as f64)).collect();
    // f(x) = Σ sin(xᵢ)·Πx: every lane seeds one xᵢ.
    let g = |x: &[DualVec<T>]| {
        let prod = x.iter().copied().product::<DualVec<T>>();
        x.iter().map(|&v| v.sin() * prod).sum::<DualVec<T>>()
    };
    let lanes: Vec<DualVec<T>> = (0..n)
        .map(|i| {
            let mut e = vec![T::zero(); n];
            e[i] = T::one();
            DualVec::<T>::from_lanes(xs[i], &e)
        })
        .collect();
    let all = g(&lanes).lanes();
    for (i, &lane) in all.iter().enumerate() {
        // The same derivative one direction at a time, with Dual<T>.
        let one: Vec<Dual<T>> = (0..n)
            .map(|j| Dual::new(xs[j], if i == j { T::one() } else { T::zero() }))
            .collect();
        let prod = one.iter().copied().product::<Dual<T>>();
        let d = one.iter().map(|&v| v.sin() * prod).sum::<Dual<T>>().eps;
        assert!(
            Float::abs(lane - d) <= T::lit(4.0) * T::epsilon() * Float::abs(d),
            "lane {i}"
        );
    }
}

fn tape_of_duals_gives_gradient_and_hvp_in_one_sweep<T: Real>() {
    // f(x) = Σ eˣ·x + 3·‖x‖²: ∇f = (1 + x)eˣ + 6x, H = diag((2 + x)eˣ + 6)
    let xs: Vec<T> = [0.5, -1.0, 2.0].map(T::lit).to_vec();
    let vs: Vec<T> = [1.0, 2.0, -1.0].map(T::lit).to_vec();
    let tape = Tape::<Dual<T>>::new();
    let seeds: Vec<Dual<T>> = xs.iter().zip(&vs).map(|(&x, &v)| Dual::new(x, v)).collect();
    let x = tape.var(&seeds);
    let three = Dual::constant(T::lit(3.0));
    let y = (x.exp() * x).sum() + three * x.norm().powi(2);
    let g = y.backward();
    for i in 0..3 {
        let (xi, e) = (xs[i], Float::exp(xs[i]));
        let grad = (T::one() + xi) * e + T::lit(6.0) * xi;
        let hv = ((T::lit(2.0) + xi) * e + T::lit(6.0)) * vs[i];
        let got = g.wrt(x)[i];
        let tol = T::lit(64.0) * T::epsilon();
        assert!(
            Float::abs(got.re - grad) <= tol * Float::abs(grad),
            "∇f[{i}]: {} vs {grad}",
            got.re
        );
        assert!(
            Float::abs(got.eps - hv) <= tol * Float::abs(hv),
            "Hv[{i}]: {} vs {hv}",
            got.eps
        );
    }
}

#[test]
fn plain_and_dual_constants_combine_with_vars_on_dual_tapes() {
    let tape = Tape::<Dual64>::new();
    let x = tape.var(&[Dual64::new(2.0, 1.0)]);
    let c = Dual64::new(3.0, 0.5); // a constant with its own tangent: d(c·x) = ċ·x + c·ẋ
    for (y, want) in [
        (c * x, Dual64::new(6.0, 4.0)),
        (c + x, Dual64::new(5.0, 1.5)),
        (c - x, Dual64::new(1.0, -0.5)),
        (c / x, Dual64::new(1.5, (0.5 * 2.0 - 3.0) / 4.0)),
        (3.0 * x - 1.0, Dual64::new(5.0, 3.0)),
        (1.0 - x / 2.0 + 4.0, Dual64::new(4.0, -0.5)),
        (8.0 / x * 0.5, Dual64::new(2.0, -1.0)),
    ] {
        assert_eq!((y.item().re, y.item().eps), (want.re, want.eps));
    }
}
