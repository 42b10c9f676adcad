//! Where the time of a two-thread `par_input_grad_batch` goes (feature
//! `rayon`): per-call medians and tails of the 5→3→5 batch, called from
//! outside the pool (as the criterion benches call it) or from a thread of
//! the pool, on one thread, and as a bare two-part split that records when
//! the helper started and when each part ended; on Linux also each
//! thread's context switches, from `/proc/self/task` (on stderr).
//!
//! ```text
//! cargo run --release --features rayon --example par_probe -- MODE [N] [CALLS]
//!   MODE   one      `input_grad_batch` on the calling thread
//!          outside  `par_input_grad_batch` from the main thread, which is not
//!                   in rayon's pool (the pool has as many threads as vCPUs,
//!                   so the caller is one thread more)
//!          in_pool  `par_input_grad_batch` from the main thread made one of
//!                   the threads of a pool as large as the global one
//!                   (`ThreadPoolBuilder::use_current_thread`)
//!          split    two parts on `rayon::in_place_scope` from outside, the
//!                   caller's 96 samples longer (as the library's): when
//!                   the helper started and when each part ended
//!   N      samples per call (default 4096)
//!   CALLS  calls (default 40000)
//! ```
//!
//! Run each mode in a process of its own (a thread that joins a pool stays
//! in it), alternating, a few times: the host moves single runs by 10–30%.

#[path = "../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use constgrad::{Mat, Mlp, RowVec};

use support::gen::{weights, Pool, WEIGHT_SEED};

/// The caller's part of `split` is this many samples longer than half
/// (the library's head start for 5→3→5, which it keeps private).
const HEAD_START: usize = 96;

/// What each call does (see the module's docs).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    One,
    Outside,
    InPool,
    Split,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: par_probe one|outside|in_pool|split [N] [CALLS]";
    let name = args.first().map_or("", String::as_str);
    let mode = match name {
        "one" => Mode::One,
        "outside" => Mode::Outside,
        "in_pool" => Mode::InPool,
        "split" => Mode::Split,
        _ => {
            eprintln!("{usage}: unknown mode `{name}`");
            std::process::exit(2)
        }
    };
    let number = |i: usize, default: usize| match args.get(i) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("{usage}: `{s}` is not a count");
            std::process::exit(2)
        }),
    };
    let (n, calls) = (number(1, 4096), number(2, 40_000));

    let w = weights::<5, 3, 5>(WEIGHT_SEED, 2.0);
    let cg = Box::new(Mlp::new(
        Mat::from_rows(*w.w1),
        RowVec::from_row(w.b1),
        Mat::from_rows(*w.w2),
        RowVec::from_row(w.b2),
    ));
    let pool = Pool::<5, 5, usize>::seeded(n, -2.0, 2.0, |l| l);
    let (xs, ts) = (&pool.rows[..], &pool.targets[..]);
    let (mut ls, mut ds) = (vec![0.0f32; n], vec![RowVec::<5>::zeros(); n]);

    // Microseconds per call; for `split`, also the helper's start and each
    // part's end, from the call's start.
    let mut per_call = Vec::with_capacity(calls);
    let (mut starts, mut helper_ends, mut caller_ends) = (vec![], vec![], vec![]);
    let since = |t: Instant| t.elapsed().as_nanos() as u64;
    let _in_pool = (mode == Mode::InPool).then(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .use_current_thread()
            .build()
            .expect("the main thread is in no pool yet")
    });
    for _ in 0..calls {
        let t = Instant::now();
        match mode {
            Mode::One => cg.input_grad_batch(xs, ts, &mut ls, &mut ds),
            Mode::Outside | Mode::InPool => cg.par_input_grad_batch(xs, ts, &mut ls, &mut ds),
            Mode::Split => {
                let k = (n / 2 + HEAD_START).min(n);
                let ((x0, x1), (t0, t1)) = (xs.split_at(k), ts.split_at(k));
                let ((l0, l1), (d0, d1)) = (ls.split_at_mut(k), ds.split_at_mut(k));
                let (start, end) = (AtomicU64::new(0), AtomicU64::new(0));
                let mut caller_end = 0;
                rayon::in_place_scope(|s| {
                    s.spawn(|_| {
                        start.store(since(t), Ordering::Relaxed);
                        let r = cg.input_grad_batch(x1, t1, l1, d1);
                        end.store(since(t).max(1), Ordering::Release);
                        r.expect("batch lengths agree");
                    });
                    cg.input_grad_batch(x0, t0, l0, d0)
                        .expect("batch lengths agree");
                    caller_end = since(t);
                    while end.load(Ordering::Acquire) == 0 {
                        std::hint::spin_loop();
                    }
                });
                starts.push(start.into_inner());
                helper_ends.push(end.into_inner());
                caller_ends.push(caller_end);
                Ok(())
            }
        }
        .expect("batch lengths agree");
        per_call.push(since(t));
        black_box((&ls, &ds));
    }

    let us = |ns: u64| ns as f64 / 1e3;
    let mean = per_call.iter().sum::<u64>() as f64 / per_call.len().max(1) as f64 / 1e3;
    let q = |v: &mut Vec<u64>, p: usize| {
        v.sort_unstable();
        v.get(v.len() * p / 100).map_or(f64::NAN, |&x| us(x))
    };
    println!(
        "{name}, {n} samples, {calls} calls: median {:.2} µs, mean {mean:.2}, p90 {:.2}, p99 {:.2}",
        q(&mut per_call, 50),
        q(&mut per_call, 90),
        q(&mut per_call, 99),
    );
    if mode == Mode::Split {
        println!(
            "  medians: helper starts {:.2} µs, helper's part ends {:.2}, caller's part ends {:.2}",
            q(&mut starts, 50),
            q(&mut helper_ends, 50),
            q(&mut caller_ends, 50),
        );
    }
    // Linux: each thread's CPU time and context switches (on stderr, so
    // that the summary above is stdout's one line).
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map_or("?".to_string(), |v| v.trim().to_string())
        };
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the command name: utime is the 12th, stime the 13th.
        let after = stat.rsplit(')').next().unwrap_or("");
        let times: Vec<&str> = after.split_whitespace().skip(11).take(2).collect();
        eprintln!(
            "  thread {} ({}): CPU {} + {} ticks, context switches {} voluntary, {} involuntary",
            task.file_name().to_string_lossy(),
            field("Name:"),
            times.first().unwrap_or(&"?"),
            times.get(1).unwrap_or(&"?"),
            field("voluntary_ctxt_switches:"),
            field("nonvoluntary_ctxt_switches:"),
        );
    }
}
