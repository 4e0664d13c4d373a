//! The functional API (`dualtape::func`): the notebook's Jacobian out of both
//! directions, Hessians against closed forms, pass counts, several inputs.
//! Custom ops and panics: `func_custom.rs`, `func_panics.rs`.

mod common;

use std::cell::Cell;

use common::assert_close;
use dualtape::func::{self, many};
use dualtape::{Real, Var};
use num_traits::Float;

/// A small deterministic generator (xorshift64*): random points without
/// a dependency, the same every run.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let u = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }
    fn vec<T: Real>(&mut self, n: usize, lo: f64, hi: f64) -> Vec<T> {
        (0..n).map(|_| T::lit(self.uniform(lo, hi))).collect()
    }
}

/// Runs a generic test body once for f32 and once for f64.
macro_rules! for_f32_f64 {
    ($($name:ident),* $(,)?) => {
        mod f32_ { $(#[test] fn $name() { super::$name::<f32>() })* }
        mod f64_ { $(#[test] fn $name() { super::$name::<f64>() })* }
    };
}

for_f32_f64!(
    hessian_of_norm_is_projector_over_norm,
    hessian_of_sum_of_cubes_is_diag_6x,
    forward_jacobian_takes_ceil_n_over_lanes_passes,
    auto_jacobian_picks_the_direction_by_shape,
    gradient_products_and_hvp_match_closed_forms,
);

/// Q = 3a³ − b² (the notebook's example), on two input vectors.
fn q<'t, S: Real>(v: &[Var<'t, S>]) -> Var<'t, S> {
    v[0].powi(3) * S::lit(3.0) - v[1].powi(2)
}

#[test]
fn notebook_q_jacobian_4x8_from_both_directions() {
    let (a, b) = ([0., 1., 2., 3.], [0., 4., 8., 12.]);
    // ∂Q/∂(a, b) = [diag(9a²) | diag(−2b)], columns a₀…a₃ then b₀…b₃.
    let mut expected = vec![vec![0.0; 8]; 4];
    for i in 0..4 {
        expected[i][i] = 9.0 * a[i] * a[i];
        expected[i][4 + i] = -2.0 * b[i];
    }
    let rev = many::jacobian_rev(q, &[&a, &b]);
    let fwd = many::jacobian_fwd(q, &[&a, &b]);
    let auto = many::jacobian(q, &[&a, &b]); // 4 outputs < 8 inputs: reverse
    assert_eq!(rev.to_rows(), expected);
    assert_eq!(fwd.to_rows(), expected);
    assert_eq!(auto.to_rows(), expected);
    // The notebook's JᵀV with V = ones: (9a², −2b), here as column sums.
    let ones: Vec<f64> = (0..8).map(|j| rev.col(j).iter().sum()).collect();
    assert_eq!(ones, [0., 9., 36., 81., -0., -8., -16., -24.]);
}

#[test]
fn notebook_q_jacobian_2x4_in_the_notebooks_column_order() {
    // The notebook orders the columns element-major, (a₁, b₁, a₂, b₂):
    //   J = [[9a₁², −2b₁, 0, 0], [0, 0, 9a₂², −2b₂]].
    // `many` orders them input-major, (a₁, a₂, b₁, b₂): column k of the
    // notebook is column NOTEBOOK[k] of ours.
    const NOTEBOOK: [usize; 4] = [0, 2, 1, 3];
    for (a, b) in [([1., 2.], [4., 8.]), ([2., 3.], [8., 12.])] {
        let expected = vec![
            vec![9.0 * a[0] * a[0], -2.0 * b[0], 0.0, 0.0],
            vec![0.0, 0.0, 9.0 * a[1] * a[1], -2.0 * b[1]],
        ];
        let rev = many::jacobian_rev(q, &[&a, &b]);
        let fwd = many::jacobian_fwd(q, &[&a, &b]);
        for j in [rev, fwd] {
            let reordered: Vec<Vec<f64>> = (0..2)
                .map(|i| NOTEBOOK.iter().map(|&c| j[(i, c)]).collect())
                .collect();
            assert_eq!(reordered, expected);
        }
    }
}

fn hessian_of_norm_is_projector_over_norm<T: Real>() {
    // H‖x‖ = (I − x·xᵀ/‖x‖²)/‖x‖
    let mut rng = Rng(7);
    let tol = T::lit(64.0) * T::epsilon();
    for n in [1, 2, 3, 5, 8, 9, 17] {
        let x: Vec<T> = rng.vec(n, -2.0, 2.0);
        let r = Float::sqrt(x.iter().fold(T::zero(), |s, &v| s + v * v));
        let h = func::hessian(|x| x.norm(), &x);
        let mut want = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let id = if i == j { T::one() } else { T::zero() };
                want.push((id - x[i] * x[j] / (r * r)) / r);
            }
        }
        assert_close(h.as_slice(), &want, tol, &format!("H‖x‖, n = {n}"));
    }
}

fn hessian_of_sum_of_cubes_is_diag_6x<T: Real>() {
    let mut rng = Rng(11);
    for n in [1, 4, 7, 8, 13] {
        let x: Vec<T> = rng.vec(n, -3.0, 3.0);
        let h = func::hessian(|x| x.powi(3).sum(), &x);
        for i in 0..n {
            for j in 0..n {
                // 6x = 3·(2x) exactly as the rules compute it: d(3x²)
                let want = if i == j {
                    T::lit(6.0) * x[i]
                } else {
                    T::zero()
                };
                let tol = T::lit(4.0) * T::epsilon() * Float::abs(want);
                assert!(
                    Float::abs(h[(i, j)] - want) <= tol,
                    "H[{i}][{j}] = {} vs {want}",
                    h[(i, j)]
                );
            }
        }
    }
}

fn forward_jacobian_takes_ceil_n_over_lanes_passes<T: Real>() {
    let passes = Cell::new(0);
    for n in [1, T::LANES - 1, T::LANES, T::LANES + 1, 9, 3 * T::LANES] {
        let x: Vec<T> = Rng(n as u64 + 1).vec(n, -1.0, 1.0);
        passes.set(0);
        let j = func::jacobian_fwd(
            |x| {
                passes.set(passes.get() + 1);
                x.sin() * x.sum()
            },
            &x,
        );
        assert_eq!(passes.get(), n.div_ceil(T::LANES), "n = {n}");
        assert_eq!((j.rows(), j.cols()), (n, n));
        passes.set(0);
        func::hessian(
            |x| {
                passes.set(passes.get() + 1);
                x.sin().sum()
            },
            &x,
        );
        assert_eq!(passes.get(), n.div_ceil(T::LANES), "hessian, n = {n}");
    }
    // 9 inputs: 3 passes of 4 f64 lanes, 2 of 8 f32 lanes.
    assert_eq!(9usize.div_ceil(T::LANES), if T::LANES == 4 { 3 } else { 2 });
}

fn auto_jacobian_picks_the_direction_by_shape<T: Real>() {
    let calls = Cell::new(0);
    let x: Vec<T> = Rng(3).vec(10, -1.0, 1.0);
    // 1 output < 10 inputs: reverse, a single recording.
    let j = func::jacobian(
        |x| {
            calls.set(calls.get() + 1);
            x.tanh().sum()
        },
        &x,
    );
    assert_eq!((calls.get(), j.rows()), (1, 1));
    let g = func::grad(|x| x.tanh().sum(), &x);
    assert_close(
        j.row(0),
        &g,
        T::lit(8.0) * T::epsilon(),
        "reverse row vs grad",
    );
    // 10 outputs ≥ 10 inputs: forward, after the recording that found m.
    calls.set(0);
    func::jacobian(
        |x| {
            calls.set(calls.get() + 1);
            x.tanh()
        },
        &x,
    );
    assert_eq!(calls.get(), 1 + 10usize.div_ceil(T::LANES));
}

fn gradient_products_and_hvp_match_closed_forms<T: Real>() {
    let x: Vec<T> = Rng(5).vec(6, 0.5, 2.0);
    let (u, v): (Vec<T>, Vec<T>) = (Rng(6).vec(6, -1.0, 1.0), Rng(8).vec(6, -1.0, 1.0));
    let tol = T::lit(16.0) * T::epsilon();
    // f(x) = Σ ln x: ∇f = 1/x, H = diag(−1/x²)
    let (y, g) = func::value_and_grad(|x| x.ln().sum(), &x);
    let sum_ln = x.iter().fold(T::zero(), |s, &v| s + Float::ln(v));
    assert!(Float::abs(y - sum_ln) <= tol * Float::abs(sum_ln).max(T::one()));
    assert_close(
        &g,
        &x.iter().map(|&v| v.recip()).collect::<Vec<_>>(),
        tol,
        "grad Σ ln x",
    );
    assert_eq!(func::grad(|x| x.ln().sum(), &x), g);
    let hv = func::hvp(|x| x.ln().sum(), &x, &v);
    let want: Vec<T> = x.iter().zip(&v).map(|(&x, &v)| -v / (x * x)).collect();
    assert_close(&hv, &want, tol, "hvp Σ ln x");
    // f(x) = eˣ elementwise: J = diag(eˣ), so uᵀJ and J·v are both (eˣ)ᵢ·(u or v)ᵢ.
    let e: Vec<T> = x.iter().map(|&v| Float::exp(v)).collect();
    let vjp = func::vjp(|x| x.exp(), &x, &u);
    let jvp = func::jvp(|x| x.exp(), &x, &v);
    let tol = T::lit(64.0) * T::epsilon();
    assert_close(
        &vjp,
        &e.iter().zip(&u).map(|(&e, &u)| e * u).collect::<Vec<_>>(),
        tol,
        "vjp",
    );
    assert_close(
        &jvp,
        &e.iter().zip(&v).map(|(&e, &v)| e * v).collect::<Vec<_>>(),
        tol,
        "jvp",
    );
}

/// f(a, b) = a·b + Σb²: ∇a = b, ∇b = a + 2b, H = [[0, I], [I, 2I]]
fn ab<'t, S: Real>(v: &[Var<'t, S>]) -> Var<'t, S> {
    v[0].dot(v[1]) + v[1].powi(2).sum()
}

#[test]
fn many_concatenates_gradients_in_input_order() {
    let (a, b) = ([1.0, 2.0], [3.0, 5.0]);
    let f = ab::<f64>;
    assert_eq!(many::grad(f, &[&a, &b]), [3.0, 5.0, 7.0, 12.0]);
    assert_eq!(many::value_and_grad(f, &[&a, &b]).0, 13.0 + 34.0);
    assert_eq!(
        many::vjp(|v| v[0] * v[1], &[&a, &b], &[1.0, 2.0]),
        [3.0, 10.0, 1.0, 4.0]
    );
    assert_eq!(
        many::jvp(|v| v[0] * v[1], &[&a, &b], &[1.0, 0.0, 0.0, 1.0]),
        [3.0, 2.0]
    );
    // H·e₀ = (0, 0, 1, 0)
    assert_eq!(
        many::hvp(ab, &[&a, &b], &[1.0, 0.0, 0.0, 0.0]),
        [0.0, 0.0, 1.0, 0.0]
    );
    let h = many::hessian(ab, &[&a, &b]);
    let want = [
        [0., 0., 1., 0.],
        [0., 0., 0., 1.],
        [1., 0., 2., 0.],
        [0., 1., 0., 2.],
    ];
    assert_eq!(h.to_rows(), want.map(|r| r.to_vec()).to_vec());
    assert!(many::gradcheck(f, &[&a, &b]).passed);
}
