//! The guard run before timing: a hand-written baseline must compute what the
//! tape computes, or its number means nothing.

use super::lanes::Scalar;

/// Panics unless `got` and `want` agree to `T::TOL` relative to the largest
/// `|want|` (elementwise gradients can cross zero, so a per-element relative
/// test would be meaningless there).
#[track_caller]
pub fn assert_close<T: Scalar>(what: &str, got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want
        .iter()
        .fold(0.0f64, |m, w| m.max(w.as_f64().abs()))
        .max(f64::MIN_POSITIVE);
    let (worst, at) = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (g, w))| ((g.as_f64() - w.as_f64()).abs(), i))
        .fold(
            (0.0f64, 0),
            |a, b| if b.0 > a.0 || b.0.is_nan() { b } else { a },
        );
    assert!(
        worst / scale <= T::TOL,
        "{what} ({}, n = {}): element {at} is {} but the reference says {}; \
         relative difference {:.3e} > {:.1e}",
        T::NAME,
        want.len(),
        got[at],
        want[at],
        worst / scale,
        T::TOL
    );
}

/// [`assert_close`] for one value.
#[track_caller]
pub fn assert_close1<T: Scalar>(what: &str, got: T, want: T) {
    assert_close(what, &[got], &[want]);
}
