//! Shared by `examples/train.rs`, `examples/fgsm.rs` and `tests/training.rs`:
//! a synthetic 5-class task that needs the hidden layer, the training loop,
//! a linear baseline, and the fast gradient sign method.
//!
//! # The task
//!
//! Fifteen Gaussian clusters in the first three input dimensions, three per
//! class, with centres drawn (from a fixed seed) in `[−2, 2]³` at least
//! [`MIN_SEPARATION`] apart and standard deviation [`SIGMA`]. Each class owns
//! clusters in different parts of the cube, interleaved with the other
//! classes' clusters, so no set of five half-spaces separates them. Inputs 3
//! and 4 are standard normal noise that carries no information about the
//! class.
//!
//! Three references bracket what the network achieves:
//! - the Bayes-optimal classifier, which knows the true mixture
//!   ([`Task::bayes_accuracy`]): no classifier can do better on average;
//! - the best *linear* classifier, approximated by multinomial logistic
//!   regression trained to convergence in `f64` ([`train_linear`]): its
//!   objective is convex, so gradient descent finds its optimum, and it is
//!   what a network without a hidden layer can learn;
//! - chance, 20 %.
#![allow(dead_code)] // each example uses a different part of this module

use constgrad::{Mlp, Momentum, Param, Reduction, RowVec, Target};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Input width: three informative dimensions and two noise dimensions.
pub const IN: usize = 5;
/// Hidden width.
pub const HID: usize = 16;
/// Number of classes.
pub const OUT: usize = 5;
/// Inputs that carry the class (the rest are noise).
pub const INFORMATIVE: usize = 3;
/// Clusters per class.
pub const CLUSTERS_PER_CLASS: usize = 3;
/// Standard deviation of every cluster, per informative dimension.
pub const SIGMA: f64 = 0.4;
/// Smallest distance between two cluster centres.
pub const MIN_SEPARATION: f64 = 1.5;

/// The held-out accuracy that `examples/train.rs` states it reaches, and
/// that `tests/training.rs` asserts for a smaller run.
pub const STATED_ACCURACY: f64 = 0.90;

/// Seed of the examples' task (the cluster centres).
pub const TASK_SEED: u64 = 2024;

/// The network of the examples.
pub type Net = Mlp<IN, HID, OUT>;

/// A seeded generator.
#[must_use]
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.gen::<f64>(); // (0, 1], so ln is finite
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
}

/// Labelled samples.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Inputs.
    pub xs: Vec<RowVec<IN>>,
    /// Class of each input.
    pub labels: Vec<usize>,
    /// The labels as cross-entropy targets.
    pub targets: Vec<Target<OUT>>,
}

impl Dataset {
    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    /// Whether there are no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    fn push(&mut self, x: RowVec<IN>, label: usize) {
        self.xs.push(x);
        self.labels.push(label);
        self.targets
            .push(Target::class(label).expect("labels are drawn below OUT"));
    }
}

/// The generative model: cluster centres and their classes.
#[derive(Clone, Debug)]
pub struct Task {
    /// `(centre, class)` of every cluster.
    pub clusters: Vec<([f64; INFORMATIVE], usize)>,
}

impl Task {
    /// The task drawn from `seed`: centres uniform in `[−2, 2]³`, rejected
    /// when closer than [`MIN_SEPARATION`] to an earlier one; cluster `c`
    /// belongs to class `c mod 5`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let mut clusters: Vec<([f64; INFORMATIVE], usize)> = Vec::new();
        while clusters.len() < OUT * CLUSTERS_PER_CLASS {
            let c: [f64; INFORMATIVE] = core::array::from_fn(|_| rng.gen_range(-2.0..=2.0));
            if clusters
                .iter()
                .all(|(d, _)| dist2(&c, d) >= MIN_SEPARATION * MIN_SEPARATION)
            {
                let class = clusters.len() % OUT;
                clusters.push((c, class));
            }
        }
        Self { clusters }
    }

    /// `n` samples drawn from `seed`: a cluster uniformly, then its Gaussian
    /// in the informative dimensions and standard normal noise in the rest.
    #[must_use]
    pub fn sample(&self, n: usize, seed: u64) -> Dataset {
        let mut rng = rng(seed);
        let mut data = Dataset::default();
        for _ in 0..n {
            let (centre, class) = self.clusters[rng.gen_range(0..self.clusters.len())];
            let mut x = [0.0f32; IN];
            for (i, v) in x.iter_mut().enumerate() {
                *v = if i < INFORMATIVE {
                    (centre[i] + SIGMA * normal(&mut rng)) as f32
                } else {
                    normal(&mut rng) as f32
                };
            }
            data.push(RowVec::from_row(x), class);
        }
        data
    }

    /// The Bayes-optimal prediction: the class with the largest posterior
    /// `Σ_{clusters of the class} exp(−‖x − μ‖² / 2σ²)` (the noise
    /// dimensions and the equal priors cancel).
    #[must_use]
    pub fn bayes_predict(&self, x: &RowVec<IN>) -> usize {
        let xi: [f64; INFORMATIVE] = core::array::from_fn(|i| f64::from(x.row()[i]));
        let mut post = [0.0f64; OUT];
        for (centre, class) in &self.clusters {
            post[*class] += (-dist2(&xi, centre) / (2.0 * SIGMA * SIGMA)).exp();
        }
        argmax(&post)
    }

    /// Accuracy of the Bayes-optimal classifier on `data`.
    #[must_use]
    pub fn bayes_accuracy(&self, data: &Dataset) -> f64 {
        fraction(data, |x| self.bayes_predict(x))
    }
}

/// The examples' task with `n_train` training and `n_test` held-out
/// samples, drawn independently (seeds 1 and 2).
#[must_use]
pub fn example_data(n_train: usize, n_test: usize) -> (Task, Dataset, Dataset) {
    let task = Task::new(TASK_SEED);
    let train = task.sample(n_train, 1);
    let test = task.sample(n_test, 2);
    (task, train, test)
}

fn dist2(a: &[f64; INFORMATIVE], b: &[f64; INFORMATIVE]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Index of the largest entry (the first on ties).
pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Fraction of `data` that `predict` labels correctly.
pub fn fraction(data: &Dataset, predict: impl Fn(&RowVec<IN>) -> usize) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let right = data
        .xs
        .iter()
        .zip(&data.labels)
        .filter(|(x, &l)| predict(x) == l)
        .count();
    right as f64 / data.len() as f64
}

/// The network's predicted class: the largest logit.
#[must_use]
pub fn predict(net: &Net, x: &RowVec<IN>) -> usize {
    argmax(net.forward(x).theta.row())
}

/// The network's accuracy on `data`.
#[must_use]
pub fn accuracy(net: &Net, data: &Dataset) -> f64 {
    fraction(data, |x| predict(net, x))
}

/// Mean loss of the network on `data`.
#[must_use]
pub fn mean_loss(net: &Net, data: &Dataset) -> f64 {
    let total: f64 = data
        .xs
        .iter()
        .zip(&data.targets)
        .map(|(x, t)| f64::from(net.loss(x, t)))
        .sum();
    total / data.len().max(1) as f64
}

/// Hyper-parameters of [`train`].
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per SGD step.
    pub batch: usize,
    /// Learning rate `η` (the gradient is the batch *mean*).
    pub learning_rate: f32,
    /// Momentum coefficient `β`.
    pub momentum: f32,
    /// Seed of the initial weights and of the shuffling.
    pub seed: u64,
}

impl Config {
    /// The settings of `examples/train.rs`.
    pub const EXAMPLE: Config = Config {
        epochs: 40,
        batch: 32,
        learning_rate: 0.2,
        momentum: 0.9,
        seed: 1,
    };
}

/// What [`train`] reports after each epoch.
#[derive(Clone, Copy, Debug)]
pub struct Epoch {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss during the epoch (before each step).
    pub train_loss: f64,
    /// Training accuracy at the end of the epoch.
    pub train_accuracy: f64,
    /// Mean held-out loss at the end of the epoch.
    pub test_loss: f64,
    /// Held-out accuracy at the end of the epoch.
    pub test_accuracy: f64,
}

/// Xavier/Glorot uniform initial weights, zero biases, from `seed`.
#[must_use]
pub fn init(seed: u64) -> Net {
    let mut rng = rng(seed);
    let l1 = (6.0 / (IN + HID) as f64).sqrt();
    let l2 = (6.0 / (HID + OUT) as f64).sqrt();
    let mut net = Net::zeros();
    net.fill_with(|p, _, _| match p {
        Param::W1 => rng.gen_range(-l1..=l1) as f32,
        Param::W2 => rng.gen_range(-l2..=l2) as f32,
        Param::B1 | Param::B2 => 0.0,
    });
    net
}

/// Mini-batch SGD with momentum on the batch-mean loss
/// (`Mlp::grads_batch` with `Reduction::Mean`, then `Momentum::step`),
/// reshuffling every epoch, calling `on_epoch` after each.
pub fn train(
    cfg: &Config,
    train: &Dataset,
    test: &Dataset,
    mut on_epoch: impl FnMut(&Epoch),
) -> Net {
    let mut net = init(cfg.seed);
    let mut rng = rng(cfg.seed ^ 0x5eed);
    let mut opt = Momentum::new(cfg.momentum);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let (mut xs, mut ts) = (Vec::with_capacity(cfg.batch), Vec::with_capacity(cfg.batch));
    let mut losses = vec![0.0f32; cfg.batch];
    let mut dxs = vec![RowVec::zeros(); cfg.batch];
    let mut grads = constgrad::Grads::default();
    for epoch in 1..=cfg.epochs {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0f64;
        for chunk in order.chunks(cfg.batch) {
            xs.clear();
            ts.clear();
            xs.extend(chunk.iter().map(|&i| train.xs[i]));
            ts.extend(chunk.iter().map(|&i| train.targets[i]));
            let n = chunk.len();
            net.grads_batch(
                &xs,
                &ts,
                Reduction::Mean,
                &mut losses[..n],
                &mut dxs[..n],
                &mut grads,
            )
            .expect("the batch slices have equal lengths");
            loss_sum += f64::from(grads.loss) * n as f64;
            opt.step(&mut net, &grads, cfg.learning_rate);
        }
        on_epoch(&Epoch {
            epoch,
            train_loss: loss_sum / train.len().max(1) as f64,
            train_accuracy: accuracy(&net, train),
            test_loss: mean_loss(&net, test),
            test_accuracy: accuracy(&net, test),
        });
    }
    net
}

/// Multinomial logistic regression `softmax(x·W + b)` in `f64`: the best a
/// network without a hidden layer can do.
#[derive(Clone, Debug)]
pub struct Linear {
    /// `W`, `IN × OUT`.
    pub w: [[f64; OUT]; IN],
    /// `b`.
    pub b: [f64; OUT],
}

impl Linear {
    fn logits(&self, x: &RowVec<IN>) -> [f64; OUT] {
        core::array::from_fn(|j| {
            self.b[j]
                + x.row()
                    .iter()
                    .zip(&self.w)
                    .map(|(&xi, wi)| f64::from(xi) * wi[j])
                    .sum::<f64>()
        })
    }

    /// The predicted class.
    #[must_use]
    pub fn predict(&self, x: &RowVec<IN>) -> usize {
        argmax(&self.logits(x))
    }

    /// Accuracy on `data`.
    #[must_use]
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        fraction(data, |x| self.predict(x))
    }
}

/// Logistic regression on `data` by full-batch gradient descent with
/// momentum for `steps` steps (convex, so this approaches its optimum);
/// returns the model and the mean training loss before each step.
#[must_use]
pub fn train_linear(data: &Dataset, steps: usize) -> (Linear, Vec<f64>) {
    let mut m = Linear {
        w: [[0.0; OUT]; IN],
        b: [0.0; OUT],
    };
    let (mut vw, mut vb) = ([[0.0; OUT]; IN], [0.0; OUT]);
    let n = data.len().max(1) as f64;
    let (lr, beta) = (0.5, 0.9);
    let mut history = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (mut gw, mut gb) = ([[0.0; OUT]; IN], [0.0; OUT]);
        let mut loss = 0.0;
        for (x, &l) in data.xs.iter().zip(&data.labels) {
            let z = m.logits(x);
            let zmax = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: [f64; OUT] = core::array::from_fn(|j| (z[j] - zmax).exp());
            let s: f64 = e.iter().sum();
            loss += s.ln() - (z[l] - zmax);
            for j in 0..OUT {
                let d = e[j] / s - if j == l { 1.0 } else { 0.0 };
                gb[j] += d / n;
                for (gwi, &xi) in gw.iter_mut().zip(x.row()) {
                    gwi[j] += f64::from(xi) * d / n;
                }
            }
        }
        history.push(loss / n);
        for i in 0..IN {
            for j in 0..OUT {
                vw[i][j] = beta * vw[i][j] + gw[i][j];
                m.w[i][j] -= lr * vw[i][j];
            }
        }
        for j in 0..OUT {
            vb[j] = beta * vb[j] + gb[j];
            m.b[j] -= lr * vb[j];
        }
    }
    (m, history)
}

/// `x + ε·sign(d)` (entries with `d = 0` are not moved).
#[must_use]
pub fn step_by_sign(x: &RowVec<IN>, d: &RowVec<IN>, eps: f32) -> RowVec<IN> {
    let mut out = *x;
    for (o, &g) in out.row_mut().iter_mut().zip(d.row()) {
        if g > 0.0 {
            *o += eps;
        } else if g < 0.0 {
            *o -= eps;
        }
    }
    out
}

/// Every sample's `dL/dx` with respect to its true label, from one
/// `Mlp::input_grad_batch` call.
#[must_use]
pub fn input_grads(net: &Net, data: &Dataset) -> Vec<RowVec<IN>> {
    let mut losses = vec![0.0f32; data.len()];
    let mut dxs = vec![RowVec::zeros(); data.len()];
    net.input_grad_batch(&data.xs, &data.targets, &mut losses, &mut dxs)
        .expect("the batch slices have equal lengths");
    dxs
}

/// Accuracy on `data` after the fast gradient sign method: every input
/// moved by `ε·sign(dL/dx)` (an L∞ step of size `ε` that increases the loss
/// fastest to first order). `dxs` is [`input_grads`] of `data`.
#[must_use]
pub fn fgsm_accuracy(net: &Net, data: &Dataset, dxs: &[RowVec<IN>], eps: f32) -> f64 {
    let right = data
        .xs
        .iter()
        .zip(dxs)
        .zip(&data.labels)
        .filter(|((x, d), &l)| predict(net, &step_by_sign(x, d, eps)) == l)
        .count();
    right as f64 / data.len().max(1) as f64
}

/// Accuracy on `data` after moving every input by `ε` times a random sign
/// per entry (drawn from `seed`): a perturbation of the same L∞ size as
/// FGSM's that ignores the gradient.
#[must_use]
pub fn random_sign_accuracy(net: &Net, data: &Dataset, eps: f32, seed: u64) -> f64 {
    let mut rng = rng(seed);
    let right = data
        .xs
        .iter()
        .zip(&data.labels)
        .filter(|(x, &l)| {
            let signs = RowVec::from_row(core::array::from_fn(|_| {
                if rng.gen::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }));
            predict(net, &step_by_sign(x, &signs, eps)) == l
        })
        .count();
    right as f64 / data.len().max(1) as f64
}

/// Mean `|dL/dx_i|` over the samples, per input `i`: how strongly the loss
/// reacts to each input.
#[must_use]
pub fn saliency(dxs: &[RowVec<IN>]) -> [f64; IN] {
    let mut s = [0.0f64; IN];
    for d in dxs {
        for (si, &g) in s.iter_mut().zip(d.row()) {
            *si += f64::from(g.abs());
        }
    }
    s.map(|v| v / dxs.len().max(1) as f64)
}

/// Input indices sorted by decreasing saliency.
#[must_use]
pub fn ranking(saliency: &[f64; IN]) -> [usize; IN] {
    let mut idx: [usize; IN] = core::array::from_fn(|i| i);
    idx.sort_by(|&a, &b| saliency[b].total_cmp(&saliency[a]));
    idx
}
