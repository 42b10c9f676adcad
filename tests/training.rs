//! The training and FGSM examples' claims, on a smaller run.
//!
//! The task, the training loop, the linear baseline and FGSM live in
//! `examples/common/mod.rs`, shared with `examples/train.rs` and
//! `examples/fgsm.rs`, so these tests check the code the examples run.
//! Accuracies are measured on held-out samples drawn independently of the
//! training samples. The expected values come from outside the network: the
//! stated accuracy, the Bayes-optimal classifier of the known mixture, and a
//! convex linear baseline (logistic regression, which the network must beat
//! by far, since the task needs the hidden layer).

#[path = "../examples/common/mod.rs"]
mod task;

use std::sync::OnceLock;

use task::{
    accuracy, example_data, fgsm_accuracy, input_grads, random_sign_accuracy, saliency, train,
    train_linear, Config, Dataset, Epoch, Net, Task, IN, INFORMATIVE, STATED_ACCURACY,
};

/// A smaller run than the example's (2000 training samples instead of 4000,
/// 15 epochs instead of 40), same hyper-parameters otherwise.
const CONFIG: Config = Config {
    epochs: 15,
    ..Config::EXAMPLE
};

struct Trained {
    task: Task,
    train: Dataset,
    test: Dataset,
    net: Net,
    epochs: Vec<Epoch>,
}

/// Trains once for every test of this file.
fn trained() -> &'static Trained {
    static ONCE: OnceLock<Trained> = OnceLock::new();
    ONCE.get_or_init(|| {
        let (task, train_set, test) = example_data(2000, 1000);
        let mut epochs = Vec::new();
        let net = train(&CONFIG, &train_set, &test, |e| epochs.push(*e));
        Trained {
            task,
            train: train_set,
            test,
            net,
            epochs,
        }
    })
}

#[test]
fn training_reaches_the_stated_held_out_accuracy() {
    let t = trained();
    let acc = accuracy(&t.net, &t.test);
    let bayes = t.task.bayes_accuracy(&t.test);
    let first = t.epochs.first().expect("at least one epoch");
    let last = t.epochs.last().expect("at least one epoch");
    println!(
        "held-out accuracy {acc:.4}, Bayes-optimal {bayes:.4}, epochs: {:#?}",
        t.epochs
    );
    assert!(
        acc >= STATED_ACCURACY,
        "held-out accuracy {acc:.4} < stated {STATED_ACCURACY} (config {CONFIG:?})"
    );
    assert_eq!(
        last.test_accuracy, acc,
        "the last epoch report is the final network's"
    );
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "training loss fell only from {} to {}",
        first.train_loss,
        last.train_loss
    );
    // A sanity check of the Bayes reference itself: no classifier beats it by
    // more than sampling noise (1000 samples: a standard error below 1 %).
    assert!(
        acc <= bayes + 0.02,
        "network {acc:.4} beats Bayes-optimal {bayes:.4}"
    );
}

#[test]
fn task_needs_the_hidden_layer() {
    let t = trained();
    let (linear, history) = train_linear(&t.train, 300);
    let (half, last) = (history[149], history[299]);
    let linear_acc = linear.accuracy(&t.test);
    let acc = accuracy(&t.net, &t.test);
    println!("linear {linear_acc:.4} (loss {half:.5} after 150 steps, {last:.5} after 300), network {acc:.4}");
    // The baseline has converged (its loss changed by less than 0.1 % over
    // the second half of the run), so it is the best linear model in
    // cross-entropy.
    assert!(half - last <= 1e-3 * last, "{half} vs {last}");
    assert!(linear_acc < 0.60, "a linear model reaches {linear_acc:.4}");
    assert!(
        acc > linear_acc + 0.30,
        "network {acc:.4} vs linear {linear_acc:.4}"
    );
}

/// The table's ε (the clusters have σ = 0.4).
const EPSILONS: [f32; 7] = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0];

#[test]
fn fgsm_accuracy_falls_as_epsilon_grows() {
    let t = trained();
    let dxs = input_grads(&t.net, &t.test);
    let accs: Vec<f64> = EPSILONS
        .iter()
        .map(|&eps| fgsm_accuracy(&t.net, &t.test, &dxs, eps))
        .collect();
    println!("ε {EPSILONS:?}\nFGSM accuracy {accs:?}");
    assert_eq!(
        accs[0],
        accuracy(&t.net, &t.test),
        "ε = 0 is the clean accuracy"
    );
    for (w, e) in accs.windows(2).zip(EPSILONS.windows(2)) {
        assert!(
            w[1] <= w[0] + 0.005,
            "accuracy rose from {} at ε = {} to {} at ε = {}",
            w[0],
            e[0],
            w[1],
            e[1]
        );
    }
    let last = accs[accs.len() - 1];
    assert!(
        last < 0.3,
        "accuracy at ε = 1 is still {last:.4} (clean {:.4})",
        accs[0]
    );
}

#[test]
fn fgsm_beats_a_random_sign_step_of_the_same_size() {
    let t = trained();
    let dxs = input_grads(&t.net, &t.test);
    for eps in [0.1f32, 0.2, 0.3, 0.5, 0.75] {
        let fgsm = fgsm_accuracy(&t.net, &t.test, &dxs, eps);
        let random = random_sign_accuracy(&t.net, &t.test, eps, 99);
        println!("ε = {eps}: FGSM {fgsm:.4}, random sign {random:.4}");
        assert!(
            fgsm + 0.05 < random,
            "ε = {eps}: FGSM {fgsm:.4} vs random sign {random:.4}"
        );
    }
}

#[test]
fn saliency_ranks_every_informative_input_above_the_noise() {
    let t = trained();
    let s = saliency(&input_grads(&t.net, &t.test));
    println!("mean |dL/dx|: {s:?}");
    let weakest_informative = s[..INFORMATIVE]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let strongest_noise = s[INFORMATIVE..IN].iter().copied().fold(0.0, f64::max);
    assert!(
        weakest_informative > 5.0 * strongest_noise,
        "saliency {s:?}: informative inputs are 0..{INFORMATIVE}"
    );
}
