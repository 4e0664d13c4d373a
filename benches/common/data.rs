//! Deterministic inputs: the same numbers on every run, no `rand` dependency.

use super::lanes::Scalar;

/// `n` values uniform in `[lo, hi)`, from a SplitMix64 stream started at `seed`.
pub fn uniform<T: Scalar>(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<T> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = (z >> 11) as f64 / (1u64 << 53) as f64;
            T::lit(lo + (hi - lo) * u)
        })
        .collect()
}

/// `n` ones: the seed of `backward_with` in the workloads that take one.
pub fn ones<T: Scalar>(n: usize) -> Vec<T> {
    vec![T::one(); n]
}
