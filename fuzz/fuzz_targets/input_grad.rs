//! The seed network 5→3→5 with arbitrary weights, input and target:
//! `forward`, `loss` and `input_grad` against an f64 reference within a
//! running error bound; NaN anywhere gives NaN loss and gradients; finite
//! inputs whose natural scales fit in f32 give finite results.
//! See `constgrad_fuzz::checks::check_network`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad_fuzz::checks::{self, Api};
use constgrad_fuzz::{enforce, f32s, note_ratio, GoalIn, NetIn, F32};
use libfuzzer_sys::fuzz_target;

const IN: usize = 5;
const HID: usize = 3;
const OUT: usize = 5;

#[derive(Debug, Arbitrary)]
struct Input {
    net: NetIn<IN, HID, OUT>,
    x: [F32; IN],
    goal: GoalIn<OUT>,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let (net, goal) = (input.net.net(), input.goal.goal());
    let x = f32s(input.x);
    enforce("input_grad", checks::check_network(&net, x, &goal, Api::InputGrad));
    if constgrad_fuzz::reporting() {
        if let Some((err, moderate)) = checks::input_grad_norm_error(&net, x, &goal) {
            note_ratio("input_grad dx error / ‖dx‖∞ (reported only)", err);
            if moderate {
                note_ratio("input_grad dx error / ‖dx‖∞, all |values| ≤ 16 (reported only)", err);
            }
        }
    }
});
