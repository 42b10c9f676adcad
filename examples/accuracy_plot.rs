//! Writes `docs/accuracy.svg`: the ulp error of `exp` and `sigmoid` (f32)
//! across the input range, as the maximum over each of 400 bins, for
//! constgrad's kernels and for the alternatives (std's scalar `expf`,
//! `wide`'s `f32x8::exp`, the naive `1/(1 + e^-x)`).
//!
//! ```text
//! cargo run --release --example accuracy_plot [-- OUTPUT.svg]
//! ```
//!
//! Each bin is measured on every 16th `f32` bit pattern inside it (about
//! 10⁸ inputs per curve in all); the exhaustive maxima are in `ACCURACY.md`.

#[path = "../tests/accuracy_support/mod.rs"]
mod support;

use support::kernels::{constgrad_exp, constgrad_sigmoid, naive_sigmoid, std_exp, wide_exp};

use plotters::prelude::*;
use support::{exp_f32_err, f32s_between, sigmoid_f32_err};

const BINS: usize = 400;
const STRIDE: u32 = 16;

type Kernel = fn(&mut [f32]);

/// Max ulp error per bin of `[lo, hi]`, as `(bin centre, max ulp)` points.
fn binned(kernel: Kernel, err: fn(f32, f32) -> (f64, bool), lo: f32, hi: f32) -> Vec<(f64, f64)> {
    let xs = f32s_between(lo, hi, STRIDE);
    let width = f64::from(hi - lo) / BINS as f64;
    let per = xs.len().div_ceil(support::threads());
    let maxima: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = xs
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut ys = part.to_vec();
                    kernel(&mut ys);
                    let mut m = vec![0.0f64; BINS];
                    for (&x, &y) in part.iter().zip(&ys) {
                        let b = (((f64::from(x) - f64::from(lo)) / width) as usize).min(BINS - 1);
                        let (e, ok) = err(x, y);
                        m[b] = m[b].max(if ok { e } else { f64::INFINITY });
                    }
                    m
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    (0..BINS)
        .map(|b| {
            let centre = f64::from(lo) + (b as f64 + 0.5) * width;
            (centre, maxima.iter().map(|m| m[b]).fold(0.0, f64::max))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/accuracy.svg".to_string());
    let (elo, ehi) = (-104.0f32, 89.0f32);
    let (slo, shi) = (-104.0f32, 30.0f32);
    let exp_curves = [
        (
            "constgrad exp",
            binned(constgrad_exp, exp_f32_err, elo, ehi),
            BLUE,
        ),
        (
            "std f32::exp",
            binned(std_exp, exp_f32_err, elo, ehi),
            GREEN,
        ),
        (
            "wide f32x8::exp",
            binned(wide_exp, exp_f32_err, elo, ehi),
            RED,
        ),
    ];
    let sig_curves = [
        (
            "constgrad sigmoid",
            binned(constgrad_sigmoid, sigmoid_f32_err, slo, shi),
            BLUE,
        ),
        (
            "naive 1/(1+exp(-x))",
            binned(naive_sigmoid, sigmoid_f32_err, slo, shi),
            RED,
        ),
    ];

    let root = SVGBackend::new(&out, (1000, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(450);

    // exp: linear scale, the 1-ulp bound drawn.
    let ymax = exp_curves
        .iter()
        .flat_map(|c| c.1.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .caption("exp (f32): max ulp error per bin of x", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(f64::from(elo)..f64::from(ehi), 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("ulp")
        .light_line_style(WHITE)
        .draw()?;
    for (name, pts, colour) in &exp_curves {
        let c = *colour;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|&(x, y)| (x, y.min(ymax))),
                c.stroke_width(1),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c));
    }
    chart.draw_series(LineSeries::new(
        [(f64::from(elo), 1.0), (f64::from(ehi), 1.0)],
        BLACK.stroke_width(1),
    ))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;

    // sigmoid: log scale (the naive form is off by up to ~10^7 ulp).
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "sigmoid (f32): max ulp error per bin of x (log scale)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(f64::from(slo)..f64::from(shi), (1e-2..1e8).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("ulp")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .light_line_style(WHITE)
        .draw()?;
    for (name, pts, colour) in &sig_curves {
        let c = *colour;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|&(x, y)| (x, y.clamp(1e-2, 1e8))),
                c.stroke_width(1),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c));
    }
    chart.draw_series(LineSeries::new(
        [(f64::from(slo), 2.0), (f64::from(shi), 2.0)],
        BLACK.stroke_width(1),
    ))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    println!("wrote {out}");
    Ok(())
}
