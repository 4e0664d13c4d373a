//! The three cases of the PyTorch autograd notebook dualtape grew from
//! (`shared/seed/torch-autograd-notebook.txt`), each printed beside the
//! notebook's exact-formula check.
//!
//! Run with `cargo run --release --example seed`.

use dualtape::Tape;

fn main() {
    let tape = Tape::<f64>::new();
    let arange = |n: usize| (0..n).map(|i| i as f64).collect::<Vec<_>>();

    // Case 1: R^n → R, y = ‖x‖, dy/dx = x/‖x‖.
    let xs = arange(10);
    let x = tape.var(&xs);
    let y = x.norm();
    let g = y.backward();
    let norm = xs.iter().map(|v| v * v).sum::<f64>().sqrt();
    let exact: Vec<f64> = xs.iter().map(|v| v / norm).collect();
    println!("Case 1: y = ‖x‖, x = 0..9");
    println!("  y             = {:.4}   (notebook: 16.8819)", y.item());
    println!("  x.grad        = {}", fmt(g.wrt(x), 4));
    println!("  exact x/‖x‖   = {}", fmt(&exact, 8));
    drop(g);

    // Case 2: R^n → R^n, y = x², backward(ones) gives 2x.
    let x = tape.var(&xs);
    let y2 = x.powi(2);
    let g = y2.backward_with(&[1.0; 10]);
    let exact: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
    println!("\nCase 2: y = x**2, y.backward(ones(10))");
    println!("  x.grad        = {}", fmt(g.wrt(x), 0));
    println!("  exact 2x      = {}", fmt(&exact, 0));
    drop(g);

    // Example: Q = 3a³ − b², Jᵀ·1 = (9a², −2b).
    let a = tape.var(&arange(4));
    let b = tape.var(&[0.0, 4.0, 8.0, 12.0]);
    let q = 3.0 * a.powi(3) - b.powi(2);
    println!("\nExample: Q = 3a³ − b², a = [0,1,2,3], b = [0,4,8,12]");
    println!("  Q             = {}", fmt(&q.value(), 0));
    let g = q.backward_with(&[1.0; 4]);
    let exact_a: Vec<f64> = a.value().iter().map(|v| 9.0 * v * v).collect();
    let exact_b: Vec<f64> = b.value().iter().map(|v| -2.0 * v).collect();
    println!("  a.grad        = {}", fmt(g.wrt(a), 0));
    println!("  exact 9a²     = {}", fmt(&exact_a, 0));
    println!("  b.grad        = {}", fmt(g.wrt(b), 0));
    println!("  exact −2b     = {}", fmt(&exact_b, 0));
}

fn fmt(v: &[f64], decimals: usize) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.decimals$}")).collect();
    format!("[{}]", items.join(", "))
}
