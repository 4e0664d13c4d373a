//! Criterion settings by problem size, and the naming scheme.
//!
//! Every benchmark's id is `question/workload/type/n/impl` (for example
//! `seed/W1/f64/65536/ad`): the group is `question/workload/type`, the function
//! id `n/impl`. `benches/ratios.py` reads them back from `target/criterion`.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, SamplingMode, Throughput};

/// The seed workloads' sizes: tiny, L1, L2, past L2, past L3.
pub const SIZES: [usize; 5] = [16, 1024, 65_536, 1_048_576, 8_388_608];

/// The function id `n/impl` (so the full id reads `…/type/n/impl`).
pub fn id(n: usize, imp: &str) -> BenchmarkId {
    BenchmarkId::new(n.to_string(), imp)
}

/// Sets throughput to `n` elements and sampling for one evaluation's size.
///
/// Up to 65 536 elements an evaluation takes ≲ 1 ms: 50 samples in 2 s give a
/// stable median. From 1 048 576 on one evaluation takes 5–300 ms: flat sampling
/// (the same iteration count in each sample) with 10 samples, the criterion
/// minimum, keeps a run of the whole suite within minutes on two cores.
pub fn configure(g: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    g.throughput(Throughput::Elements(n as u64));
    if n <= 65_536 {
        g.sampling_mode(SamplingMode::Auto)
            .sample_size(50)
            .warm_up_time(Duration::from_millis(1000))
            .measurement_time(Duration::from_secs(2));
    } else {
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1000))
            .measurement_time(Duration::from_secs(3));
    }
}
