//! Batched entry points (`input_grad_batch`, `grads_batch` with `Sum` and
//! `Mean`) against one-sample `input_grad` calls on the seed network 5→3→5,
//! `loss_batch` against `input_grad_batch`'s losses bit for bit,
//! with batches of 0..=40 samples (several SIMD blocks, a partial last block,
//! blocks mixing class and soft targets), and the `BatchLength` errors for
//! mismatched slice lengths. See `constgrad_fuzz::checks::check_batch`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad::Target;
use constgrad_fuzz::checks;
use constgrad_fuzz::{enforce, f32s, GoalIn, NetIn, F32};
use libfuzzer_sys::fuzz_target;

const IN: usize = 5;
const HID: usize = 3;
const OUT: usize = 5;

#[derive(Debug, Arbitrary)]
struct Input {
    net: NetIn<IN, HID, OUT>,
    /// Length perturbations for the error path (0 = matching length).
    bad: (u8, u8, u8),
    samples: Vec<([F32; IN], GoalIn<OUT>)>,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let net = input.net.net();
    let samples: Vec<([f32; IN], Target<OUT, f32>)> = input
        .samples
        .iter()
        .take(40)
        .map(|(x, g)| (f32s(*x), g.target()))
        .collect();
    let n = samples.len();
    let perturb = |d: u8| if d.is_multiple_of(4) { n } else { (n + usize::from(d % 5)).saturating_sub(2) };
    let bad = (perturb(input.bad.0), perturb(input.bad.1), perturb(input.bad.2));
    enforce("batch_vs_single", checks::check_batch(&net, &samples, bad));
});
