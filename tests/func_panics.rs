//! Every panic of `dualtape::func`: empty input, a tangent, direction or
//! cotangent of the wrong length, a non-scalar output where a scalar is
//! needed, a closure returning a `Var` of another tape. Each message names
//! the function and the lengths.

use dualtape::func::{self, many};
use dualtape::{Real, Tape, Var};

#[test]
#[should_panic(expected = "dualtape: grad: input 0 is empty (0 elements)")]
fn grad_of_empty_input_panics() {
    func::grad(|x: Var<'_, f64>| x.sum(), &[]);
}

#[test]
#[should_panic(expected = "dualtape: hessian: input 0 is empty (0 elements)")]
fn hessian_of_empty_input_panics() {
    func::hessian(|x| x.sum(), &[] as &[f64]);
}

#[test]
#[should_panic(expected = "dualtape: jacobian_fwd: input 1 is empty (0 elements)")]
fn many_with_an_empty_input_panics() {
    many::jacobian_fwd(|v| v[0] + v[1], &[&[1.0], &[]]);
}

#[test]
#[should_panic(expected = "dualtape: vjp: no inputs given (the slice of inputs is empty)")]
fn many_with_no_inputs_panics() {
    many::vjp(|v: &[Var<'_, f64>]| v[0], &[], &[1.0]);
}

#[test]
#[should_panic(
    expected = "dualtape: jvp: the tangent v has 2 elements, the input has 3; they must match"
)]
fn jvp_with_a_short_tangent_panics() {
    func::jvp(|x| x.sin(), &[1.0, 2.0, 3.0], &[1.0, 0.0]);
}

#[test]
#[should_panic(
    expected = "dualtape: hvp: the vector v has 4 elements, the input has 3; they must match"
)]
fn hvp_with_a_long_direction_panics() {
    func::hvp(|x| x.sum(), &[1.0, 2.0, 3.0], &[1.0; 4]);
}

#[test]
#[should_panic(
    expected = "dualtape: vjp: the cotangent u has 3 elements, the output f(x) has 1; they must match"
)]
fn vjp_with_a_cotangent_of_the_wrong_length_panics() {
    func::vjp(|x| x.norm(), &[1.0, 2.0, 3.0], &[1.0; 3]);
}

#[test]
#[should_panic(
    expected = "dualtape: grad: f(x) has 2 elements; grad needs a scalar output (1 element)"
)]
fn grad_of_a_vector_panics() {
    func::grad(|x| x * 2.0, &[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "dualtape: hessian: f(x) has 2 elements; hessian needs a scalar output")]
fn hessian_of_a_vector_panics() {
    func::hessian(|x| x.exp(), &[1.0, 2.0]);
}

/// A tape that lives forever, so a closure can (wrongly) return its `Var`s.
fn leaked<T: Real>() -> &'static Tape<T> {
    Box::leak(Box::new(Tape::new()))
}

#[test]
#[should_panic(expected = "dualtape: grad: the closure returned a Var of another tape")]
fn grad_of_a_closure_returning_another_tapes_var_panics() {
    let other = leaked::<f64>().var(&[1.0]);
    func::grad(|_x| other, &[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "dualtape: jacobian: the closure returned a Var of another tape")]
fn jacobian_of_a_closure_returning_another_tapes_var_panics() {
    let other = leaked::<dualtape::DualVec64>().var(&[dualtape::DualVec64::constant(1.0)]);
    func::jacobian(|_x| other, &[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "dualtape: hvp: the closure returned a Var of another tape")]
fn hvp_of_a_closure_returning_another_tapes_var_panics() {
    let other = leaked::<dualtape::Dual64>().var(&[dualtape::Dual64::constant(1.0)]);
    func::hvp(|_x| other, &[1.0, 2.0], &[0.0, 1.0]);
}
