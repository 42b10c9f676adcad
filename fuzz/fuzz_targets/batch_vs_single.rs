//! Batched entry points (`input_grad_batch`, `grads_batch` with `Sum` and
//! `Mean`) against one-sample `input_grad` calls on the seed network 5→3→5,
//! with batches of 0..=40 samples (several SIMD blocks, a partial last block,
//! blocks mixing class and soft targets), and the `BatchLength` errors for
//! mismatched slice lengths. See `constgrad_fuzz::checks::check_batch`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad::{RowVec, Target};
use constgrad_fuzz::checks::{self, Net};
use constgrad_fuzz::{enforce, f32_rows, f32s, F32};
use libfuzzer_sys::fuzz_target;

const IN: usize = 5;
const HID: usize = 3;
const OUT: usize = 5;

#[derive(Debug, Arbitrary)]
enum GoalIn {
    Class(u8),
    Probs([F32; OUT]),
}

#[derive(Debug, Arbitrary)]
struct Input {
    w1: [[F32; HID]; IN],
    b1: [F32; HID],
    w2: [[F32; OUT]; HID],
    b2: [F32; OUT],
    /// Length perturbations for the error path (0 = matching length).
    bad: (u8, u8, u8),
    samples: Vec<([F32; IN], GoalIn)>,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let net = Net {
        w1: f32_rows(input.w1),
        b1: f32s(input.b1),
        w2: f32_rows(input.w2),
        b2: f32s(input.b2),
    };
    let samples: Vec<([f32; IN], Target<OUT, f32>)> = input
        .samples
        .iter()
        .take(40)
        .map(|(x, g)| {
            let t = match g {
                GoalIn::Class(l) => Target::class(usize::from(*l) % OUT).expect("label < OUT"),
                GoalIn::Probs(y) => Target::Probs(RowVec::from_row(f32s(*y))),
            };
            (f32s(*x), t)
        })
        .collect();
    let n = samples.len();
    let perturb = |d: u8| if d % 4 == 0 { n } else { (n + usize::from(d % 5)).saturating_sub(2) };
    let bad = (perturb(input.bad.0), perturb(input.bad.1), perturb(input.bad.2));
    enforce("batch_vs_single", checks::check_batch(&net, &samples, bad));
});
