//! `cascading_md5`: MD5 applied `rounds` times, first to `data`'s UTF-8 bytes, then to the
//! previous digest's 16 bytes. Returns lowercase hex.
use md5::Md5;

use super::cascade::{self, Args, Hex};
use crate::function::{Context, FnError, Function};

pub struct CascadingMd5;

impl Function for CascadingMd5 {
    const NAME: &'static str = "cascading_md5";
    const SUMMARY: &'static str = "md5 applied `rounds` times, lowercase hex";
    const ARGS: &'static str = "{\"data\": string, \"rounds\": integer 1..=1000000}";
    const OUTPUT: &'static str = "string (32 hex digits)";
    const EXAMPLE: &'static str = r#"{"data": "microfaas", "rounds": 1000}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = Hex;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        cascade::check(args)
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Ok(cascade::hex_cascade::<Md5>(&args))
    }
}

#[cfg(test)]
mod tests {
    use md5::Md5;

    use crate::catalogue::cascade::{Args, hex_cascade};

    fn hex(data: &str, rounds: u32) -> super::Hex {
        hex_cascade::<Md5>(&Args { data, rounds })
    }

    // RFC 1321 appendix A.5, the whole test suite.
    #[test]
    fn rfc_1321_vectors() {
        for (data, digest) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(hex(data, 1).as_str(), digest, "md5({data:?})");
        }
    }

    // Two rounds = md5 of the first digest's 16 raw bytes; expected value from
    // `printf abc | md5sum | xxd -r -p | md5sum` (coreutils).
    #[test]
    fn second_round_hashes_the_raw_digest() {
        assert_eq!(hex("abc", 2).as_str(), "af5da9f45af7a300e3aded972f8ff687");
    }

    // The example's answer; expected value from Python's hashlib:
    // `d = b"microfaas"; for _ in range(1000): d = hashlib.md5(d).digest()`.
    #[test]
    fn example_thousand_rounds() {
        assert_eq!(hex("microfaas", 1000).as_str(), "e6ac306fb373d70c485ac8c28d7ae0d3");
    }
}
