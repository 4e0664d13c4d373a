//! `Dual` as a `num_traits::Float`: user code written once against `Float`,
//! the functions beyond the core op set, the edges, comparisons and
//! conversions, and `Float` code on duals against the tape.

use dualtape::func::many;
use dualtape::{Dual64, DualVec, Real, Var};
use num_traits::{Float, NumCast, ToPrimitive, Zero};
use proptest::prelude::*;

/// User code written once against `Float`.
fn f<S: Float>(x: &[S]) -> S {
    let two = S::from(2.0).unwrap();
    (x[0] * x[1]).sin() + x[1].exp() / two + x[0].powi(3).atan2(x[1]) - x[0].hypot(x[1]).ln()
}

#[test]
fn float_code_is_differentiated_by_calling_it_with_duals() {
    let (a, b) = (0.7, 1.3);
    let dfa = Float::cos(a * b) * b + 3.0 * a * a * b / (a.powi(6) + b * b) - a / (a * a + b * b);
    let dfb = Float::cos(a * b) * a + b.exp() / 2.0
        - a.powi(3) / (a.powi(6) + b * b)
        - b / (a * a + b * b);
    let ya = f(&[Dual64::variable(a), Dual64::constant(b)]);
    let yb = f(&[Dual64::constant(a), Dual64::variable(b)]);
    assert_eq!(ya.re, f(&[a, b]));
    assert!((ya.eps - dfa).abs() < 1e-14, "{} vs {dfa}", ya.eps);
    assert!((yb.eps - dfb).abs() < 1e-14, "{} vs {dfb}", yb.eps);
    // Both directions in one lane-wide pass.
    let y = f(&[
        DualVec::<f64>::from_lanes(a, &[1., 0., 0., 0.]),
        DualVec::from_lanes(b, &[0., 1., 0., 0.]),
    ]);
    assert_eq!(y.lanes(), [ya.eps, yb.eps, 0.0, 0.0]);
}

#[test]
fn functions_beyond_the_core_set_have_their_stated_derivatives() {
    type F = fn(Dual64) -> Dual64;
    let x = 0.4;
    let cases: [(&str, F, f64); 19] = [
        ("exp2", |d| d.exp2(), 2f64.powf(x) * 2f64.ln()),
        ("exp_m1", |d| d.exp_m1(), x.exp()),
        ("ln_1p", |d| d.ln_1p(), 1.0 / (1.0 + x)),
        ("log2", |d| d.log2(), 1.0 / (x * 2f64.ln())),
        ("log10", |d| d.log10(), 1.0 / (x * 10f64.ln())),
        (
            "log",
            |d| d.log(Dual64::constant(3.0)),
            1.0 / (x * 3f64.ln()),
        ),
        ("cbrt", |d| d.cbrt(), 1.0 / (3.0 * x.cbrt().powi(2))),
        ("tan", |d| d.tan(), 1.0 / x.cos().powi(2)),
        ("asin", |d| d.asin(), 1.0 / (1.0 - x * x).sqrt()),
        ("acos", |d| d.acos(), -1.0 / (1.0 - x * x).sqrt()),
        ("atan", |d| d.atan(), 1.0 / (1.0 + x * x)),
        ("sinh", |d| d.sinh(), x.cosh()),
        ("cosh", |d| d.cosh(), x.sinh()),
        ("asinh", |d| d.asinh(), 1.0 / (x * x + 1.0).sqrt()),
        (
            "acosh",
            |d| (d + 1.0).acosh(),
            1.0 / ((x + 1.0).powi(2) - 1.0).sqrt(),
        ),
        ("atanh", |d| d.atanh(), 1.0 / (1.0 - x * x)),
        (
            "hypot",
            |d| d.hypot(Dual64::constant(0.3)),
            x / x.hypot(0.3),
        ),
        (
            "atan2",
            |d| d.atan2(Dual64::constant(0.3)),
            0.3 / (x * x + 0.09),
        ),
        ("mul_add", |d| d.mul_add(d, Dual64::constant(1.0)), 2.0 * x),
    ];
    let h = 1e-6;
    for (name, op, want) in cases {
        let y = op(Dual64::variable(x));
        let fd = (op(Dual64::constant(x + h)).re - op(Dual64::constant(x - h)).re) / (2.0 * h);
        assert!(
            (y.eps - want).abs() <= 1e-14 * want.abs().max(1.0),
            "{name}: {} vs {want}",
            y.eps
        );
        assert!(
            (y.eps - fd).abs() <= 1e-8 * want.abs().max(1.0),
            "{name}: {} vs central difference {fd}",
            y.eps
        );
    }
    // Piecewise-constant functions have derivative 0, fract 1, % the rule a − trunc(a/b)·b.
    let v = Dual64::variable(2.7);
    for y in [v.floor(), v.ceil(), v.round(), v.trunc(), v.signum()] {
        assert_eq!(y.eps, 0.0);
    }
    assert_eq!(v.fract().eps, 1.0);
    assert_eq!((v % Dual64::variable(1.0)).eps, 1.0 - 2.0);
    assert!((v.to_degrees().eps - 180.0 / std::f64::consts::PI).abs() < 1e-13);
}

#[test]
fn edges_follow_pytorch() {
    let zero = Dual64::variable(0.0);
    assert_eq!(zero.abs().eps, 0.0); // |x|' at 0 is 0
    assert_eq!(zero.relu().eps, 0.0);
    assert_eq!(zero.sqrt().eps, f64::INFINITY);
    // A constant exponent keeps the tangent finite at a negative base: d x² = 2x.
    assert_eq!(Dual64::variable(-3.0).powf(Dual64::constant(2.0)).eps, -6.0);
    // d(aᵇ)/db = aᵇ·ln a, 0 where a = 0.
    let y = Dual64::constant(0.0).powf(Dual64::variable(2.0));
    assert_eq!((y.re, y.eps), (0.0, 0.0));
    // Ties in max/min share the tangent, as torch.maximum shares the gradient.
    let (a, b) = (Dual64::new(1.0, 2.0), Dual64::new(1.0, 4.0));
    assert_eq!((a.max(b).eps, a.min(b).eps), (3.0, 3.0));
    assert_eq!(a.max(Dual64::nan()), a);
    assert_eq!(zero.hypot(zero).eps, 0.0);
    assert!(zero.atan2(zero).eps.is_nan());
    assert!(Dual64::nan().exp().re.is_nan());
}

#[test]
fn comparisons_and_conversions_use_the_value() {
    let (a, b) = (Dual64::new(2.0, 1.0), Dual64::new(2.0, -5.0));
    assert!(a == b && a.partial_cmp(&b) == Some(std::cmp::Ordering::Equal) && a <= b);
    assert!(Dual64::new(0.0, 3.0).is_zero());
    assert_eq!(<Dual64 as NumCast>::from(3u8), Some(Dual64::constant(3.0)));
    assert_eq!(a.to_f64(), Some(2.0));
    assert_eq!(Dual64::default(), Dual64::zero());
    let c: Dual64 = 1.5.into();
    assert_eq!((c.re, c.eps), (1.5, 0.0));
    assert_eq!(format!("{a}"), "2 + 1.0ε");
    let xs = [
        Dual64::new(1.0, 1.0),
        Dual64::new(2.0, 0.5),
        Dual64::new(3.0, 0.0),
    ];
    let (s, p): (Dual64, Dual64) = (xs.iter().copied().sum(), xs.iter().copied().product());
    assert_eq!((s.re, s.eps, p.re, p.eps), (6.0, 1.5, 6.0, 7.5)); // d(xyz) = yz·dx + xz·dy + xy·dz
    let mut c = Dual64::variable(1.0);
    c *= Dual64::variable(3.0);
    c += 2.0;
    c /= 2.0;
    assert_eq!((c.re, c.eps), (2.5, 2.0)); // (x·y + 2)/2 at x = 1, y = 3 with dx = dy = 1
    assert_eq!((2.0 - Dual64::variable(5.0)).eps, -1.0);
    assert_eq!((10.0 / Dual64::variable(5.0)).eps, -0.4);
}

/// `f` on the tape, over two length-1 inputs.
fn f_on_tape<'t, S: Real>(v: &[Var<'t, S>]) -> Var<'t, S> {
    let (p, q) = (v[0], v[1]);
    let half = S::lit(0.5);
    (p * q).sin() + q.exp() * half + atan2_var(p.powi(3), q) - (p * p + q * q).sqrt().ln()
}

/// `atan2(y, x)`: not an op of the tape, so a custom op stating its gradient,
/// `(x·ḡ, −y·ḡ)/(x² + y²)`; its value on duals comes from `Dual`'s `atan2`.
fn atan2_var<'t, S: Real>(y: Var<'t, S>, x: Var<'t, S>) -> Var<'t, S> {
    let value = Float::atan2(y.item(), x.item());
    y.tape().custom(&[y, x], &[value], |cx| {
        let (y, x, g) = (cx.input(0)[0], cx.input(1)[0], cx.grad_output()[0]);
        let r2 = x * x + y * y;
        cx.grad_input_mut(0)[0] = g * x / r2;
        cx.grad_input_mut(1)[0] = -(g * y / r2);
    })
}

proptest! {
    /// `f` written once against `Float`: its dual tangent is the tape's ∇f·v
    /// (reverse, on f64) and the tape-of-duals' J·v (the rules run on duals).
    #[test]
    fn dual_results_agree_with_the_tape(
        a in -2.0..2.0f64, b in 0.5..2.0f64, va in -1.0..1.0f64, vb in -1.0..1.0f64,
    ) {
        let y = f(&[Dual64::new(a, va), Dual64::new(b, vb)]);
        let (value, g) = many::value_and_grad(f_on_tape, &[&[a], &[b]]);
        prop_assert!((value - y.re).abs() <= 1e-15 * y.re.abs().max(1.0), "{value} vs {}", y.re);
        let dir = g[0] * va + g[1] * vb;
        prop_assert!((y.eps - dir).abs() <= 1e-12 * dir.abs().max(1.0), "{} vs {dir}", y.eps);
        let jv = many::jvp(f_on_tape, &[&[a], &[b]], &[va, vb]);
        prop_assert!((y.eps - jv[0]).abs() <= 1e-13 * dir.abs().max(1.0), "{} vs {}", y.eps, jv[0]);
    }
}
