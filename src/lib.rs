//! dualtape (docs to come)
#![warn(missing_docs)]
pub mod kernels;
pub mod real;
pub mod rules;
pub mod tape;
pub use kernels::Par;
pub use real::{Math, Real};
pub use tape::{CustomBackward, Grads, Tape, Var};
