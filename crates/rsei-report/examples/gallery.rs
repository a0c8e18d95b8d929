//! Renders one chart of each kind and two synthetic maps, as SVG and PNG, for visual review.
//!
//! ```text
//! cargo run -p rsei-report --example gallery -- OUTDIR
//! ```
//!
//! The data are synthetic (a fixed-seed generator), shaped like the paper's figures.

use rsei_report::chart::{
    Annotation, Axis, BoxItem, Chart, Corner, Legend, LegendPosition, MarkerShape, Series,
};
use rsei_report::color::{sequential, Rgba};
use rsei_report::map::{MapPalette, MapStyle, Outline};
use rsei_report::{render_map, render_map_svg, to_png, to_svg, write_png, write_svg};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A small deterministic generator (64-bit LCG + xorshift output).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = (self.0 ^ (self.0 >> 29)) >> 11;
        x as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn save(
    dir: &Path,
    name: &str,
    chart: &Chart,
    w: f64,
    h: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    write_svg(&dir.join(format!("{name}.svg")), &to_svg(chart, w, h)?)?;
    write_png(&dir.join(format!("{name}.png")), &to_png(chart, w, h, 2.0)?)?;
    println!("{name}: ok");
    Ok(())
}

fn gauss(x: f64, m: f64, s: f64) -> f64 {
    (-(x - m).powi(2) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "gallery-out".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng(20240214);

    // 1. latitude profile: mean ± sd line, mine counts as bars on a secondary axis
    let lats: Vec<f64> = (0..21).map(|i| 40.4 + 0.05 * i as f64).collect();
    let mean: Vec<(f64, f64)> = lats
        .iter()
        .map(|&l| {
            (
                l,
                0.55 - 0.18 * gauss(l, 41.0, 0.12) * 0.3 + 0.03 * rng.normal(),
            )
        })
        .collect();
    let band: Vec<(f64, f64)> = mean.iter().map(|&(_, m)| (m - 0.12, m + 0.12)).collect();
    let mines: Vec<(f64, f64)> = lats
        .iter()
        .map(|&l| (l, (14.0 * gauss(l, 41.0, 0.1) * 0.25).round()))
        .collect();
    let c = Chart::new(
        "Anshan: RSEI by latitude, 2022",
        Axis::linear("Latitude", Some("°N")),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_y2_axis(Axis::linear("Number of mines", None))
    .with_series(
        Series::bars("Mines", mines)
            .on_secondary_axis()
            .with_color(Rgba::hex(0x999999).with_alpha(0.55)),
    )
    .with_series(Series::line_with_band("Mean RSEI ± sd", mean, band));
    save(&dir, "01-latitude-profile", &c, 640.0, 380.0)?;

    // 2. densities by year
    let years = [2001, 2006, 2011, 2016, 2022];
    let cols = sequential(years.len());
    let mut c = Chart::new(
        "RSEI pixel density by year",
        Axis::linear("RSEI", None).with_range(0.0, 1.0),
        Axis::linear("Density", None),
    )
    .with_legend(Legend {
        position: LegendPosition::Auto,
        title: Some("Year".into()),
    });
    for (k, y) in years.iter().enumerate() {
        let sep = 0.08 + 0.03 * k as f64;
        let pts: Vec<(f64, f64)> = (0..=100)
            .map(|i| i as f64 / 100.0)
            .map(|x| {
                (
                    x,
                    0.55 * gauss(x, 0.45 - sep, 0.08) + 0.45 * gauss(x, 0.5 + sep, 0.1),
                )
            })
            .collect();
        c = c.with_series(Series::area(y.to_string(), pts).with_color(cols[k]));
    }
    save(&dir, "02-density", &c, 640.0, 380.0)?;

    // 3. predicted vs observed
    let pts: Vec<(f64, f64)> = (0..1500)
        .map(|_| {
            let o = (0.15 + 0.7 * rng.next()).clamp(0.0, 1.0);
            (o, (0.05 + 0.9 * o + 0.04 * rng.normal()).clamp(0.0, 1.0))
        })
        .collect();
    let c = Chart::new(
        "Random forest validation, Handan",
        Axis::linear("Observed RSEI", None),
        Axis::linear("Predicted RSEI", None),
    )
    .with_series(Series::scatter("Validation pixels (30 %)", pts).with_one_to_one())
    .with_annotation(Annotation::Note {
        text: "R² = 0.912\nRMSE = 0.038\nMAE = 0.028".into(),
        corner: Corner::TopLeft,
    });
    save(&dir, "03-scatter", &c, 480.0, 440.0)?;

    // 4. grouped bars
    let cities = [
        "Anshan",
        "Handan",
        "Huangshi",
        "Ma'anshan",
        "Panzhihua",
        "Tangshan",
        "Changjiang",
    ];
    let city_mean = [0.52, 0.41, 0.58, 0.695, 0.377, 0.47, 0.61];
    let mine_mean = [0.39, 0.33, 0.45, 0.66, 0.30, 0.44, 0.58];
    let c = Chart::new(
        "Mean RSEI: city vs mining areas, 2001–2022",
        Axis::categories("", cities),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_series(Series::bars(
        "Whole city",
        city_mean
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v))
            .collect(),
    ))
    .with_series(Series::bars(
        "Mining areas",
        mine_mean
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v))
            .collect(),
    ));
    save(&dir, "04-grouped-bars", &c, 640.0, 380.0)?;

    // 5. horizontal importance bars
    let drivers = [
        "DisM", "DEM", "GDP", "Prec", "Slope", "PM2.5", "CO₂", "NTL", "MineA", "Elec",
    ];
    let imp: [f64; 10] = [
        161.1, 119.0, 129.6, 118.4, 77.5, 167.2, 60.3, 55.1, 42.0, 30.9,
    ];
    let mut order: Vec<usize> = (0..drivers.len()).collect();
    order.sort_by(|&a, &b| imp[b].total_cmp(&imp[a]));
    let c = Chart::new(
        "Driver importance, Tangshan",
        Axis::linear("%IncMSE", Some("%")).with_grid(),
        Axis::categories("", order.iter().map(|&i| drivers[i])),
    )
    .with_legend(Legend {
        position: LegendPosition::Hidden,
        title: None,
    })
    .with_series(
        Series::horizontal_bars(
            "%IncMSE",
            order
                .iter()
                .enumerate()
                .map(|(k, &i)| (k as f64, imp[i]))
                .collect(),
        )
        .with_value_labels(1),
    );
    save(&dir, "05-importance", &c, 560.0, 400.0)?;

    // 6. box plots by mine-size class and year
    let classes = ["<0.25", "0.25–0.5", "0.5–0.75", "0.75–1", "≥1"];
    let mut c = Chart::new(
        "RSEI of mines by mine area",
        Axis::categories("Mine area (km²)", classes),
        Axis::linear("Mean RSEI per mine", None).with_grid(),
    )
    .with_legend(Legend {
        position: LegendPosition::Auto,
        title: Some("Year".into()),
    });
    for (k, y) in [2001, 2011, 2022].iter().enumerate() {
        let boxes = (0..classes.len())
            .map(|i| {
                let m = 0.68 - 0.06 * i as f64 - 0.03 * k as f64;
                BoxItem {
                    position: i as f64,
                    min: m - 0.22,
                    q1: m - 0.07,
                    median: m,
                    q3: m + 0.06,
                    max: m + 0.17,
                    outliers: vec![m - 0.3 - 0.02 * rng.next(), m + 0.24 + 0.02 * rng.next()],
                }
            })
            .collect();
        c = c.with_series(Series::boxes(y.to_string(), boxes));
    }
    save(&dir, "06-boxplots", &c, 640.0, 400.0)?;

    // 7. heat map of correlations
    let drivers10 = [
        "DEM", "Slope", "Prec", "GDP", "NTL", "Elec", "CO₂", "PM2.5", "DisM", "MineA",
    ];
    let abbr = ["AS", "HD", "HS", "MAS", "PZH", "TS", "CJ"];
    let values: Vec<Vec<f64>> = abbr
        .iter()
        .enumerate()
        .map(|(r, _)| {
            drivers10
                .iter()
                .enumerate()
                .map(|(k, _)| {
                    if r == 3 && k == 9 {
                        f64::NAN
                    } else {
                        ((r * 7 + k * 3) as f64 * 0.7).sin() * 0.75
                    }
                })
                .collect()
        })
        .collect();
    let c = Chart::new(
        "Pearson correlation of RSEI with drivers",
        Axis::categories("", drivers10),
        Axis::categories("", abbr),
    )
    .with_series(Series::heat_map(values, (-1.0, 1.0), 2, "r"));
    save(&dir, "07-heatmap", &c, 680.0, 360.0)?;

    // 8. distance gradient with turning point
    let mut c = Chart::new(
        "RSEI by distance to mines, Tangshan",
        Axis::linear("Distance to mine", Some("km")),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_legend(Legend {
        position: LegendPosition::Auto,
        title: None,
    });
    let ycols = sequential(3);
    for (k, y) in [2001, 2011, 2022].iter().enumerate() {
        let pts: Vec<(f64, f64)> = (0..=30)
            .map(|d| {
                (
                    d as f64,
                    0.36 + 0.03 * k as f64
                        + 0.16 * (1.0 - (-(d as f64) / 4.0).exp())
                        + 0.006 * rng.normal(),
                )
            })
            .collect();
        c = c.with_series(
            Series::line(y.to_string(), pts)
                .with_color(ycols[k])
                .with_marker(MarkerShape::Circle),
        );
    }
    let mean: Vec<(f64, f64)> = (0..=30)
        .map(|d| (d as f64, 0.39 + 0.16 * (1.0 - (-(d as f64) / 4.0).exp())))
        .collect();
    c = c
        .with_series(
            Series::line("Multi-year mean", mean)
                .with_color(Rgba::hex(0xd55e00))
                .dashed(),
        )
        .with_annotation(Annotation::VLine {
            x: 3.0,
            label: "turning point 3 km".into(),
        });
    save(&dir, "08-distance", &c, 640.0, 380.0)?;

    // 9. histogram
    let edges: Vec<f64> = (0..=20).map(|i| i as f64 * 0.05).collect();
    let counts: Vec<f64> = (0..20)
        .map(|i| (4000.0 * gauss(i as f64 * 0.05 + 0.025, 0.55, 0.15)).round())
        .collect();
    let c = Chart::new(
        "RSEI histogram <2022> & \"grades\"",
        Axis::linear("RSEI", None),
        Axis::linear("Pixels", None).with_grid(),
    )
    .with_series(Series::histogram("2022", edges, counts))
    .with_annotation(Annotation::VLine {
        x: 0.55,
        label: "mean 0.55".into(),
    })
    .with_annotation(Annotation::HLine {
        y: 8000.0,
        label: "reference".into(),
        secondary: false,
    });
    save(&dir, "09-histogram", &c, 560.0, 360.0)?;

    // 13. many ordered series (22 years): the legend moves outside in columns
    let years: Vec<i32> = (2001..=2022).collect();
    let cols = sequential(years.len());
    let mut c = Chart::new(
        "RSEI pixel density, 2001–2022",
        Axis::linear("RSEI", None).with_range(0.0, 1.0),
        Axis::linear("Density", None),
    )
    .with_legend(Legend {
        position: LegendPosition::Auto,
        title: Some("Year".into()),
    });
    for (k, y) in years.iter().enumerate() {
        let m = 0.42 + 0.006 * k as f64;
        let pts: Vec<(f64, f64)> = (0..=100)
            .map(|i| i as f64 / 100.0)
            .map(|x| (x, gauss(x, m, 0.12 + 0.002 * k as f64)))
            .collect();
        c = c.with_series(Series::area(y.to_string(), pts).with_color(cols[k]));
    }
    save(&dir, "13-density-22-years", &c, 680.0, 400.0)?;

    // 14. long category names rotate; legend below the plot
    let long = [
        "Anshan City",
        "Handan City",
        "Huangshi City",
        "Ma'anshan City",
        "Panzhihua City",
        "Tangshan City",
        "Changjiang Li Autonomous County",
    ];
    let c = Chart::new(
        "Share of poor and fair RSEI",
        Axis::categories("", long),
        Axis::linear("Share of city area", Some("%")).with_grid(),
    )
    .with_legend(Legend {
        position: LegendPosition::Bottom,
        title: None,
    })
    .with_series(Series::bars(
        "2001",
        (0..7).map(|i| (i as f64, 20.0 + 5.0 * i as f64)).collect(),
    ))
    .with_series(Series::bars(
        "2022",
        (0..7).map(|i| (i as f64, 25.0 + 4.0 * i as f64)).collect(),
    ))
    .with_annotation(Annotation::HLine {
        y: 30.0,
        label: "national mean".into(),
        secondary: false,
    });
    save(&dir, "14-rotated-labels", &c, 520.0, 400.0)?;

    // maps: a synthetic city of 600 × 700 cells at 500 m
    let (rows, cols) = (600usize, 700usize);
    let mut vals = vec![f32::NAN; rows * cols];
    let mut water = vec![false; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let (y, x) = (r as f64 / rows as f64, c as f64 / cols as f64);
            // outside an irregular city boundary → nodata
            let inside =
                ((x - 0.5) / 0.48).powi(2) + ((y - 0.5) / 0.46).powi(2) + 0.05 * (8.0 * x).sin()
                    < 1.0;
            if !inside {
                continue;
            }
            let urban = (-((x - 0.55).powi(2) + (y - 0.4).powi(2)) / 0.01).exp();
            let mine = (-((x - 0.3).powi(2) + (y - 0.7).powi(2)) / 0.002).exp();
            let v = 0.25 + 0.55 * y + 0.15 * (6.0 * x).sin() * (5.0 * y).cos()
                - 0.45 * urban
                - 0.4 * mine
                + 0.04 * rng.normal();
            vals[r * cols + c] = v.clamp(0.0, 1.0) as f32;
            water[r * cols + c] = ((x - 0.75).powi(2) / 0.004 + (y - 0.65).powi(2) / 0.002) < 1.0;
        }
    }
    let ring = |cx: f64, cy: f64, rx: f64, ry: f64| -> Vec<(f64, f64)> {
        (0..24)
            .map(|i| i as f64 / 24.0 * std::f64::consts::TAU)
            .map(|t| (cx + rx * t.cos(), cy + ry * t.sin()))
            .collect()
    };
    let mines = Outline {
        rings: vec![
            ring(210.0, 420.0, 18.0, 12.0),
            ring(250.0, 440.0, 10.0, 8.0),
            ring(190.0, 400.0, 7.0, 9.0),
        ],
        color: Rgba::hex(0x000000),
        width: 1.2,
        label: Some("Mines".into()),
    };
    let style = MapStyle {
        title: "Synthetic city, RSEI 2022".into(),
        water_mask: Some(&water),
        cell_size_m: Some(500.0),
        outlines: vec![mines.clone()],
        ..MapStyle::default()
    };
    let t = Instant::now();
    write_png(
        &dir.join("10-map-grades.png"),
        &render_map(&vals, rows, cols, &style)?,
    )?;
    println!(
        "10-map-grades: ok ({:.0} ms)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    write_svg(
        &dir.join("10-map-grades.svg"),
        &render_map_svg(&vals, rows, cols, &style)?,
    )?;
    let style_c = MapStyle {
        title: "Synthetic city, RSEI 2022 (continuous)".into(),
        palette: MapPalette::rsei_continuous(),
        legend_title: "RSEI".into(),
        nodata_color: Rgba::TRANSPARENT,
        ..style.clone()
    };
    write_png(
        &dir.join("11-map-continuous.png"),
        &render_map(&vals, rows, cols, &style_c)?,
    )?;
    write_svg(
        &dir.join("11-map-continuous.svg"),
        &render_map_svg(&vals, rows, cols, &style_c)?,
    )?;
    println!("11-map-continuous: ok");

    // a full MODIS tile (2400 × 2400): timing of the display reduction + rasterising + encoding
    let n = 2400usize;
    let big: Vec<f32> = (0..n * n)
        .map(|i| (((i / n) as f32 / n as f32) * 0.8 + ((i % n) as f32 / n as f32) * 0.2).fract())
        .collect();
    let style_big = MapStyle {
        title: "2400 × 2400 tile".into(),
        cell_size_m: Some(463.3127),
        ..MapStyle::default()
    };
    let t = Instant::now();
    let png = render_map(&big, n, n, &style_big)?;
    println!(
        "12-map-2400: {:.0} ms, {} bytes",
        t.elapsed().as_secs_f64() * 1000.0,
        png.len()
    );
    write_png(&dir.join("12-map-2400.png"), &png)?;
    Ok(())
}
