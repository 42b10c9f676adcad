//! A 16→8→4 network with arbitrary weights, input and target:
//! `grads` (loss, dL/dx, dL/dW1, dL/db1, dL/dW2, dL/db2) against an f64 reference within a
//! running error bound; NaN anywhere gives NaN loss and gradients; finite
//! inputs whose natural scales fit in f32 give finite results.
//! See `constgrad_fuzz::checks::check_network`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad_fuzz::checks::{self, Api};
use constgrad_fuzz::{enforce, f32s, GoalIn, NetIn, F32};
use libfuzzer_sys::fuzz_target;

const IN: usize = 16;
const HID: usize = 8;
const OUT: usize = 4;

#[derive(Debug, Arbitrary)]
struct Input {
    net: NetIn<IN, HID, OUT>,
    x: [F32; IN],
    goal: GoalIn<OUT>,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let (net, goal) = (input.net.net(), input.goal.goal());
    enforce("grads", checks::check_network(&net, f32s(input.x), &goal, Api::Grads));
});
