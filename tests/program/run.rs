//! Runs a [`Program`] on the tape and holds every node to the reference.

use dualtape::{NodeId, Real, Tape, Var};

use super::reference::{self, Approx, F32, F64, Kind, Term};
use super::{Binary, Program, Reduce, Step, Unary, decode};

/// Decodes `data` and [`check`]s the program.
pub fn check_bytes(data: &[u8]) {
    check(&decode(data));
}

/// Runs `program` on a `Tape<f64>` and a `Tape<f32>`; panics, showing the
/// program, the node and the element, where the tape and the reference differ.
pub fn check(program: &Program) {
    run::<f64>(program, &F64);
    run::<f32>(program, &F32);
}

/// The scalars the test runs, with the `scalar ∘ Var` operators that exist
/// only for concrete types.
pub trait Scalar: Real {
    /// `c − v`.
    fn rsub(self, v: Var<'_, Self>) -> Var<'_, Self>;
    /// `c · v`.
    fn rmul(self, v: Var<'_, Self>) -> Var<'_, Self>;
    /// `c / v`.
    fn rdiv(self, v: Var<'_, Self>) -> Var<'_, Self>;
}

macro_rules! scalar {
    ($t:ty) => {
        impl Scalar for $t {
            fn rsub(self, v: Var<'_, Self>) -> Var<'_, Self> {
                self - v
            }
            fn rmul(self, v: Var<'_, Self>) -> Var<'_, Self> {
                self * v
            }
            fn rdiv(self, v: Var<'_, Self>) -> Var<'_, Self> {
                self / v
            }
        }
    };
}
scalar!(f32);
scalar!(f64);

fn f64_of<T: Real>(v: T) -> f64 {
    v.to_f64().expect("f32 and f64 convert to f64")
}

/// Which steps' gradients a run keeps: every input's, and the intermediates'
/// that `retain` picks (`Var::retain_grad`).
#[derive(Clone, Copy)]
enum Keep {
    All,
    /// Every third intermediate, from an offset the program's length sets: the
    /// others' adjoints may live only in the fused sweep's scratch.
    Some,
}

impl Keep {
    fn retains(self, program: &Program, i: usize) -> bool {
        match self {
            Keep::All => true,
            Keep::Some => (i + program.steps.len()).is_multiple_of(3),
        }
    }

    /// Whether step `i`'s gradient (if it has one) is kept.
    fn keeps(self, program: &Program, i: usize) -> bool {
        matches!(program.steps[i], Step::Input { .. }) || self.retains(program, i)
    }
}

/// Records `program` on `tape`, one `Var` per step, retaining the gradients
/// `keep` picks.
fn record<'t, T: Scalar>(tape: &'t Tape<T>, program: &Program, keep: Keep) -> Vec<Var<'t, T>> {
    record_after(tape, program, keep, Vec::with_capacity(program.steps.len()))
}

/// Records the steps of `program` after the first `vars.len()`, which `vars`
/// holds already, as [`record`].
fn record_after<'t, T: Scalar>(
    tape: &'t Tape<T>,
    program: &Program,
    keep: Keep,
    mut vars: Vec<Var<'t, T>>,
) -> Vec<Var<'t, T>> {
    let c = |v: f64| T::lit(v);
    for step in &program.steps[vars.len()..] {
        let v = match *step {
            Step::Input { ref values, var } => {
                let xs: Vec<T> = values.iter().map(|&v| c(v)).collect();
                if var {
                    tape.var(&xs)
                } else {
                    tape.constant(&xs)
                }
            }
            Step::Unary(op, x) => {
                let x = vars[x];
                match op {
                    Unary::Exp => x.exp(),
                    Unary::Ln => x.ln(),
                    Unary::Sqrt => x.sqrt(),
                    Unary::Sin => x.sin(),
                    Unary::Cos => x.cos(),
                    Unary::Tanh => x.tanh(),
                    Unary::Sigmoid => x.sigmoid(),
                    Unary::Relu => x.relu(),
                    Unary::Abs => x.abs(),
                    Unary::Recip => x.recip(),
                    Unary::Neg => -x,
                    Unary::Powi(n) => x.powi(n),
                    Unary::Powf(p) => x.powf(c(p)),
                    Unary::AddC(k) => x + c(k),
                    Unary::SubC(k) => x - c(k),
                    Unary::RSubC(k) => c(k).rsub(x),
                    Unary::MulC(k) => x * c(k),
                    Unary::RMulC(k) => c(k).rmul(x),
                    Unary::DivC(k) => x / c(k),
                    Unary::RDivC(k) => c(k).rdiv(x),
                }
            }
            Step::Binary(op, a, b) => {
                let (a, b) = (vars[a], vars[b]);
                match op {
                    Binary::Add => a + b,
                    Binary::Sub => a - b,
                    Binary::Mul => a * b,
                    Binary::Div => a / b,
                    Binary::Pow => a.pow(b),
                }
            }
            Step::Reduce(op, x) => {
                let x = vars[x];
                match op {
                    Reduce::Sum => x.sum(),
                    Reduce::Mean => x.mean(),
                    Reduce::Norm => x.norm(),
                    Reduce::Max => x.max(),
                    Reduce::Min => x.min(),
                }
            }
            Step::Dot(a, b) => vars[a].dot(vars[b]),
        };
        let intermediate = !matches!(step, Step::Input { .. });
        if intermediate && v.needs_grad() && keep.retains(program, vars.len()) {
            v.retain_grad();
        }
        vars.push(v);
    }
    vars
}

/// Every node's values and, after one sweep from the output, the adjoint of
/// every node that needs a gradient and keeps it (`None` for the others).
struct Outcome {
    values: Vec<Vec<f64>>,
    adjoints: Vec<Option<Vec<f64>>>,
}

impl Outcome {
    fn bits(&self) -> Vec<Vec<u64>> {
        let b = |v: &Vec<f64>| v.iter().map(|&x| bits(x)).collect::<Vec<_>>();
        let mut all: Vec<Vec<u64>> = self.values.iter().map(b).collect();
        all.extend(
            self.adjoints
                .iter()
                .map(|a| a.as_ref().map(b).unwrap_or_default()),
        );
        all
    }
}

fn values<T: Real>(vars: &[Var<'_, T>]) -> Vec<Vec<f64>> {
    vars.iter()
        .map(|v| v.value().iter().map(|&x| f64_of(x)).collect())
        .collect()
}

fn sweep<T: Real>(vars: &[Var<'_, T>], program: &Program, keep: Keep) -> Vec<Option<Vec<f64>>> {
    let out = *vars.last().expect("a program has a step");
    let grads = match &program.seed {
        None => out.backward(),
        Some(seed) => {
            let seed: Vec<T> = seed.iter().map(|&v| T::lit(v)).collect();
            out.backward_with(&seed)
        }
    };
    vars.iter()
        .enumerate()
        .map(|(i, &v)| {
            (v.needs_grad() && keep.keeps(program, i))
                .then(|| grads.wrt(v).iter().map(|&x| f64_of(x)).collect())
        })
        .collect()
}

fn run<T: Scalar>(program: &Program, k: &Kind) {
    let mut tape = Tape::<T>::new();
    tape.set_fusion(false);
    let first = {
        let vars = record(&tape, program, Keep::All);
        let outcome = Outcome {
            values: values(&vars),
            adjoints: sweep(&vars, program, Keep::All),
        };
        compare(program, &outcome, k);
        // A second sweep over the same recording gives the same bits.
        let again = sweep(&vars, program, Keep::All);
        assert!(
            bits_eq(&again, &outcome.adjoints),
            "{}: a second backward sweep differs from the first\n{program}",
            k.name
        );
        outcome
    };
    // So does recording again on the cleared tape (stale buffers must not
    // leak), this time fusing long elementwise chains (bitwise the same) and
    // keeping only some intermediates' gradients (the others may live in the
    // fused sweep's scratch alone).
    //
    // The stale buffers are poisoned first, so that a value a fused run did
    // not store (nothing was to read it) shows if something reads it anyway;
    // the values are read after the sweep, which must not need them.
    clear_poisoned(&mut tape, program);
    tape.set_fusion(true);
    let vars = record(&tape, program, Keep::Some);
    let adjoints = sweep(&vars, program, Keep::Some);
    let second = Outcome {
        values: values(&vars),
        adjoints,
    };
    let kept = Outcome {
        values: first.values,
        adjoints: (first.adjoints.into_iter().enumerate())
            .map(|(i, a)| a.filter(|_| Keep::Some.keeps(program, i)))
            .collect(),
    };
    assert!(
        kept.bits() == second.bits(),
        "{}: recording again after clear(), fused, differs from the first run\n{program}",
        k.name
    );

    // And so does recording the steps after a cut again on a tape truncated
    // there: the whole program is recorded (fused, nothing read, so a
    // deferred run may span the cut), the tape is cut back to the steps
    // before `cut`, and the rest is recorded on the kept steps' `Var`s.
    clear_poisoned(&mut tape, program);
    let ids: Vec<NodeId> = record(&tape, program, Keep::Some)
        .iter()
        .map(|v| v.id())
        .collect();
    let cut = cut(program);
    tape.truncate(ids.get(cut).map_or(tape.len(), |id| id.index()));
    let kept_vars = ids[..cut]
        .iter()
        .map(|&id| tape.get(id).expect("the steps before the cut are kept"))
        .collect();
    let vars = record_after(&tape, program, Keep::Some, kept_vars);
    let adjoints = sweep(&vars, program, Keep::Some);
    let third = Outcome {
        values: values(&vars),
        adjoints,
    };
    assert!(
        kept.bits() == third.bits(),
        "{}: recording the steps from {cut} on again after truncate() differs from the \
         first run\n{program}",
        k.name
    );
}

/// Where [`run`] cuts `program` to record its tail again: a step set by the
/// program's length and its first input's length, so that across programs
/// every position is cut at, the first and past the last included.
fn cut(program: &Program) -> usize {
    let steps = program.steps.len();
    let salt = match program.steps.first() {
        Some(Step::Input { values, .. }) => values.len(),
        _ => 0,
    };
    (steps * 7 + salt) % (steps + 1)
}

/// Clears `tape` with the start of its value arena, as much as `program`
/// uses, filled with NaN: what a run on the cleared tape reads without
/// writing it first shows.
fn clear_poisoned<T: Real>(tape: &mut Tape<T>, program: &Program) {
    let used: usize = program.lens().iter().sum();
    tape.clear();
    tape.constant(&vec![T::nan(); used]);
    tape.clear();
}

/// The bits of `x`, every NaN as one: which NaN an operation on two NaNs
/// returns is not fixed (LLVM may swap the operands of `a * b`), so runs that
/// agree bit for bit elsewhere may differ in a NaN's sign or payload.
fn bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

fn bits_eq(a: &[Option<Vec<f64>>], b: &[Option<Vec<f64>>]) -> bool {
    let bits = |v: &[Option<Vec<f64>>]| -> Vec<Option<Vec<u64>>> {
        v.iter()
            .map(|a| a.as_ref().map(|a| a.iter().map(|&x| bits(x)).collect()))
            .collect()
    };
    bits(a) == bits(b)
}

/// Holds every node's values and adjoints to the reference.
fn compare(program: &Program, got: &Outcome, k: &Kind) {
    let steps = &program.steps;
    let lens = program.lens();
    let fail = |what: &str, i: usize, e: usize, tape: f64, want: Approx| -> String {
        let args: Vec<String> = reference::operands(&steps[i])
            .iter()
            .map(|&a| format!("  step {a}: {}", show(&got.values[a])))
            .collect();
        format!(
            "{}: {what} of step {i} ({}), element {e}: tape {tape:e}, reference {want:?}\n\
             operands:\n{}\nprogram:\n{program}",
            k.name,
            steps[i],
            args.join("\n")
        )
    };

    // Needs-grad, by the reference's own reckoning.
    let mut needs = vec![false; steps.len()];
    for (i, s) in steps.iter().enumerate() {
        needs[i] = match *s {
            Step::Input { var, .. } => var,
            _ => reference::operands(s).iter().any(|&a| needs[a]),
        };
        assert_eq!(
            got.adjoints[i].is_some(),
            needs[i],
            "{}: step {i} needs_grad()\n{program}",
            k.name
        );
    }

    // Values, each step from the tape's values of its operands.
    for (i, s) in steps.iter().enumerate() {
        let args: Vec<&[f64]> = reference::operands(s)
            .iter()
            .map(|&a| got.values[a].as_slice())
            .collect();
        assert_eq!(
            got.values[i].len(),
            lens[i],
            "{}: length of step {i}",
            k.name
        );
        let want = reference::value(s, &args, lens[i], k);
        for (e, (&g, &w)) in got.values[i].iter().zip(&want).enumerate() {
            assert!(w.admits(g, k), "{}", fail("value", i, e, g, w));
        }
    }

    // Adjoints: each node's terms from its consumers (latest first, as the
    // sweep runs), each term a local partial times the consumer's adjoint.
    let out = steps.len() - 1;
    let mut terms: Vec<Vec<Vec<Term>>> = lens.iter().map(|&n| vec![Vec::new(); n]).collect();
    let mut reached = vec![false; steps.len()];
    if needs[out] {
        reached[out] = true;
        let seed: Vec<f64> = match &program.seed {
            None => vec![1.0],
            Some(s) => s.clone(),
        };
        for (e, &s) in seed.iter().enumerate() {
            terms[out][e].push(Term::exact((k.round)(s)));
        }
    }
    for j in (0..steps.len()).rev() {
        if !reached[j] {
            continue;
        }
        let g = got.adjoints[j]
            .as_ref()
            .expect("a reached node needs a gradient");
        let ops = reference::operands(&steps[j]);
        let args: Vec<&[f64]> = ops.iter().map(|&a| got.values[a].as_slice()).collect();
        let partials = reference::partials(&steps[j], &args, &got.values[j], k);
        let reduction = matches!(steps[j], Step::Reduce(..) | Step::Dot(..));
        for (slot, &i) in ops.iter().enumerate() {
            if !needs[i] {
                continue;
            }
            reached[i] = true;
            for (e, &d) in partials[slot].iter().enumerate() {
                let (gj, ei) = if reduction {
                    (g[0], e)
                } else if lens[i] == 1 {
                    (g[e], 0) // broadcast: every output element adds to x[0]
                } else {
                    (g[e], e)
                };
                terms[i][ei].push(reference::term(d, gj, k));
            }
        }
    }
    for (i, (adj, terms)) in got.adjoints.iter().zip(&terms).enumerate() {
        let Some(adj) = adj else {
            continue;
        };
        for (e, &g) in adj.iter().enumerate() {
            let want = reference::sum(&terms[e], k);
            assert!(want.admits(g, k), "{}", fail("adjoint", i, e, g, want));
        }
    }
}

/// A vector for a failure message: short ones whole, long ones abridged.
fn show(v: &[f64]) -> String {
    if v.len() <= 8 {
        format!("{v:?}")
    } else {
        format!("{:?} .. ({} elements)", &v[..8], v.len())
    }
}
