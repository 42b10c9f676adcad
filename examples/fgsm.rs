//! Adversarial examples with the fast gradient sign method (FGSM).
//!
//! Trains the network of `examples/train.rs` (same task, same settings, see
//! `examples/common/mod.rs`), then computes every held-out sample's `dL/dx`
//! for its true label with one `Mlp::input_grad_batch` call and moves the
//! input by `ε·sign(dL/dx)`: the L∞ step of size `ε` that raises the loss
//! fastest to first order. It prints a table of held-out accuracy against `ε`
//! beside the accuracy under a random-sign step of the same size (which shows
//! how much of the damage is due to the gradient rather than to the step's
//! size), the ranking of the inputs by mean `|dL/dx|` (the two noise inputs
//! should come last), and one input that FGSM flips.
//!
//! Run: `cargo run --release --example fgsm` (a few seconds).

mod common;

use common::{
    accuracy, example_data, fgsm_accuracy, input_grads, predict, random_sign_accuracy, ranking,
    saliency, step_by_sign, train, Config, INFORMATIVE,
};

/// Perturbation sizes of the table (the clusters have σ = 0.4 and centres at
/// least 1.5 apart).
const EPSILONS: [f32; 10] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0];

fn main() {
    let (_, train_set, test_set) = example_data(4000, 2000);
    let net = train(&Config::EXAMPLE, &train_set, &test_set, |_| {});
    println!(
        "trained 5→16→5 as in examples/train.rs: held-out accuracy {:.1} % on {} samples",
        100.0 * accuracy(&net, &test_set),
        test_set.len()
    );

    let dxs = input_grads(&net, &test_set);
    println!();
    println!("   ε     FGSM accuracy   random-sign accuracy");
    for eps in EPSILONS {
        println!(
            "{eps:5.2}   {:>10.1} %   {:>14.1} %",
            100.0 * fgsm_accuracy(&net, &test_set, &dxs, eps),
            100.0 * random_sign_accuracy(&net, &test_set, eps, 99)
        );
    }

    let s = saliency(&dxs);
    println!();
    println!("saliency: inputs ranked by mean |dL/dx| over the held-out set");
    for (rank, &i) in ranking(&s).iter().enumerate() {
        let kind = if i < INFORMATIVE {
            "informative"
        } else {
            "noise"
        };
        println!("{:>2}. x[{i}]  {:.4e}  ({kind})", rank + 1, s[i]);
    }

    // One input that the smallest ε of the table flips.
    let flipped = EPSILONS.iter().skip(1).find_map(|&eps| {
        test_set
            .xs
            .iter()
            .zip(&dxs)
            .zip(&test_set.labels)
            .find(|((x, d), &l)| {
                predict(&net, x) == l && predict(&net, &step_by_sign(x, d, eps)) != l
            })
            .map(|((x, d), &l)| (eps, *x, *d, l))
    });
    if let Some((eps, x, d, l)) = flipped {
        let adv = step_by_sign(&x, &d, eps);
        let p = |v| net.forward(v).y_hat;
        println!();
        println!("an input flipped by ε = {eps}: true class {l}");
        println!("  x       = {:?} → ŷ = {:?}", x.row(), p(&x).row());
        println!("  x + εs  = {:?} → ŷ = {:?}", adv.row(), p(&adv).row());
        println!("  dL/dx   = {:?}", d.row());
    }
}
