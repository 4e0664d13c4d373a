//! Every number the PyTorch notebook (`shared/seed/torch-autograd-notebook.txt`)
//! shows, out of dualtape.

use dualtape::Tape;

fn arange(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Rounds to `d` decimals, as the notebook prints.
fn round(v: f64, d: i32) -> f64 {
    let s = 10f64.powi(d);
    (v * s).round() / s
}

#[test]
fn case1_norm_value_and_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&arange(10));
    let y = x.norm();
    // y = tensor(16.8819): √(Σ i², i < 10) = √285
    assert_eq!(round(y.item(), 4), 16.8819);
    assert_eq!(y.item(), 285f64.sqrt());
    let g = y.backward();
    // torch prints 4 decimals; numpy's exact check x/‖x‖ prints 8.
    let torch = [
        0.0000, 0.0592, 0.1185, 0.1777, 0.2369, 0.2962, 0.3554, 0.4146, 0.4739, 0.5331,
    ];
    let numpy = [
        0., 0.05923489, 0.11846978, 0.17770466, 0.23693955, 0.29617444, 0.35540933, 0.41464421,
        0.4738791, 0.53311399,
    ];
    for i in 0..10 {
        assert_eq!(round(g.wrt(x)[i], 4), torch[i], "element {i}");
        assert_eq!(round(g.wrt(x)[i], 8), numpy[i], "element {i}");
        // d‖x‖/dxᵢ = xᵢ/‖x‖
        assert_eq!(g.wrt(x)[i], i as f64 / 285f64.sqrt());
    }
}

#[test]
fn case2_square_backward_with_ones() {
    let tape = Tape::<f64>::new();
    let x = tape.var(&arange(10));
    let expected = [0., 2., 4., 6., 8., 10., 12., 14., 16., 18.]; // 2x
    // The notebook writes x**2; the same gradient comes from x*x.
    let g = x.powi(2).backward_with(&[1.0; 10]);
    assert_eq!(g.wrt(x), expected);
    drop(g);
    let g = (x * x).backward_with(&[1.0; 10]);
    assert_eq!(g.wrt(x), expected);
}

#[test]
fn example_q_jacobian_transpose_product() {
    let tape = Tape::<f64>::new();
    let a = tape.var(&arange(4));
    let b = tape.var(&[0., 4., 8., 12.]);
    assert_eq!(*b.value(), [0., 4., 8., 12.]);
    let q = 3.0 * a.powi(3) - b.powi(2);
    assert_eq!(*q.value(), [0., -13., -40., -63.]);
    let g = q.backward_with(&[1.0; 4]);
    assert_eq!(g.wrt(a), [0., 9., 36., 81.]); // 9a²
    assert_eq!(g.wrt(b), [-0., -8., -16., -24.]); // −2b
    // torch prints -0. for b.grad[0]: the sign of zero comes out too.
    assert!(g.wrt(b)[0].is_sign_negative());
}
