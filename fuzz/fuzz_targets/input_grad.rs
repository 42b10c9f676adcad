//! The seed network 5→3→5 with arbitrary weights, input and target:
//! `forward`, `loss` and `input_grad` against an f64 reference within a
//! running error bound; NaN anywhere gives NaN loss and gradients; finite
//! inputs whose natural scales fit in f32 give finite results.
//! See `constgrad_fuzz::checks::check_network`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad_fuzz::checks::{self, Api, Goal, Net};
use constgrad_fuzz::{enforce, f32_rows, f32s, note_ratio, F32};
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
    x: [F32; IN],
    goal: GoalIn,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let net = Net {
        w1: f32_rows(input.w1),
        b1: f32s(input.b1),
        w2: f32_rows(input.w2),
        b2: f32s(input.b2),
    };
    let goal = match input.goal {
        GoalIn::Class(l) if l >= 250 => Goal::Class(usize::from(l)),
        GoalIn::Class(l) => Goal::Class(usize::from(l) % OUT),
        GoalIn::Probs(y) => Goal::Probs(f32s(y)),
    };
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
