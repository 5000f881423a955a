//! A small deterministic PRNG (SplitMix64) for functions that draw random inputs from a `seed`
//! argument. The same seed gives the same numbers on the worker and on the host, which is what
//! lets the host check a worker's output; statistical quality beyond that does not matter here.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0), by rejection so every value is equally likely.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// The seed to use when a request gives none: different on every call, like the original's
/// unseeded `random` module.
pub fn seed_or_clock(seed: Option<u64>, ctx: &crate::Context<'_>) -> u64 {
    seed.unwrap_or_else(|| ctx.clock.now_ns())
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    /// SplitMix64 seeded with 1234567, as computed by a C transcription of Sebastiano Vigna's
    /// reference splitmix64.c (gcc 12, x86_64).
    #[test]
    fn matches_the_reference_sequence() {
        let mut r = SplitMix64::new(1234567);
        let got: [u64; 3] = [r.next_u64(), r.next_u64(), r.next_u64()];
        assert_eq!(got, [6457827717110365317, 3203168211198807973, 9817491932198370423]);
    }

    #[test]
    fn floats_are_in_the_unit_interval_and_below_is_bounded() {
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert!(r.below(256) < 256);
        }
    }
}
