//! Fuzz target: any bytes decode to a program of tape ops over inputs of
//! 0..=300 elements (zeros, ±inf, NaN, subnormals, huge and tiny values);
//! the program runs on `Tape<f64>` and `Tape<f32>`, and every node's value
//! and adjoint is held to the scalar reference. A disagreement panics.
//!
//! Replay an artifact through the ordinary test build:
//! `PROGRAM_FILE=fuzz/artifacts/program/crash-… cargo test --release --test program replay -- --ignored --nocapture`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/program/mod.rs"]
mod program;

fuzz_target!(|data: &[u8]| program::run::check_bytes(data));
