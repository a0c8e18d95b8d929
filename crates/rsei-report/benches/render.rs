//! Rendering timings: `cargo bench -p rsei-report --bench render`.
//!
//! Prints the median of several runs for: a 2400 × 2400 RSEI map (one MODIS tile at 500 m) to
//! PNG at scale 2 and to SVG, a line chart with 1000 points, and a 20 000-point scatter, to PNG.

use rsei_report::chart::{Axis, Chart, Series};
use rsei_report::map::{MapPalette, MapStyle};
use rsei_report::{render_map, render_map_svg, to_png, to_svg};
use std::time::Instant;

fn median_ms(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut t = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let s = Instant::now();
        size = f();
        t.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    t.sort_by(f64::total_cmp);
    (t[runs / 2], size)
}

fn main() {
    let n = 2400;
    // smooth field with noise-like texture and a nodata corner
    let v: Vec<f32> = (0..n * n)
        .map(|i| {
            let (r, c) = ((i / n) as f32, (i % n) as f32);
            if r + c < 300.0 {
                f32::NAN
            } else {
                0.5 + 0.4 * (r / 97.0).sin() * (c / 131.0).cos()
                    + 0.05 * ((i as f32 * 12.9898).sin() * 43758.545).fract()
            }
        })
        .collect();
    let grades = MapStyle {
        title: "bench".into(),
        cell_size_m: Some(463.3127),
        ..MapStyle::default()
    };
    let cont = MapStyle {
        palette: MapPalette::rsei_continuous(),
        ..grades.clone()
    };
    let (ms, bytes) = median_ms(7, || {
        render_map(&v, n, n, &grades).map(|p| p.len()).unwrap_or(0)
    });
    println!("map 2400x2400 grades  -> PNG (scale 2): {ms:8.1} ms  ({bytes} bytes)");
    let (ms, bytes) = median_ms(7, || {
        render_map(&v, n, n, &cont).map(|p| p.len()).unwrap_or(0)
    });
    println!("map 2400x2400 ramp    -> PNG (scale 2): {ms:8.1} ms  ({bytes} bytes)");
    let (ms, bytes) = median_ms(7, || {
        render_map_svg(&v, n, n, &grades)
            .map(|p| p.len())
            .unwrap_or(0)
    });
    println!("map 2400x2400 grades  -> SVG          : {ms:8.1} ms  ({bytes} bytes)");

    let line: Vec<(f64, f64)> = (0..1000)
        .map(|i| (i as f64, (i as f64 / 50.0).sin()))
        .collect();
    let c = Chart::new("line", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::line("s", line));
    let (ms, bytes) = median_ms(9, || {
        to_png(&c, 640.0, 400.0, 2.0).map(|p| p.len()).unwrap_or(0)
    });
    println!("line chart 1000 pts   -> PNG (scale 2): {ms:8.1} ms  ({bytes} bytes)");
    let pts: Vec<(f64, f64)> = (0..20_000)
        .map(|i| ((i as f64 * 0.618).fract(), (i as f64 * 0.414).fract()))
        .collect();
    let s = Chart::new("scatter", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::scatter("p", pts).with_one_to_one());
    let (ms, bytes) = median_ms(5, || {
        to_png(&s, 500.0, 500.0, 2.0).map(|p| p.len()).unwrap_or(0)
    });
    println!("scatter 20000 pts     -> PNG (scale 2): {ms:8.1} ms  ({bytes} bytes)");
    let (ms, bytes) = median_ms(5, || to_svg(&s, 500.0, 500.0).map(|p| p.len()).unwrap_or(0));
    println!("scatter 20000 pts     -> SVG          : {ms:8.1} ms  ({bytes} bytes)");
}
