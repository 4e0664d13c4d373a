//! [`super::gradcheck`]: the AD gradient against central differences.

use core::fmt;

use num_traits::Float;

use super::engine::{self, Func, Inputs};
use crate::real::Real;
use crate::tape::Tape;

/// What [`super::gradcheck`] found: pass or fail, and the element that came
/// closest to (or went furthest past) its bound.
///
/// Per element `i` the check compares the AD gradient `aᵢ` with the central
/// difference `nᵢ = (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ`, `hᵢ = ε^⅓·max(1, |xᵢ|)`
/// (`ε` the type's machine epsilon: the step that balances truncation, `∝ h²`,
/// against rounding, `∝ ε/h`). The error is relative above 1 and absolute
/// below: `|aᵢ − nᵢ| / max(1, |aᵢ|, |nᵢ|)`. It passes when the error is within
/// `rtol` plus the rounding floor of the difference itself,
/// `64·ε·(|f(x + hᵢeᵢ)| + |f(x − hᵢeᵢ)|) / 2hᵢ` on the same scale. A NaN on
/// either side fails.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck<T> {
    /// Whether every element is within its bound.
    pub passed: bool,
    /// The element with the largest error relative to its bound: the first
    /// failure to look at, or the closest call of a pass.
    pub worst: Mismatch<T>,
    /// `f(x)`.
    pub value: T,
    /// The AD (reverse-mode) gradient.
    pub analytic: Vec<T>,
    /// The central-difference gradient.
    pub numeric: Vec<T>,
    /// The relative tolerance the check used.
    pub rtol: T,
}

/// One element of a [`GradCheck`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mismatch<T> {
    /// Its index in `x` (across the inputs, concatenated, for [`super::many`]).
    pub index: usize,
    /// The AD gradient there.
    pub analytic: T,
    /// The central difference there.
    pub numeric: T,
    /// `|analytic − numeric| / max(1, |analytic|, |numeric|)`; +inf for NaN.
    pub error: T,
    /// The largest `error` that passes there.
    pub bound: T,
}

impl<T: Real> GradCheck<T> {
    /// Panics with the report unless the check passed (for tests).
    ///
    /// # Panics
    /// If it did not pass.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed, "dualtape: gradcheck failed: {self}");
    }
}

impl<T: Real> fmt::Display for GradCheck<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.worst;
        write!(
            f,
            "{} over {} elements; worst is element {}: analytic {}, numeric {}, error {:.3e} \
             (bound {:.3e})",
            if self.passed { "passed" } else { "FAILED" },
            self.analytic.len(),
            w.index,
            w.analytic,
            w.numeric,
            w.error.to_f64().unwrap_or(f64::NAN),
            w.bound.to_f64().unwrap_or(f64::NAN)
        )
    }
}

/// `100·ε^⅔`: central differences are good to about `ε^⅔` (`3.7e-11` for
/// f64, `2.4e-5` for f32), times headroom for the third derivative.
pub(crate) fn default_rtol<T: Real>() -> T {
    T::lit(100.0) * Float::powf(T::epsilon(), T::lit(2.0 / 3.0))
}

/// `f(xs)` on a cleared tape, the inputs recorded as constants.
#[track_caller]
fn eval<T: Real>(op: &str, tape: &mut Tape<T>, f: &impl Func<T>, xs: &[Vec<T>]) -> T {
    tape.clear();
    let tape = &*tape;
    let vars: Vec<_> = xs.iter().map(|x| tape.constant(x)).collect();
    engine::call(op, tape, f, &vars).item()
}

#[track_caller]
pub(crate) fn gradcheck<T: Real>(f: &impl Func<T>, x: Inputs<'_, T>, rtol: T) -> GradCheck<T> {
    let (value, analytic) = engine::value_and_grad(x.op, f, x);
    let eps = T::epsilon();
    let h0 = Float::cbrt(eps);
    let mut xs: Vec<Vec<T>> = x.slices().iter().map(|s| s.to_vec()).collect();
    let mut tape = Tape::new();
    let mut numeric = Vec::with_capacity(x.n);
    let mut worst: Option<(T, Mismatch<T>)> = None;
    let (one, big) = (T::one(), T::infinity());
    for k in 0..xs.len() {
        for i in 0..xs[k].len() {
            let x0 = xs[k][i];
            let h = h0 * Float::max(one, Float::abs(x0));
            // The step as represented: (x0 + h) − (x0 − h) may differ from 2h.
            let (xp, xm) = (x0 + h, x0 - h);
            xs[k][i] = xp;
            let fp = eval(x.op, &mut tape, f, &xs);
            xs[k][i] = xm;
            let fm = eval(x.op, &mut tape, f, &xs);
            xs[k][i] = x0;
            let width = xp - xm;
            let (a, num) = (analytic[numeric.len()], (fp - fm) / width);
            let scale = Float::max(one, Float::max(Float::abs(a), Float::abs(num)));
            let error = Float::abs(a - num) / scale;
            let error = if error.is_nan() { big } else { error };
            let floor = T::lit(64.0) * eps * (Float::abs(fp) + Float::abs(fm)) / width;
            let bound = rtol + floor / scale;
            let ratio = error / bound;
            let ratio = if ratio.is_nan() { big } else { ratio };
            let here = Mismatch {
                index: numeric.len(),
                analytic: a,
                numeric: num,
                error,
                bound,
            };
            if worst.is_none_or(|(r, _)| ratio > r) {
                worst = Some((ratio, here));
            }
            numeric.push(num);
        }
    }
    let (ratio, worst) = worst.expect("at least one input element");
    GradCheck {
        passed: ratio <= one,
        worst,
        value,
        analytic,
        numeric,
        rtol,
    }
}
