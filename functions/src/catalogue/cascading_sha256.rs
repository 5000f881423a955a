//! `cascading_sha256`: SHA-256 applied `rounds` times, first to `data`'s UTF-8 bytes, then to the
//! previous digest's 32 bytes. Returns lowercase hex.
use sha2::Sha256;

use super::cascade::{self, Args, Hex};
use crate::function::{Context, FnError, Function};

pub struct CascadingSha256;

impl Function for CascadingSha256 {
    const NAME: &'static str = "cascading_sha256";
    const SUMMARY: &'static str = "sha256 applied `rounds` times, lowercase hex";
    const ARGS: &'static str = "{\"data\": string, \"rounds\": integer 1..=1000000}";
    const OUTPUT: &'static str = "string (64 hex digits)";
    const EXAMPLE: &'static str = r#"{"data": "microfaas", "rounds": 1000}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = Hex;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        cascade::check(args)
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Ok(cascade::hex_cascade::<Sha256>(&args))
    }
}

#[cfg(test)]
mod tests {
    use sha2::Sha256;

    use crate::catalogue::cascade::{Args, hex_cascade};

    fn hex(data: &str, rounds: u32) -> super::Hex {
        hex_cascade::<Sha256>(&Args { data, rounds })
    }

    // FIPS 180-2 appendix B.1 ("abc") and B.2 (the 448-bit message).
    #[test]
    fn fips_180_vectors() {
        assert_eq!(hex("abc", 1).as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1).as_str(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    // Two rounds = sha256 of the first digest's raw bytes; expected value from
    // `printf abc | sha256sum | xxd -r -p | sha256sum` (coreutils).
    #[test]
    fn second_round_hashes_the_raw_digest() {
        assert_eq!(hex("abc", 2).as_str(), "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
    }

    // The example's answer; expected value from Python's hashlib:
    // `d = b"microfaas"; for _ in range(1000): d = hashlib.sha256(d).digest()`.
    #[test]
    fn example_thousand_rounds() {
        assert_eq!(hex("microfaas", 1000).as_str(), "b1d419947b3f7c8bb98874a87ad728304cd5acc1f11c2fa67dc0fab5fea97784");
    }
}
