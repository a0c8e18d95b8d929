//! Test support: numpy's legacy `RandomState` and scikit-learn's `make_friedman1`, re-implemented
//! so that tests and the benchmark regenerate the Friedman #1 data bit for bit instead of reading
//! a large committed file.
//!
//! * `RandomState(seed)` with an integer seed is MT19937 seeded by `init_genrand(seed)`.
//! * `random_sample()` = `(a·2²⁶ + b) / 2⁵³` with `a = next_u32 >> 5`, `b = next_u32 >> 6`.
//! * `standard_normal()` = legacy polar Box–Muller: draw `x1, x2 = 2u − 1` until
//!   `0 < r² = x1² + x2² < 1`, `f = √(−2 ln r² / r²)`, return `f·x2` and keep `f·x1` for the next call.
//! * `make_friedman1(n, p, noise, seed)`: `X = uniform(size=(n, p))` (row-major draws), then
//!   `y = 10 sin(π x0 x1) + 20 (x2 − 0.5)² + 10 x3 + 5 x4 + noise·standard_normal(n)`, evaluated
//!   left to right as numpy does.
//!
//! `conformance/numpy_randomstate.py` prints reference values; `numpy_randomstate_values.txt`
//! holds them and the tests compare against it.

#![allow(dead_code)]

use rsei_forest::Dataset;

/// numpy's legacy MT19937-based `RandomState`.
pub struct RandomState {
    mt: [u32; 624],
    index: usize,
    gauss: Option<f64>,
}

impl RandomState {
    /// `np.random.RandomState(seed)` for a seed in `0..2³²` (`init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        RandomState { mt, index: 624, gauss: None }
    }

    fn generate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..624 {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % 624] & LOWER);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 == 1 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.index = 0;
    }

    /// Next tempered 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.generate();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `random_sample()`: 53-bit double in [0, 1).
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `standard_normal()`: legacy polar Box–Muller with the cached second value.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }
}

/// `sklearn.datasets.make_friedman1(n_samples, n_features, noise=noise, random_state=seed)`:
/// returns `(x as columns, y)`.
pub fn make_friedman1(n_samples: usize, n_features: usize, noise: f64, seed: u32) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut rs = RandomState::new(seed);
    let mut x = vec![vec![0.0; n_samples]; n_features];
    for i in 0..n_samples {
        for col in x.iter_mut() {
            // uniform(0, 1) = 0 + (1 − 0)·random_sample()
            col[i] = rs.random_sample();
        }
    }
    let y = (0..n_samples)
        .map(|i| {
            let base = 10.0 * (std::f64::consts::PI * x[0][i] * x[1][i]).sin()
                + 20.0 * ((x[2][i] - 0.5) * (x[2][i] - 0.5))
                + 10.0 * x[3][i]
                + 5.0 * x[4][i];
            base + noise * rs.standard_normal()
        })
        .collect();
    (x, y)
}

/// Friedman #1 as used by the conformance test and the benchmark: 14 300 rows, 10 predictors,
/// noise 1, seed 0; rows 0..10 000 train, rows 10 000..14 300 test.
pub fn friedman_train_test() -> (Dataset, Dataset) {
    let (x, y) = make_friedman1(14_300, 10, 1.0, 0);
    let names: Vec<String> = (0..10).map(|j| format!("x{j}")).collect();
    let split = |lo: usize, hi: usize| {
        Dataset::new(x.iter().map(|c| c[lo..hi].to_vec()).collect(), y[lo..hi].to_vec(), names.clone())
            .expect("columns built with equal lengths")
    };
    (split(0, 10_000), split(10_000, 14_300))
}
