//! Helpers shared by the bench files: scalar types and their `wide` lanes,
//! input data, criterion settings by size, the seed workloads (W1–W4) on the
//! tape and as hand-written baselines, and the check that the two agree.
//!
//! Each bench file includes this with `mod common;` and uses a part of it.

pub mod check;
pub mod config;
pub mod data;
pub mod lanes;
pub mod loops;
pub mod seed;

pub use lanes::Scalar;
