//! # dualtape
//!
//! Automatic differentiation of vector code on the CPU, built for throughput:
//! reverse mode over a compact arena tape, forward mode with dual numbers, and
//! one SIMD kernel layer (on `wide` lanes, chunked on rayon for large vectors)
//! under both.
//!
//! The behaviour follows PyTorch autograd. The notebook the project grew from,
//! in dualtape:
//!
//! ```
//! use dualtape::Tape;
//!
//! let tape = Tape::<f64>::new();
//!
//! // Case 1: y = ‖x‖ for x = 0..9; dy/dx = x/‖x‖.
//! let x = tape.var(&[0., 1., 2., 3., 4., 5., 6., 7., 8., 9.]);
//! let y = x.norm();
//! assert!((y.item() - 16.8819).abs() < 1e-4);
//! let g = y.backward();
//! assert!((g.wrt(x)[1] - 0.05923489).abs() < 1e-8);
//! drop(g);
//!
//! // Case 2: y = x², y.backward(ones) gives 2x.
//! let g = (x * x).backward_with(&[1.0; 10]);
//! assert_eq!(g.wrt(x)[9], 18.0);
//! drop(g);
//!
//! // Q = 3a³ − b² and its Jacobian-transpose product with ones: (9a², −2b).
//! let a = tape.var(&[0., 1., 2., 3.]);
//! let b = tape.var(&[0., 4., 8., 12.]);
//! let q = 3.0 * a.powi(3) - b.powi(2);
//! assert_eq!(*q.value(), [0., -13., -40., -63.]);
//! let g = q.backward_with(&[1.0; 4]);
//! assert_eq!(g.wrt(a), [0., 9., 36., 81.]);
//! assert_eq!(g.wrt(b), [-0., -8., -16., -24.]);
//! ```
//!
//! ## What it is, and is not, for
//!
//! For gradients, vector-Jacobian products, Jacobian-vector products,
//! Jacobians and Hessian-vector products of numeric code on 1-D vectors of
//! `f32` or `f64`: optimisation objectives, scientific models, small learning
//! models. It is not a tensor library: values are 1-D slices (a scalar is a
//! vector of length 1, which broadcasts against any length), there is no
//! matrix multiply, no GPU, and no higher-rank shapes.
//!
//! ## How it works
//!
//! - [`Tape`] is an arena: nodes are small plain structs addressed by `u32`
//!   ids, every output a span of one value buffer; [`Var`] is a `Copy` handle
//!   (tape reference + id). Ops run as they are recorded (eager), except
//!   that elementwise ops on long vectors (from 2048 `f64`, 4096 `f32`) are
//!   deferred and run together, block by block, when a value is needed
//!   ([`Tape::set_fusion`]): a chain of them then streams its data through
//!   memory once per pass instead of once per op, and only the values
//!   something reads next reach memory (the others are recomputed if asked
//!   for). The bits are the same either way.
//! - [`Var::backward`] sweeps the nodes from the output down, one fused
//!   kernel per node (a run of long elementwise nodes block by block); a
//!   node's first adjoint contribution is written, later ones added, so
//!   nothing is zero-filled. As in PyTorch, gradients are kept for leaves
//!   ([`Tape::var`]) and for intermediates marked with [`Var::retain_grad`];
//!   a fused run holds the other adjoints in block-local scratch only.
//!   [`Tape::clear`] keeps every buffer: evaluating the same gradient again
//!   allocates nothing.
//! - [`Var::map`] and [`Var::map2`] record an elementwise closure as one
//!   node: the closure is plain arithmetic on [`Elem`] (SIMD lanes carrying
//!   their derivatives, forward mode), compiled by rustc into one kernel that
//!   computes the values and the local derivatives in one pass; the sweep
//!   multiplies those by the adjoint. A chain of ten functions then costs one
//!   node instead of ten: the fast way to write elementwise code, on short
//!   vectors above all, where every recorded op is a fixed cost.
//! - Each elementary function's value and derivative is stated once, in
//!   [`rules`], generic over [`Math`]; the scalar reference kernels, the SIMD
//!   kernels, forward mode and [`Elem`] all run that one statement.
//! - [`kernels`] is the only code that loops over data. Vectors of at least
//!   [`kernels::PAR_MIN_LEN`] elements (compute-bound kernels) or
//!   [`kernels::PAR_MIN_LEN_LIGHT`] (memory-bound ones) are split on rayon at fixed
//!   [`kernels::CHUNK`] boundaries, and sums combine per-chunk partials in a
//!   fixed order: results are bitwise identical on any number of threads.
//!   [`Tape::set_par`] chooses sequential or rayon; run inside
//!   `pool.install(..)` to pick the pool.
//!
//! ## Semantics at the edges
//!
//! Values and gradients follow IEEE 754 (NaN in, NaN out) and, at
//! non-differentiable points, PyTorch 2.x:
//!
//! | op | point | value | gradient |
//! |---|---|---|---|
//! | `x.norm()` | `x = 0` | 0 | 0 (not NaN) |
//! | `x.norm()` | elements near 1e±200 | exact (scaled sum, no overflow/underflow) | `x/‖x‖` |
//! | `x.abs()` | `x = 0` | 0 | 0 |
//! | `x.relu()` | `x = 0` | 0 | 0 |
//! | `x.sqrt()` | `x = 0` | 0 | +inf |
//! | `x.powf(p)` | `x = 0`, `p = 0` | 1 | 0 |
//! | `x.powf(p)` | `x = 0`, `0 < p < 1` | 0 | +inf |
//! | `x.powi(0)` | any `x` | 1 | 0 |
//! | `x.pow(e)` | `x = 0` | `0ᵉ` | exponent's gradient 0 |
//! | `x.ln()` | `x = 0` | −inf | +inf |
//! | `x.recip()` | `x = 0` | +inf | −inf |
//! | `x.sigmoid()`, `x.tanh()` | large `|x|` | saturates to 0/1, ±1 | 0, never NaN |
//! | `x.max()`, `x.min()` | ties | the extremum | shared equally among the ties |
//! | `x.mean()` | empty `x` | NaN | — |
//! | `x.map(f)`, `a.map2(b, f)` | a derivative exactly 0 before an infinite one | as the ops | 0, as forward mode (the ops one by one: NaN) |
//!
//! ## Errors
//!
//! Arithmetic is infallible, so expressions read like the math. Programmer
//! errors panic at the caller's line with a message naming the op and the
//! lengths involved: lengths that differ with neither being 1, a seed of the
//! wrong length, [`Var::backward`] on a vector, a [`Var`] of another tape,
//! reading the gradient of a constant or of an intermediate not marked with
//! [`Var::retain_grad`]. Misuse the types can stop does not compile: a [`Var`]
//! cannot outlive its tape, survive [`Tape::clear`], or cross threads.
//!
//! ## Build settings
//!
//! `wide` chooses its instructions when it is compiled: without AVX2 enabled,
//! `f64x4` runs as two SSE2 halves. Build with `-C target-cpu=native` (this
//! repository's `.cargo/config.toml` does) to get full-width lanes;
//! [`AVX2_ENABLED`] and [`lane_name`] report what a build uses.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
pub mod dual;
mod elem;
pub mod func;
pub mod guarantees;
pub mod kernels;
pub mod real;
pub mod rules;
pub mod tape;
pub use dual::{Dual, Dual32, Dual64, DualVec, DualVec32, DualVec64};
pub use elem::Elem;
pub use kernels::Par;
pub use real::{AVX2_ENABLED, Math, Real, lane_name};
pub use tape::{CustomBackward, Grads, NodeId, Tape, ValueRef, Var};

/// The README's code, run as doc tests, so that what a new user reads first
/// compiles and runs.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
