//! `cascading_sha256`: SHA-256 applied `rounds` times, first to `data`'s UTF-8 bytes, then to the
//! previous digest's 32 bytes. Returns lowercase hex.
use heapless::String;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::function::{Context, FnError, Function};

pub struct CascadingSha256;

/// Largest `rounds` accepted: about ten seconds of emulated work on a worker under TCG.
pub const MAX_ROUNDS: u32 = 1_000_000;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
    pub rounds: u32,
}

impl Function for CascadingSha256 {
    const NAME: &'static str = "cascading_sha256";
    const SUMMARY: &'static str = "sha256 applied `rounds` times, lowercase hex";
    const ARGS: &'static str = "{\"data\": string, \"rounds\": integer 1..=1000000}";
    const OUTPUT: &'static str = "string (64 hex digits)";
    const EXAMPLE: &'static str = r#"{"data": "microfaas", "rounds": 1000}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = String<64>;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        match args.rounds {
            0 => Err(FnError::bad_args("rounds: must be at least 1")),
            r if r > MAX_ROUNDS => Err(FnError::bad_args("rounds: must be at most 1000000")),
            _ => Ok(()),
        }
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Ok(crate::hex::encode(&cascade(args.data.as_bytes(), args.rounds)))
    }
}

/// The digest after `rounds` rounds.
pub fn cascade(data: &[u8], rounds: u32) -> [u8; 32] {
    let mut digest: [u8; 32] = Sha256::digest(data).into();
    for _ in 1..rounds {
        digest = Sha256::digest(digest).into();
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::cascade;
    use crate::hex::encode;

    // FIPS 180-2 appendix B.1 ("abc") and B.2 (the 448-bit message).
    #[test]
    fn fips_180_vectors() {
        assert_eq!(
            encode::<64>(&cascade(b"abc", 1)).as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            encode::<64>(&cascade(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1)).as_str(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    // Two rounds = sha256 of the first digest's raw bytes; expected value from
    // `printf abc | sha256sum | xxd -r -p | sha256sum` (coreutils).
    #[test]
    fn second_round_hashes_the_raw_digest() {
        assert_eq!(
            encode::<64>(&cascade(b"abc", 2)).as_str(),
            "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358"
        );
    }
}
