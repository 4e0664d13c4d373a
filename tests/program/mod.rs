//! Random programs run on the tape and checked against a scalar reference.
//!
//! Shared by the property test `tests/program.rs` and the `cargo fuzz` target
//! in `fuzz/` (which includes this file with `#[path]`), so one decoder and
//! one oracle serve both.
//!
//! - [`decode`] turns any bytes into a valid [`Program`]: up to three inputs of
//!   0..=300 elements (values drawn from a palette of 0, −0, ±inf, NaN,
//!   subnormals, huge and tiny magnitudes, and from raw bits) and up to 32 ops
//!   over them, each op picking operands whose lengths fit.
//! - [`reference`] is the oracle: plain `f64`, one element at a time, with
//!   derivative rules written out by hand from the math and PyTorch's
//!   conventions (not the crate's `rules`).
//! - [`run`] records the program on a `Tape<f32>` and a `Tape<f64>`, then checks
//!   every node's value, and every node's adjoint after one backward sweep,
//!   against the reference. Each check is local: the reference evaluates a node
//!   from the tape's own values of that node's inputs (and a node's adjoint
//!   from the tape's adjoints of its consumers), so a tolerance never has to
//!   absorb errors carried in from earlier nodes, and it can stay tight: NaN
//!   where NaN, ±inf where ±inf, the IEEE-exact ops bit for bit, and otherwise
//!   a bound that grows with the op's condition (`|x|` for sin at `x`, `n` for
//!   `xⁿ`, the number of terms for a sum).
//! - The run is repeated on the same tape after `clear` and after a second
//!   sweep: both must reproduce the first run's bits.

#![allow(dead_code)] // each includer uses a different part

pub mod reference;
pub mod run;

/// An elementwise function of one input (constants folded in, as `3.0 * x`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    /// `eˣ`
    Exp,
    /// `ln x`
    Ln,
    /// `√x`
    Sqrt,
    /// `sin x`
    Sin,
    /// `cos x`
    Cos,
    /// `tanh x`
    Tanh,
    /// `σ(x)`
    Sigmoid,
    /// `max(x, 0)`
    Relu,
    /// `|x|`
    Abs,
    /// `1/x`
    Recip,
    /// `−x`
    Neg,
    /// `xⁿ`
    Powi(i32),
    /// `xᵖ`
    Powf(f64),
    /// `x + c`
    AddC(f64),
    /// `x − c`
    SubC(f64),
    /// `c − x`
    RSubC(f64),
    /// `x·c`
    MulC(f64),
    /// `c·x`
    RMulC(f64),
    /// `x / c`
    DivC(f64),
    /// `c / x`
    RDivC(f64),
}

/// An elementwise function of two inputs (a length-1 side broadcasts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a − b`
    Sub,
    /// `a·b`
    Mul,
    /// `a / b`
    Div,
    /// `aᵇ`
    Pow,
}

/// A reduction to one element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `Σ x`
    Sum,
    /// `Σ x / n`
    Mean,
    /// `‖x‖₂`
    Norm,
    /// `max x`
    Max,
    /// `min x`
    Min,
}

/// One step of a program; operands are indices of earlier steps.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `tape.var(values)` (`var: true`) or `tape.constant(values)`.
    Input {
        /// The elements.
        values: Vec<f64>,
        /// Whether it needs a gradient.
        var: bool,
    },
    /// `f(x)`.
    Unary(Unary, usize),
    /// `f(a, b)`.
    Binary(Binary, usize, usize),
    /// A reduction.
    Reduce(Reduce, usize),
    /// `a.dot(b)`.
    Dot(usize, usize),
}

/// A straight-line program; its last step is the output.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The steps in recording order.
    pub steps: Vec<Step>,
    /// `None`: `backward()` (the output has one element). `Some(seed)`:
    /// `backward_with(&seed)`, one element per output element.
    pub seed: Option<Vec<f64>>,
}

impl Program {
    /// Number of elements each step produces.
    pub fn lens(&self) -> Vec<usize> {
        let mut lens = Vec::with_capacity(self.steps.len());
        for s in &self.steps {
            lens.push(step_len(s, &lens));
        }
        lens
    }
}

impl core::fmt::Display for Step {
    /// As `Debug`, with inputs longer than 8 elements abridged.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Step::Input { values, var } if values.len() > 8 => write!(
                f,
                "Input {{ var: {var}, values: {:?} .. ({} elements) }}",
                &values[..8],
                values.len()
            ),
            s => write!(f, "{s:?}"),
        }
    }
}

impl core::fmt::Display for Program {
    /// One step a line, long inputs abridged (the bytes, or the fuzzer's
    /// artifact, reproduce a case; this is for reading it).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  {i}: {s}")?;
        }
        match &self.seed {
            Some(s) if s.len() > 8 => write!(f, "  seed: {:?} .. ({} elements)", &s[..8], s.len()),
            s => write!(f, "  seed: {s:?}"),
        }
    }
}

/// Number of elements `step` produces, given its operands' lengths.
pub fn step_len(step: &Step, lens: &[usize]) -> usize {
    match *step {
        Step::Input { ref values, .. } => values.len(),
        Step::Unary(_, x) => lens[x],
        Step::Binary(_, a, b) => {
            if lens[a] == 1 {
                lens[b]
            } else {
                lens[a]
            }
        }
        Step::Reduce(..) | Step::Dot(..) => 1,
    }
}

/// Reads bytes front to back; zeros once they run out.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }
    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// The next byte (0 when none is left).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    /// The next eight bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        let mut b = [0; 8];
        b.iter_mut().for_each(|v| *v = self.u8());
        u64::from_le_bytes(b)
    }
}

/// Values where functions and formats have their edges: zeros, infinities,
/// NaN, subnormals of both types, the overflow and underflow thresholds of
/// exp, tanh's saturation, huge and tiny magnitudes.
pub const PALETTE: [f64; 40] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    -3.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    f64::MIN_POSITIVE,
    5e-324,
    1e-310,
    -1e-310,
    f64::MAX,
    -f64::MAX,
    1e200,
    -1e200,
    1e-200,
    1e300,
    1e-155,
    1e155,
    3.4e38,
    -3.4e38,
    1e-40,
    -1e-45,
    1.2e-38,
    709.8,
    -745.2,
    88.8,
    -104.0,
    1e16,
    -1e30,
    core::f64::consts::PI,
    1e-8,
    19.5,
    -20.0,
    1000.0,
    -1000.0,
    0.1,
];

/// Integer exponents for `powi`, the extremes of `i32` included.
pub const EXPONENTS: [i32; 16] = [
    0,
    1,
    2,
    3,
    -1,
    -2,
    5,
    -7,
    31,
    -100,
    1023,
    -1074,
    i32::MAX,
    i32::MIN,
    i32::MAX - 1,
    i32::MIN + 1,
];

/// One value: from the palette, raw bits, a small multiple of 1/64, or a
/// random magnitude anywhere between 2⁻¹⁰⁸⁰ and 2¹⁰³⁰.
pub fn value(b: &mut Bytes<'_>) -> f64 {
    let t = b.u8();
    match t % 4 {
        0 => PALETTE[(t / 4) as usize % PALETTE.len()],
        1 => f64::from_bits(b.u64()),
        2 => f64::from(b.u16() as i16) / 64.0,
        _ => {
            let mantissa = 1.0 + f64::from(b.u16()) / 65536.0;
            let exp = i32::from(b.u16() % 2111) - 1080;
            let v = mantissa * 2f64.powi(exp / 2) * 2f64.powi(exp - exp / 2);
            if t & 4 == 0 { v } else { -v }
        }
    }
}

/// A small deterministic generator for long inputs from few bytes.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A length in 0..=300, or past the fusion threshold (a block: 2048 `f64`,
/// 4096 `f32`) by a few blocks, biased to the edges of the lane widths and of
/// the blocks.
fn length(b: &mut Bytes<'_>) -> usize {
    const EDGES: [usize; 20] = [
        7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 2047, 2048, 2049, 4095, 4096, 4097, 8195,
        12291,
    ];
    let t = b.u8();
    match t % 8 {
        0 | 1 => usize::from(t / 8) % 6,
        2 | 3 => EDGES[usize::from(t / 8) % EDGES.len()],
        4 | 5 => usize::from(b.u16()) % 301,
        6 => 2048 + usize::from(b.u16()) % 10240,
        _ => 1,
    }
}

/// `n` values: each read from the bytes, or (for long inputs) from a
/// generator seeded by the bytes that mixes palette values into a range.
fn values(b: &mut Bytes<'_>, n: usize) -> Vec<f64> {
    let mode = b.u8();
    if mode.is_multiple_of(2) && n <= 16 {
        return (0..n).map(|_| value(b)).collect();
    }
    let mut rng = SplitMix(b.u64());
    let scale = 2f64.powi(i32::from(mode / 2) % 64 - 32);
    let special = u64::from(b.u8() % 8);
    (0..n)
        .map(|_| {
            let r = rng.next();
            if r % 8 < special {
                PALETTE[(r >> 8) as usize % PALETTE.len()]
            } else {
                let u = (r >> 11) as f64 / (1u64 << 53) as f64;
                (2.0 * u - 1.0) * scale
            }
        })
        .collect()
}

/// An operand index, biased to the latest steps so that chains grow deep.
fn operand(b: &mut Bytes<'_>, count: usize) -> usize {
    let r = usize::from(b.u8());
    if r & 1 == 0 {
        count - 1 - (r >> 1) % count.min(3)
    } else {
        (r >> 1) % count
    }
}

/// The latest step at or before `start` (wrapping) whose length fits `ok`.
fn find(lens: &[usize], start: usize, ok: impl Fn(usize) -> bool) -> Option<usize> {
    (0..lens.len())
        .map(|k| (start + lens.len() - k) % lens.len())
        .find(|&i| ok(lens[i]))
}

/// Decodes any bytes into a valid program (lengths always fit).
pub fn decode(data: &[u8]) -> Program {
    let mut b = Bytes::new(data);
    let mut steps = Vec::new();
    let mut lens: Vec<usize> = Vec::new();
    let inputs = 1 + b.u8() % 3;
    for _ in 0..inputs {
        let n = length(&mut b);
        let var = !b.u8().is_multiple_of(4);
        steps.push(Step::Input {
            values: values(&mut b, n),
            var,
        });
        lens.push(n);
    }
    let ops = b.u8() % 33;
    for _ in 0..ops {
        if b.is_empty() {
            break;
        }
        let t = b.u8();
        let x = operand(&mut b, lens.len());
        let step = match t % 32 {
            0 => Step::Unary(Unary::Exp, x),
            1 => Step::Unary(Unary::Ln, x),
            2 => Step::Unary(Unary::Sqrt, x),
            3 => Step::Unary(Unary::Sin, x),
            4 => Step::Unary(Unary::Cos, x),
            5 => Step::Unary(Unary::Tanh, x),
            6 => Step::Unary(Unary::Sigmoid, x),
            7 => Step::Unary(Unary::Relu, x),
            8 => Step::Unary(Unary::Abs, x),
            9 => Step::Unary(Unary::Recip, x),
            10 => Step::Unary(Unary::Neg, x),
            11 => {
                let n = if b.u8().is_multiple_of(2) {
                    EXPONENTS[usize::from(b.u8()) % EXPONENTS.len()]
                } else {
                    i32::from(b.u8() as i8)
                };
                Step::Unary(Unary::Powi(n), x)
            }
            12 => Step::Unary(Unary::Powf(value(&mut b)), x),
            13 => Step::Unary(Unary::AddC(value(&mut b)), x),
            14 => Step::Unary(Unary::SubC(value(&mut b)), x),
            15 => Step::Unary(Unary::RSubC(value(&mut b)), x),
            16 => Step::Unary(Unary::MulC(value(&mut b)), x),
            17 => Step::Unary(Unary::RMulC(value(&mut b)), x),
            18 => Step::Unary(Unary::DivC(value(&mut b)), x),
            19 => Step::Unary(Unary::RDivC(value(&mut b)), x),
            20..=25 => {
                let op = [
                    Binary::Add,
                    Binary::Sub,
                    Binary::Mul,
                    Binary::Div,
                    Binary::Pow,
                    Binary::Mul,
                ][usize::from(t % 32 - 20)];
                let la = lens[x];
                let start = operand(&mut b, lens.len());
                let y = find(&lens, start, |n| n == la || n == 1 || la == 1).unwrap_or(x);
                Step::Binary(op, x, y)
            }
            26..=30 => {
                let op = [
                    Reduce::Sum,
                    Reduce::Mean,
                    Reduce::Norm,
                    Reduce::Max,
                    Reduce::Min,
                ][usize::from(t % 32 - 26)];
                // max and min of nothing panic by design; not this test's subject.
                if lens[x] == 0 && matches!(op, Reduce::Max | Reduce::Min) {
                    Step::Reduce(Reduce::Sum, x)
                } else {
                    Step::Reduce(op, x)
                }
            }
            _ => {
                let la = lens[x];
                let start = operand(&mut b, lens.len());
                let y = find(&lens, start, |n| n == la).unwrap_or(x);
                Step::Dot(x, y)
            }
        };
        lens.push(step_len(&step, &lens));
        steps.push(step);
    }
    let out = *lens.last().expect("at least one input");
    let seed = match b.u8() % 4 {
        0 if out == 1 => None,
        0 | 1 => Some(vec![1.0; out]),
        _ => Some((0..out).map(|_| value(&mut b)).collect()),
    };
    Program { steps, seed }
}
