//! Custom ops (`Tape::custom`) under every function of `dualtape::func`, and
//! gradcheck catching a wrong custom rule.

mod common;

use common::assert_close;
use dualtape::func;
use dualtape::{Real, Var};
use num_traits::Float;

/// `x³` elementwise as a custom op whose backward rule is `3x²·ḡ`, except at
/// element `wrong`, where it is `2x²·ḡ` (a deliberately broken rule).
fn cube<'t, S: Real>(x: Var<'t, S>, wrong: Option<usize>) -> Var<'t, S> {
    let out: Vec<S> = x.value().iter().map(|&v| v * v * v).collect();
    x.tape().custom(&[x], &out, move |cx| {
        let (xs, g) = (cx.input(0).to_vec(), cx.grad_output().to_vec());
        for (i, d) in cx.grad_input_mut(0).iter_mut().enumerate() {
            let k = if Some(i) == wrong { 2.0 } else { 3.0 };
            *d = S::lit(k) * xs[i] * xs[i] * g[i];
        }
    })
}

#[test]
fn custom_ops_compose_with_every_function() {
    let x = [0.5, -1.0, 2.0, 1.5, -0.25];
    let c = |x: f64| x * x * x;
    // f(x) = Σ sin(x³): ∇f = 3x²·cos x³, H = diag(6x·cos x³ − 9x⁴·sin x³)
    let g_want: Vec<f64> = x.iter().map(|&v| 3.0 * v * v * c(v).cos()).collect();
    let h_diag: Vec<f64> = x
        .iter()
        .map(|&v| 6.0 * v * c(v).cos() - 9.0 * v.powi(4) * c(v).sin())
        .collect();
    let tol = 1e-13;
    assert_close(
        &func::grad(|x| cube(x, None).sin().sum(), &x),
        &g_want,
        tol,
        "grad",
    );
    let v = [1.0, 0.0, -1.0, 2.0, 0.5];
    let hv: Vec<f64> = h_diag.iter().zip(&v).map(|(h, v)| h * v).collect();
    assert_close(
        &func::hvp(|x| cube(x, None).sin().sum(), &x, &v),
        &hv,
        tol,
        "hvp",
    );
    let h = func::hessian(|x| cube(x, None).sin().sum(), &x);
    for i in 0..5 {
        for j in 0..5 {
            let want = if i == j { h_diag[i] } else { 0.0 };
            assert!(
                (h[(i, j)] - want).abs() <= tol * want.abs().max(1.0),
                "H[{i}][{j}]"
            );
        }
    }
    // J of x³ = diag(3x²) from all three Jacobians and jvp/vjp.
    let d: Vec<f64> = x.iter().map(|&v| 3.0 * v * v).collect();
    let rev = func::jacobian_rev(|x| cube(x, None), &x);
    let fwd = func::jacobian_fwd(|x| cube(x, None), &x);
    let auto = func::jacobian(|x| cube(x, None).sum(), &x);
    assert_eq!(rev, fwd);
    assert_close(auto.row(0), &d, tol, "auto, reverse");
    for i in 0..5 {
        assert_eq!(rev[(i, i)], d[i]);
    }
    assert_close(
        &func::jvp(|x| cube(x, None), &x, &v),
        &func::vjp(|x| cube(x, None), &x, &v),
        tol,
        "jvp = vjp on a diagonal J",
    );
    assert!(func::gradcheck(|x| cube(x, None).sin().sum(), &x).passed);
}

#[test]
fn gradcheck_names_the_element_of_a_wrong_custom_rule() {
    let x = [0.5, -1.0, 2.0, 1.5, -0.25];
    for wrong in 0..x.len() {
        let report = func::gradcheck(|x| cube(x, Some(wrong)).sum(), &x);
        assert!(!report.passed, "{report}");
        assert_eq!(report.worst.index, wrong, "{report}");
        // analytic 2x², numeric 3x² there.
        let v = x[wrong];
        assert_eq!(report.worst.analytic, 2.0 * v * v);
        assert!((report.worst.numeric - 3.0 * v * v).abs() < 1e-6);
        assert!(
            report
                .to_string()
                .contains(&format!("FAILED over 5 elements; worst is element {wrong}"))
        );
    }
    let ok = func::gradcheck(|x| cube(x, None).sum(), &x);
    assert!(ok.passed, "{ok}");
    ok.assert_passed();
    assert_eq!(ok.numeric.len(), 5);
}

#[test]
#[should_panic(expected = "dualtape: gradcheck failed: FAILED over 2 elements; worst is element 1")]
fn gradcheck_assert_passed_panics_with_the_report() {
    func::gradcheck(|x| cube(x, Some(1)).sum(), &[1.0, 2.0]).assert_passed();
}
