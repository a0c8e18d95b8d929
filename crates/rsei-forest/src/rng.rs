//! Small, fast, seedable pseudo-random numbers.
//!
//! * [`SplitMix64`] (Steele, Lea & Flood 2014) turns one `u64` seed into a stream of well-mixed
//!   `u64` values. The forest uses it to derive one seed per tree from the master seed *before* any
//!   thread starts, so tree `t` always sees the same random stream whatever the thread count.
//! * [`Xoshiro256StarStar`] (Blackman & Vigna 2018) is the per-tree generator: 256 bits of state,
//!   four xors, two shifts, one rotation and two multiplications per draw.
//!
//! Both follow the public-domain reference definitions exactly; the unit tests check the first
//! outputs against values worked out by hand from those definitions.

/// SplitMix64: a 64-bit counter passed through a bijective mixing function.
///
/// ```
/// use rsei_forest::rng::SplitMix64;
/// let mut a = SplitMix64::new(42);
/// let mut b = SplitMix64::new(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Starts the stream at `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// Next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256**: the all-purpose generator of Blackman & Vigna.
///
/// ```
/// use rsei_forest::rng::Xoshiro256StarStar;
/// let mut rng = Xoshiro256StarStar::seed_from_u64(7);
/// let u = rng.next_f64();
/// assert!((0.0..1.0).contains(&u));
/// let k = rng.below(10);
/// assert!(k < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// Uses `state` as is. An all-zero state would only ever produce zeros, so it is replaced by the
    /// state that [`Xoshiro256StarStar::seed_from_u64`]`(0)` gives.
    pub fn from_state(state: [u64; 4]) -> Self {
        if state == [0; 4] {
            return Self::seed_from_u64(0);
        }
        Xoshiro256StarStar { s: state }
    }

    /// Fills the 256-bit state with four consecutive [`SplitMix64`] outputs, the seeding the
    /// authors recommend (never all zero: SplitMix64 is a bijection of a counter).
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        Xoshiro256StarStar {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    /// Next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform double in `[0, 1)` with 53 random bits: `(next_u64() >> 11) · 2⁻⁵³`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` without modulo bias (Lemire's multiply-and-reject method).
    /// Returns 0 when `n` is 0 or 1.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let n64 = n as u64;
        let mut m = (self.next_u64() as u128) * (n64 as u128);
        let mut low = m as u64;
        if low < n64 {
            // 2^64 mod n: outputs whose low half falls below it would make some values more likely.
            let threshold = n64.wrapping_neg() % n64;
            while low < threshold {
                m = (self.next_u64() as u128) * (n64 as u128);
                low = m as u64;
            }
        }
        (m >> 64) as usize
    }
}

/// Derives `count` independent seeds from a master seed (SplitMix64 outputs in order).
///
/// Called once before parallel work starts, so that item `i` always receives the same seed.
pub fn derive_seeds(master: u64, count: usize) -> Vec<u64> {
    let mut sm = SplitMix64::new(master);
    (0..count).map(|_| sm.next_u64()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_first_outputs_by_hand() {
        // State (s0, s1, s2, s3) = (1, 2, 3, 4).
        // Output 1: rotl(s1·5, 7)·9 = rotl(10, 7)·9 = 1280·9 = 11520.
        //   Update: t = 2<<17 = 262144; s2 = 3^1 = 2; s3 = 4^2 = 6; s1 = 2^2 = 0; s0 = 1^6 = 7;
        //   s2 = 2^262144 = 262146; s3 = rotl(6, 45).
        // Output 2: rotl(0·5, 7)·9 = 0.
        //   Update: t = 0; s2 = 262146^7 = 262149; s3 = rotl(6,45)^0; s1 = 0^262149 = 262149; ...
        // Output 3: rotl(262149·5, 7)·9 = 1310745·128·9 = 1509978240 (no bits wrap around).
        let mut rng = Xoshiro256StarStar::from_state([1, 2, 3, 4]);
        assert_eq!(rng.next_u64(), 11520);
        assert_eq!(rng.next_u64(), 0);
        assert_eq!(rng.next_u64(), 1_509_978_240);
    }

    #[test]
    fn splitmix_first_output_by_hand() {
        // seed 0: state = 0x9E3779B97F4A7C15 after the increment; the mixing steps below are the
        // definition written out, evaluated with wrapping u64 arithmetic.
        let s: u64 = 0x9E37_79B9_7F4A_7C15;
        let z1 = (s ^ (s >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z2 = (z1 ^ (z1 >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let expected = z2 ^ (z2 >> 31);
        // Published first output of SplitMix64 seeded with 0.
        assert_eq!(expected, 0xE220_A839_7B1D_CDAF);
        assert_eq!(SplitMix64::new(0).next_u64(), expected);
    }

    #[test]
    fn zero_state_is_replaced() {
        let mut a = Xoshiro256StarStar::from_state([0; 4]);
        let mut b = Xoshiro256StarStar::seed_from_u64(0);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(a.next_u64(), 0);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = Xoshiro256StarStar::seed_from_u64(123);
        let mut hist = [0usize; 7];
        for _ in 0..70_000 {
            hist[rng.below(7)] += 1;
        }
        // Each bin expects 10 000; binomial sd ≈ 93, so ±600 is > 6 sd.
        for h in hist {
            assert!((9_400..=10_600).contains(&h), "{hist:?}");
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn next_f64_in_unit_interval_with_mean_half() {
        let mut rng = Xoshiro256StarStar::seed_from_u64(9);
        let mut sum = 0.0;
        for _ in 0..100_000 {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        // mean 0.5, sd of the mean = sqrt(1/12/1e5) ≈ 0.0009
        assert!((sum / 100_000.0 - 0.5).abs() < 0.005);
    }

    #[test]
    fn derived_seeds_are_a_prefix_property() {
        let a = derive_seeds(5, 10);
        let b = derive_seeds(5, 3);
        assert_eq!(&a[..3], &b[..]);
        assert_ne!(a[0], a[1]);
    }
}
