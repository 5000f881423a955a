//! `float_operations`: FunctionBench's float benchmark, Σ_{i<n} (sin i + cos i + √i).
//! Uses `libm` on the worker and on the host alike, so both give bit-identical checksums.
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};

pub struct FloatOperations;

/// Largest `n` accepted: about ten seconds of emulated work on a worker under TCG.
pub const MAX_N: u64 = 10_000_000;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub n: u64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    pub checksum: f64,
    /// Seconds the loop took on the worker.
    pub latency: f64,
}

impl Function for FloatOperations {
    const NAME: &'static str = "float_operations";
    const SUMMARY: &'static str = "sum of sin i + cos i + sqrt i for i < n";
    const ARGS: &'static str = "{\"n\": integer <= 10000000}";
    const OUTPUT: &'static str = "{\"checksum\": number, \"latency\": seconds}";
    const EXAMPLE: &'static str = r#"{"n": 10000}"#;
    type Args<'a> = Args;
    type Output<'a> = Output;

    fn check(args: &Args) -> Result<(), FnError> {
        if args.n > MAX_N {
            return Err(FnError::bad_args("n: must be at most 10000000"));
        }
        Ok(())
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let start = ctx.clock.now_ns();
        let checksum = checksum(args.n);
        Ok(Output { checksum, latency: ctx.seconds_since(start) })
    }
}

/// The loop itself, in a fixed order so the sum is reproducible.
pub fn checksum(n: u64) -> f64 {
    let mut sum = 0.0;
    for i in 0..n {
        let x = i as f64;
        sum += libm::sin(x) + libm::cos(x) + libm::sqrt(x);
    }
    sum
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_sums_match_the_definition() {
        // Computed by hand: sin 0 + cos 0 + √0 = 1; i = 1 adds sin 1 + cos 1 + 1.
        assert_eq!(super::checksum(0), 0.0);
        assert_eq!(super::checksum(1), 1.0);
        let two = 1.0 + (0.841_470_984_807_896_5 + 0.540_302_305_868_139_8 + 1.0);
        assert!((super::checksum(2) - two).abs() < 1e-15);
    }
}
