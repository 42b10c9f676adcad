//! Trains a 5→16→5 network on a task that needs its hidden layer.
//!
//! The task (see `examples/common/mod.rs`): five classes, each a mixture of
//! three Gaussian clusters interleaved with the other classes' clusters in
//! three input dimensions, plus two inputs of pure noise. The example prints
//! the accuracy of the Bayes-optimal classifier (which knows the mixture) and
//! of the best linear classifier (logistic regression trained to
//! convergence), then trains the network with mini-batch SGD and momentum on
//! the batch-mean gradient from `Mlp::grads_batch`, one line per epoch, and
//! checks the stated held-out accuracy at the end.
//!
//! Run: `cargo run --release --example train` (a few seconds).

mod common;

use std::time::Instant;

use common::{
    accuracy, example_data, train, train_linear, Config, CLUSTERS_PER_CLASS, HID, IN, OUT,
    STATED_ACCURACY, TASK_SEED,
};

/// Training samples.
const N_TRAIN: usize = 4000;
/// Held-out samples (drawn independently from the same mixture).
const N_TEST: usize = 2000;

fn main() {
    let started = Instant::now();
    let (task, train_set, test_set) = example_data(N_TRAIN, N_TEST);
    let cfg = Config::EXAMPLE;

    println!(
        "task: {OUT} classes × {CLUSTERS_PER_CLASS} Gaussian clusters in {IN}-D (inputs 3, 4 are noise), seed {TASK_SEED}"
    );
    println!("data: {N_TRAIN} training samples, {N_TEST} held-out samples");
    println!(
        "network {IN}→{HID}→{OUT} (f32, {}), SGD: batch {}, η = {}, momentum {}, {} epochs",
        constgrad::simd_description(),
        cfg.batch,
        cfg.learning_rate,
        cfg.momentum,
        cfg.epochs
    );
    let bayes = task.bayes_accuracy(&test_set);
    let (linear, history) = train_linear(&train_set, 300);
    let linear_loss = history.last().copied().unwrap_or(f64::NAN);
    let linear_acc = linear.accuracy(&test_set);
    println!(
        "held-out accuracy of the Bayes-optimal classifier: {:.1} %",
        100.0 * bayes
    );
    println!(
        "held-out accuracy of the best linear classifier:  {:.1} % (logistic regression, final training loss {linear_loss:.4})",
        100.0 * linear_acc
    );
    println!();

    let width = 30;
    let net = train(&cfg, &train_set, &test_set, |e| {
        let done = e.epoch * width / cfg.epochs;
        println!(
            "epoch {:>3}/{} [{}{}] train loss {:.4}  acc {:5.1} %  |  held-out loss {:.4}  acc {:5.1} %",
            e.epoch,
            cfg.epochs,
            "#".repeat(done),
            ".".repeat(width - done),
            e.train_loss,
            100.0 * e.train_accuracy,
            e.test_loss,
            100.0 * e.test_accuracy
        );
    });

    let acc = accuracy(&net, &test_set);
    println!();
    println!(
        "held-out accuracy {:.1} % (Bayes-optimal {:.1} %, linear {:.1} %, chance {:.1} %), {:.2} s in total",
        100.0 * acc,
        100.0 * bayes,
        100.0 * linear_acc,
        100.0 / OUT as f64,
        started.elapsed().as_secs_f64()
    );
    if acc >= STATED_ACCURACY {
        println!(
            "reached the stated held-out accuracy of {:.0} %",
            100.0 * STATED_ACCURACY
        );
    } else {
        eprintln!(
            "FAILED to reach the stated held-out accuracy of {:.0} %",
            100.0 * STATED_ACCURACY
        );
        std::process::exit(1);
    }
}
