//! `cascading_md5`: MD5 applied `rounds` times, first to `data`'s UTF-8 bytes, then to the previous
//! digest's 16 raw bytes. Returns lowercase hex. The MD5 twin of `cascading_sha256`, same caps.
use heapless::String;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};

pub struct CascadingMd5;

/// Largest `rounds` accepted: the same as `cascading_sha256`'s, and MD5 is the cheaper hash.
pub const MAX_ROUNDS: u32 = 1_000_000;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
    pub rounds: u32,
}

impl Function for CascadingMd5 {
    const NAME: &'static str = "cascading_md5";
    const SUMMARY: &'static str = "md5 applied `rounds` times, lowercase hex";
    const ARGS: &'static str = "{\"data\": string, \"rounds\": integer 1..=1000000}";
    const OUTPUT: &'static str = "string (32 hex digits)";
    const EXAMPLE: &'static str = r#"{"data": "microfaas", "rounds": 1000}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = String<32>;

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
pub fn cascade(data: &[u8], rounds: u32) -> [u8; 16] {
    let mut digest: [u8; 16] = Md5::digest(data).into();
    for _ in 1..rounds {
        digest = Md5::digest(digest).into();
    }
    digest
}

// The tests drive the JSON host path, which needs `std`.
#[cfg(all(test, feature = "std"))]
mod tests {
    use serde_json::json;

    use super::cascade;
    use crate::ErrorKind;
    use crate::hex::encode;
    use crate::json::run_on_host;

    fn md5_hex(data: &[u8], rounds: u32) -> heapless::String<32> {
        encode(&cascade(data, rounds))
    }

    // RFC 1321 appendix A.5, the test suite.
    #[test]
    fn rfc_1321_test_suite() {
        let suite: [(&str, &str); 7] = [
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
        ];
        for (input, expected) in suite {
            assert_eq!(md5_hex(input.as_bytes(), 1).as_str(), expected, "md5({input:?})");
        }
    }

    // Later rounds hash the previous digest's 16 raw bytes. Expected values from Python 3.11:
    //   d = hashlib.md5(data.encode()).digest()
    //   for _ in range(rounds - 1): d = hashlib.md5(d).digest()
    //   d.hex()
    #[test]
    fn later_rounds_hash_the_raw_digest() {
        assert_eq!(md5_hex(b"abc", 2).as_str(), "af5da9f45af7a300e3aded972f8ff687");
        assert_eq!(md5_hex("héllo".as_bytes(), 3).as_str(), "963f6986e5d7c98b59a0c570ac90c533");
    }

    #[test]
    fn json_shape() {
        let out = run_on_host("cascading_md5", &json!({"data": "microfaas", "rounds": 1000})).unwrap();
        // Same Python recipe as above, with data "microfaas" and rounds 1000.
        assert_eq!(out, json!("e6ac306fb373d70c485ac8c28d7ae0d3"));
        let out = run_on_host("cascading_md5", &json!({"data": "", "rounds": 1})).unwrap();
        assert_eq!(out, json!("d41d8cd98f00b204e9800998ecf8427e"));
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let cases = [
            (json!({"data": "x", "rounds": 0}), "rounds: must be at least 1"),
            (json!({"data": "x", "rounds": 1_000_001}), "rounds"),
            (json!({"data": "x", "rounds": -1}), "rounds"),
            (json!({"data": "x", "rounds": 1.5}), "rounds"),
            (json!({"data": "x", "rounds": 4_294_967_296u64}), "rounds"),
            (json!({"data": "x", "rounds": "3"}), "rounds"),
            (json!({"data": "x"}), "rounds"),
            (json!({"rounds": 1}), "data"),
            (json!({"data": 5, "rounds": 1}), "data"),
            (json!({"data": ["x"], "rounds": 1}), "data"),
        ];
        for (args, field) in cases {
            let e = run_on_host("cascading_md5", &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
            assert!(e.message.contains(field), "{args}: {}", e.message);
        }
        // A body that is not an object has no field to name, but is still a 400.
        for args in [json!("x"), json!(null), json!(["x", 1, 2])] {
            assert_eq!(run_on_host("cascading_md5", &args).unwrap_err().kind, ErrorKind::BadArguments, "{args}");
        }
        let e = run_on_host("cascading_md5", &json!({"data": "x", "rounds": 1_000_001})).unwrap_err();
        assert_eq!(e.message, "rounds: must be at most 1000000");
    }

    #[test]
    fn the_largest_request_fits() {
        let out = run_on_host("cascading_md5", &json!({"data": "x", "rounds": super::MAX_ROUNDS})).unwrap();
        assert_eq!(out.as_str().map(str::len), Some(32));
    }
}
