//! `pyaes`: the original's AES benchmark. AES-128-ECB with a fixed key encrypts `data`'s UTF-8
//! bytes `rounds` times (each pass over the previous pass's ciphertext), reports the ciphertext,
//! then decrypts `rounds` times and returns the recovered plaintext, which must equal the input.
use aes::Aes128;
use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};
use crate::memory;

pub struct Pyaes;

/// The original's key, `b'\xa1\xf6%\x8c\x87}_\xcd\x89dHE8\xbf\xc9,'`.
pub const KEY: [u8; 16] =
    [0xa1, 0xf6, 0x25, 0x8c, 0x87, 0x7d, 0x5f, 0xcd, 0x89, 0x64, 0x48, 0x45, 0x38, 0xbf, 0xc9, 0x2c];

/// Largest `data` in bytes: the reply carries it twice over (plaintext plus hex ciphertext,
/// 3 × 16 KiB) and must fit a 64 KiB frame.
pub const MAX_DATA: usize = 16 * 1024;

/// Largest `rounds` × 16-byte blocks (each block is encrypted and decrypted once per round). Its
/// worst case, one block, costs no more than `cascading_sha256`'s largest request: natively on the
/// portable software backends 160 vs 180 ms; on a TCG worker (`-cpu max`, AES-NI) 0.07 vs 0.9 s.
pub const MAX_WORK: u64 = 200_000;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
    pub rounds: u32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    /// The plaintext recovered by the decryptions.
    pub data: String,
    /// Lowercase hex of the ciphertext after the encryptions.
    pub ciphertext: String,
    /// Seconds the encryptions and decryptions took on the worker.
    pub latency: f64,
}

impl Function for Pyaes {
    const NAME: &'static str = "pyaes";
    const SUMMARY: &'static str = "AES-128-ECB with a fixed key: encrypt `rounds` times, then decrypt `rounds` times";
    const ARGS: &'static str = "{\"data\": string of 16..=16384 UTF-8 bytes, a multiple of 16, \
                                \"rounds\": integer >= 1, rounds * bytes / 16 <= 200000}";
    const OUTPUT: &'static str =
        "{\"data\": string (equals the input), \"ciphertext\": hex string, \"latency\": seconds}";
    const EXAMPLE: &'static str = r#"{"data": "MicroFaaS in Rust: AES-128, ECB.", "rounds": 100}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = Output;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        let len = args.data.len();
        if len == 0 || !len.is_multiple_of(16) {
            return Err(FnError::bad_args("data: byte length must be a positive multiple of 16"));
        }
        if len > MAX_DATA {
            return Err(FnError::bad_args("data: must be at most 16384 bytes"));
        }
        if args.rounds == 0 {
            return Err(FnError::bad_args("rounds: must be at least 1"));
        }
        let work = u64::from(args.rounds).saturating_mul((len / 16) as u64);
        if work > MAX_WORK {
            return Err(FnError::bad_args("rounds: rounds * (data bytes / 16) must be at most 200000"));
        }
        Ok(())
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let start = ctx.clock.now_ns();
        let cipher = Aes128::new(&KEY.into());
        let mut buf = memory::vec_with_capacity(args.data.len())?;
        buf.extend_from_slice(args.data.as_bytes());
        encrypt(&cipher, &mut buf, args.rounds);
        let ciphertext = hex(&buf)?;
        decrypt(&cipher, &mut buf, args.rounds);
        let latency = ctx.seconds_since(start);
        // Decryption undoes encryption, so this only fails if the AES code is broken.
        let data = String::from_utf8(buf).map_err(|_| FnError::failed("decryption did not give back the input"))?;
        if data != args.data {
            return Err(FnError::failed("decryption did not give back the input"));
        }
        Ok(Output { data, ciphertext, latency })
    }
}

/// ECB-encrypts `buf` in place `rounds` times. A trailing partial block (excluded by `check`) is
/// left as it is.
pub fn encrypt(cipher: &Aes128, buf: &mut [u8], rounds: u32) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    for _ in 0..rounds {
        cipher.encrypt_blocks(blocks);
    }
}

/// The inverse of [`encrypt`].
pub fn decrypt(cipher: &Aes128, buf: &mut [u8], rounds: u32) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    for _ in 0..rounds {
        cipher.decrypt_blocks(blocks);
    }
}

/// Lowercase hex of `bytes` in a fallibly allocated string.
fn hex(bytes: &[u8]) -> Result<String, FnError> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out: Vec<u8> = memory::vec_with_capacity(bytes.len().saturating_mul(2))?;
    for b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]);
    }
    String::from_utf8(out).map_err(|_| FnError::failed("hex digits are ASCII"))
}

// The tests drive the JSON host path, which needs `std`.
#[cfg(all(test, feature = "std"))]
mod tests {
    use aes::Aes128;
    use aes::cipher::KeyInit;
    use serde_json::json;

    use super::{KEY, MAX_DATA, MAX_WORK, decrypt, encrypt, hex};
    use crate::ErrorKind;
    use crate::json::run_on_host;

    // FIPS-197 appendix C.1 (AES-128).
    #[test]
    fn fips_197_c1() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let cipher = Aes128::new(&key.into());
        let mut block =
            [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        encrypt(&cipher, &mut block, 1);
        assert_eq!(hex(&block).unwrap(), "69c4e0d86a7b0430d8cdb78070b4c55a");
        decrypt(&cipher, &mut block, 1);
        assert_eq!(hex(&block).unwrap(), "00112233445566778899aabbccddeeff");
    }

    #[test]
    fn the_key_is_the_originals() {
        assert_eq!(KEY, *b"\xa1\xf6%\x8c\x87}_\xcd\x89dHE8\xbf\xc9,");
    }

    // Expected ciphertexts from pycryptodome 4.4.0 (pip install pycryptodome), Python 3.11:
    //   c = AES.new(bytes.fromhex("a1f6258c877d5fcd8964484538bfc92c"), AES.MODE_ECB)
    //   b = data.encode()
    //   for _ in range(rounds): b = c.encrypt(b)
    //   b.hex()
    #[test]
    fn matches_pycryptodome() {
        let cases = [
            ("0123456789abcdefFaaS in Rust!!!!", 3, "6c0f43ed89649f13604991c520203c55d1747aa836537d0c460afd68b0991bae"),
            ("microfaas rocks!", 1, "1edb26d747180ebc8728aeb3b91ac9d4"),
            ("microfaas rocks!", 1000, "77d0db306d85a4b114d92e138da553ac"),
            ("µFaaS ✓ héllo wörld!!!!!!!!", 2, "698a987eec4947e71812bc859352578943db2bbfa24338c97c1e90b58193d4fa"),
        ];
        for (data, rounds, ciphertext) in cases {
            let out = run_on_host("pyaes", &json!({"data": data, "rounds": rounds})).unwrap();
            assert_eq!(out["ciphertext"], json!(ciphertext), "{data:?} x{rounds}");
            assert_eq!(out["data"], json!(data));
            assert!(out["latency"].as_f64().is_some_and(|s| s >= 0.0));
            assert_eq!(out.as_object().map(|o| o.len()), Some(3));
        }
    }

    #[test]
    fn the_largest_requests_fit() {
        let data = "a".repeat(MAX_DATA);
        let out = run_on_host("pyaes", &json!({"data": data, "rounds": MAX_WORK as u32 / 1024})).unwrap();
        assert_eq!(out["data"], json!(data));
        assert_eq!(out["ciphertext"].as_str().map(str::len), Some(2 * MAX_DATA));
        let out = run_on_host("pyaes", &json!({"data": "0123456789abcdef", "rounds": MAX_WORK})).unwrap();
        assert_eq!(out["data"], json!("0123456789abcdef"));
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let block = "0123456789abcdef";
        let cases = [
            (json!({"data": "", "rounds": 1}), "data: byte length must be a positive multiple of 16"),
            (json!({"data": "too short", "rounds": 1}), "data: byte length must be a positive multiple of 16"),
            (json!({"data": "é".repeat(8) + "x", "rounds": 1}), "data: byte length must be a positive multiple of 16"),
            (json!({"data": block.repeat(1025), "rounds": 1}), "data: must be at most 16384 bytes"),
            (json!({"data": block, "rounds": 0}), "rounds: must be at least 1"),
            (json!({"data": block, "rounds": 200_001}), "rounds: rounds * (data bytes / 16) must be at most 200000"),
            (json!({"data": block.repeat(2), "rounds": 100_001}), "rounds: rounds * (data bytes / 16)"),
            (json!({"data": block, "rounds": u32::MAX}), "rounds: rounds * (data bytes / 16)"),
            (json!({"data": block, "rounds": -1}), "rounds:"),
            (json!({"data": block, "rounds": 4_294_967_296u64}), "rounds:"),
            (json!({"data": block, "rounds": "1"}), "rounds:"),
            (json!({"data": block, "rounds": null}), "rounds:"),
            (json!({"data": block}), "rounds"),
            (json!({"rounds": 1}), "data"),
            (json!({"data": 16, "rounds": 1}), "data:"),
            (json!({"data": [block], "rounds": 1}), "data:"),
        ];
        for (args, message) in cases {
            let e = run_on_host("pyaes", &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
            assert!(e.message.starts_with(message) || e.message.contains(message), "{args}: {}", e.message);
        }
    }
}
