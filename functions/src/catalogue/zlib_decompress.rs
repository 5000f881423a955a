//! `zlib_decompress`: inflates a zlib stream (RFC 1950) given as hex and returns the bytes as
//! lowercase hex.
//!
//! The output buffer grows through [`memory::reserve`], so on the worker a decompression bomb ends
//! as `OutOfMemory` once the arena is exhausted instead of aborting the worker. An output that
//! inflates fine but is too large for the reply frame is a `Failed` "output exceeds the frame size
//! cap"; that is also what a bomb gives on the host, which has no arena (there the input cap bounds
//! the inflated size to about 33 MB). A stream that is not valid zlib (bad header, corrupt deflate data, truncated, adler32
//! mismatch) is the client's mistake, so it is `BadArguments` (400) naming `data`; the header is
//! checked before a worker is powered on, the rest only shows while inflating. Like Python's
//! `zlib.decompress`, bytes after the end of the stream are ignored.
use alloc::string::String;
use alloc::vec::Vec;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};
use crate::memory;
use crate::wire::MAX_FRAME;

pub struct ZlibDecompress;

/// Largest `data` accepted, in hex digits (32000 bytes): the request must fit one frame.
pub const MAX_DATA_HEX: usize = 64_000;

/// Largest decompressed size returned: its hex, plus postcard's length prefix and the Result
/// frame's own fields, must fit one reply frame.
pub const MAX_OUTPUT: usize = (MAX_FRAME - 128) / 2;

/// First size of the output buffer; it doubles from there.
const FIRST_OUTPUT_BUFFER: usize = 4096;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
}

impl Function for ZlibDecompress {
    const NAME: &'static str = "zlib_decompress";
    const SUMMARY: &'static str = "inflates a zlib stream, lowercase hex in and out";
    const ARGS: &'static str =
        "{\"data\": string (hex of a zlib stream, <= 64000 hex digits; decompressed size <= 32704 bytes)}";
    const OUTPUT: &'static str = "string (lowercase hex of the decompressed bytes)";
    const EXAMPLE: &'static str = r#"{"data": "789ccb48cdc9c9d751c8cd4c2eca4f4b4c2c060032d00616"}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = String;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        let hex = args.data.as_bytes();
        if hex.len() > MAX_DATA_HEX {
            return Err(FnError::bad_args("data: must be at most 64000 hex digits"));
        }
        check_hex(hex)?;
        match hex {
            [a, b, c, d, ..] => check_header(byte(*a, *b), byte(*c, *d)),
            _ => Err(FnError::bad_args("data: too short for a zlib stream")),
        }
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let stream = decode_hex(args.data.as_bytes())?;
        // No limit of our own: on the worker the arena is the limit.
        let bytes = inflate(&stream, usize::MAX)?;
        if bytes.len() > MAX_OUTPUT {
            return Err(FnError::failed("output exceeds the frame size cap"));
        }
        encode_hex(&bytes)
    }
}

/// Inflates a whole zlib stream, checking its header and adler32. The output may grow to `limit`
/// bytes; a stream that needs more is `OutOfMemory`, exactly as when the arena refuses to grow the
/// buffer, so host tests can drive the worker's path with a small `limit`.
pub fn inflate(stream: &[u8], limit: usize) -> Result<Vec<u8>, FnError> {
    const OOM: FnError = FnError::out_of_memory("data: decompressed size exceeds the memory available");
    // The whole output stays in one buffer (no wrapping window): back-references read from it.
    let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // About 11 KiB, on the stack: the worker's arena is kept for the output.
    let mut state = DecompressorOxide::new();
    let mut out = memory::vec_filled(FIRST_OUTPUT_BUFFER.min(limit), 0u8)?;
    let (mut read, mut written) = (0, 0);
    // Every pass either finishes or doubles the buffer up to `limit`, so this loop is bounded.
    loop {
        let (status, r, w) = decompress(&mut state, &stream[read..], &mut out, written, flags);
        read += r;
        written += w;
        match status {
            TINFLStatus::Done => {
                out.truncate(written);
                return Ok(out);
            }
            TINFLStatus::HasMoreOutput => {
                let len = out.len();
                if len >= limit {
                    return Err(OOM);
                }
                let grown = len.saturating_mul(2).min(limit);
                memory::reserve(&mut out, grown - len).map_err(|_| OOM)?;
                out.resize(grown, 0);
            }
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                return Err(FnError::bad_args("data: truncated zlib stream"));
            }
            TINFLStatus::Adler32Mismatch => return Err(FnError::bad_args("data: adler32 checksum mismatch")),
            // Failed, and BadParam (which our own buffer handling rules out); the enum is open.
            _ => return Err(FnError::bad_args("data: corrupt zlib stream")),
        }
    }
}

/// The two header bytes: deflate with a window of at most 32 KiB, a valid check value, and no
/// preset dictionary (which a client could not supply).
fn check_header(cmf: u8, flg: u8) -> Result<(), FnError> {
    let valid = cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
    if !valid {
        return Err(FnError::bad_args("data: not a zlib stream (bad header)"));
    }
    if flg & 0x20 != 0 {
        return Err(FnError::bad_args("data: preset dictionaries are not supported"));
    }
    Ok(())
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Hex digits of either case, in pairs.
fn check_hex(hex: &[u8]) -> Result<(), FnError> {
    if !hex.iter().all(|d| nibble(*d).is_some()) {
        return Err(FnError::bad_args("data: not valid hex"));
    }
    if !hex.len().is_multiple_of(2) {
        return Err(FnError::bad_args("data: odd number of hex digits"));
    }
    Ok(())
}

/// The byte two checked hex digits stand for.
fn byte(high: u8, low: u8) -> u8 {
    nibble(high).unwrap_or(0) << 4 | nibble(low).unwrap_or(0)
}

fn decode_hex(hex: &[u8]) -> Result<Vec<u8>, FnError> {
    check_hex(hex)?;
    let mut bytes = memory::vec_with_capacity(hex.len() / 2)?;
    bytes.extend(hex.chunks_exact(2).map(|pair| byte(pair[0], pair[1])));
    Ok(bytes)
}

fn encode_hex(bytes: &[u8]) -> Result<String, FnError> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = memory::vec_with_capacity(bytes.len() * 2)?;
    hex.extend(bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]));
    String::from_utf8(hex).map_err(|_| FnError::failed("hex digits are ASCII"))
}

#[cfg(test)]
mod tests {
    use std::borrow::ToOwned;
    use std::string::String;
    use std::vec::Vec;

    use serde_json::json;
    use sha2::{Digest, Sha256};

    use super::{MAX_OUTPUT, inflate};
    use crate::ErrorKind;
    use crate::json::run_on_host;

    fn run(data: &str) -> Result<serde_json::Value, crate::json::HostError> {
        run_on_host("zlib_decompress", &json!({ "data": data }))
    }

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    /// sha256 of the bytes whose hex `run` returned.
    fn digest_of_output(data: &str) -> String {
        let out = run(data).unwrap();
        crate::hex::encode::<64>(&Sha256::digest(unhex(out.as_str().unwrap()))).as_str().into()
    }

    // The streams were made with Python 3.11's zlib module (zlib 1.2.13):
    //   python3 -c 'import zlib; print(zlib.compress(b"hello, microfaas", 6).hex())'
    // and likewise for the others; the expected sha256 is `hashlib.sha256(data).hexdigest()`.
    const HELLO: &str = "789ccb48cdc9c9d751c8cd4c2eca4f4b4c2c060032d00616";
    // zlib.compress(b"", 6)
    const EMPTY: &str = "789c030000000001";
    // zlib.compress(b"stored block: level 0 keeps the bytes as they are", 0): a stored block.
    const STORED: &str = concat!(
        "7801013100ceff73746f72656420626c6f636b3a206c6576656c2030206b6565707320746865206279746573206173",
        "207468657920617265b98d1185"
    );
    // zlib.compress(bytes(range(256)) * 4, 1): fixed Huffman codes with back-references.
    const BINARY: &str = concat!(
        "78016360646266616563e7e0e4e2e6e1e5e3171014121611151397909492969195935750545256515553d7d0d4d2d6",
        "d1d5d33730343236313533b7b0b4b2b6b1b5b37770747276717573f7f0f4f2f6f1f5f30f080c0a0e090d0b8f888c8a",
        "8e898d8b4f484c4a4e494d4bcfc8cccacec9cdcb2f282c2a2e292d2bafa8acaaaea9adab6f686c6a6e696d6befe8ecea",
        "eee9edeb9f3071d2e42953a74d9f3173d6ec3973e7cd5fb070d1e2254b972d5fb172d5ea356bd7addfb071d3e62d5b",
        "b76ddfb173d7ee3d7bf7ed3f70f0d0e123478f1d3f71f2d4e93367cf9dbf70f1d2e52b57af5dbf71f3d6ed3b77efdd7f",
        "f0f0d1e3274f9f3d7ff1f2d5eb376fdfbdfff0f1d3e72f5fbf7dfff1f3d7ef3f7ffffd6718f5ff68fc8fe0f40f00e4c9",
        "fe10"
    );
    const BINARY_SHA256: &str = "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9";
    // zlib.compress(b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
    //                        for i in range(200)), 9): 10690 bytes, dynamic Huffman codes.
    const LINES: &str = concat!(
        "78da9ddacb7113410045d13d514c08f3fadf64c3478041586063c08e9e820c386bd55be9943473bbaf77f797e37c7dfc",
        "f87439be3fddbdfb72bc7db8fdba3f3edc7e1f9f9fbe7e7b3c6e3f2f0fff3ebebe79793ededf3ebebafedd0436053615",
        "360d361d36033613360b365bbe53822012221422162218221a221c221e222022228a8828f4db20228a882822a2888822",
        "228a882822a288882a22aa88a8f4772122aa88a822a28a882a22aa88a822a2898826229a8868f40421229a886822a289",
        "8826229a88e822a28b882e22ba88e8f4502922ba88e822a28b882e22868818226288882122868818f49e212286881822",
        "6288882922a6889822628a882922a68898f4ea2922a68898226289882522968858226289882522968858542344c41211",
        "5b446c11b145c416115b446c11b145c416119b0295152a4a542735aa9322d54995eaa44c7552a73a29549d54aa4e4a55",
        "27d9c07c49362c605ac1b484690dd322a6554ccb98d431432133c5da36d9a096198a99a19a19ca99a19e190a9aa1a219",
        "4a9aa1a6996a071f6483b266a86b86c266a86c86d266a86d86e266a86e86f2669a9d8a910d2a9ca1c4196a9ca1c819aa",
        "9ca1cc19ea9ca1d0192a9de976644a362876866a672877867a672878868a672879869a67287a66d8793ad9a0ee190a9f",
        "a1f2194a9fa1f6198a9fa1fa19ca9fa1fe9969972dc80625d050030d45d050050d65d050070d85d050090da5d02cbb89",
        "4336a886867268a887868268a888869268a88986a268a88a66db35adffb4f10779169107"
    );
    const LINES_SHA256: &str = "59b60fcd8e36955eee5c9b19736a16d726321e65691be56a9173aa7940812d45";
    // 16 MiB of zero bytes, 16316 bytes compressed:
    //   python3 -c 'import zlib; print(zlib.compress(bytes(16 << 20), 9).hex())' > zlib_bomb_16mib.hex
    // (sha256 of the compressed bytes: ecc4e4cc868c5966047bcab399da59c2a475943c5372ba4c48b529866567544d)
    const BOMB: &str = include_str!("testdata/zlib_bomb_16mib.hex");

    #[test]
    fn python_streams_inflate_to_the_same_bytes() {
        assert_eq!(run(HELLO).unwrap(), json!(hex_of(b"hello, microfaas")));
        assert_eq!(run(EMPTY).unwrap(), json!(""));
        assert_eq!(run(STORED).unwrap(), json!(hex_of(b"stored block: level 0 keeps the bytes as they are")));
        assert_eq!(digest_of_output(BINARY), BINARY_SHA256);
        assert_eq!(digest_of_output(LINES), LINES_SHA256);
        // Uppercase digits in, lowercase out.
        assert_eq!(run(&HELLO.to_uppercase()).unwrap(), json!(hex_of(b"hello, microfaas")));
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| std::format!("{b:02x}")).collect()
    }

    // zlib.compress(bytes([0xab]) * n, 9) for n = 32704 (MAX_OUTPUT) and n = 32705.
    const MAX_OUTPUT_STREAM: &str = "78daedc1010d000000c2a0fe595ed21c6e4001000000000000000000000000000000000000000000000000000000000000c0bf01f7415a3c";
    const OVER_MAX_STREAM: &str = "78daedc1010d000000c2a0fe595ed21e0e2800000000000000000000000000000000000000000000000000000000000000383052375ae7";

    #[test]
    fn the_largest_output_fits_a_frame_and_one_more_byte_does_not() {
        assert_eq!(MAX_OUTPUT, 32704);
        let out = run(MAX_OUTPUT_STREAM).unwrap();
        assert_eq!(out.as_str().unwrap(), "ab".repeat(MAX_OUTPUT));
        let e = run(OVER_MAX_STREAM).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Failed);
        assert_eq!(e.message, "output exceeds the frame size cap");
    }

    #[test]
    fn a_bomb_runs_out_of_memory_at_the_limit() {
        let bomb = unhex(BOMB.trim());
        assert_eq!(bomb.len(), 16316);
        // The worker's default arena is 4 MiB; the limit stands in for it.
        let e = inflate(&bomb, 4 << 20).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfMemory);
        assert!(e.message.starts_with("data:"), "{}", e.message);
        // With room for it, the stream is valid and inflates to 16 MiB of zeros.
        let all = inflate(&bomb, 16 << 20).unwrap();
        assert_eq!(all.len(), 16 << 20);
        assert!(all.iter().all(|b| *b == 0));
        // A limit of exactly the output's size is enough; one byte less is not.
        assert_eq!(inflate(&unhex(HELLO), 16).unwrap(), b"hello, microfaas");
        assert_eq!(inflate(&unhex(HELLO), 15).unwrap_err().kind, ErrorKind::OutOfMemory);
        assert_eq!(inflate(&unhex(EMPTY), 0).unwrap(), b"");
    }

    #[test]
    fn on_the_host_a_bomb_is_only_too_large_for_the_frame() {
        // The host has no arena: the 16 MiB inflate succeeds and then cannot be returned. (Host
        // memory stays bounded: 32000 input bytes inflate to at most about 33 MB.)
        let e = run(BOMB.trim()).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Failed, "output exceeds the frame size cap"));
    }

    #[test]
    fn the_bomb_passes_check_so_the_worker_sees_it() {
        let args = serde_json::json!({ "data": BOMB.trim() });
        let entry = crate::find("zlib_decompress").unwrap();
        assert!((entry.args_from_json)(&args).is_ok());
    }

    fn bad(data: &str) -> crate::json::HostError {
        let e = run(data).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{}", e.message);
        assert!(e.message.starts_with("data: "), "{}", e.message);
        e
    }

    #[test]
    fn bad_hex_and_headers_are_rejected_by_check() {
        let entry = crate::find("zlib_decompress").unwrap();
        for (data, message) in [
            ("78 9c", "data: not valid hex"),
            ("789g", "data: not valid hex"),
            ("789c0", "data: odd number of hex digits"),
            ("", "data: too short for a zlib stream"),
            ("78", "data: too short for a zlib stream"),
            ("0000030000000001", "data: not a zlib stream (bad header)"),
            ("789d030000000001", "data: not a zlib stream (bad header)"),
            // CINFO 8: a 64 KiB window, not allowed by RFC 1950.
            ("8819030000000001", "data: not a zlib stream (bad header)"),
            ("78bb030000000001", "data: preset dictionaries are not supported"),
        ] {
            let e = (entry.args_from_json)(&json!({ "data": data })).unwrap_err();
            assert_eq!((e.kind, e.message.as_str()), (ErrorKind::BadArguments, message), "{data}");
            assert_eq!(bad(data).message, message);
        }
        let e = bad(&"0".repeat(super::MAX_DATA_HEX + 2));
        assert_eq!(e.message, "data: must be at most 64000 hex digits");
    }

    #[test]
    fn corrupt_streams_are_bad_arguments_naming_data() {
        // Cut anywhere after the header: no output, just the error.
        for cut in (4..HELLO.len()).step_by(2) {
            assert_eq!(bad(&HELLO[..cut]).message, "data: truncated zlib stream", "cut at {cut}");
        }
        let lines = LINES;
        assert_eq!(bad(&lines[..lines.len() / 2]).message, "data: truncated zlib stream");
        // Last byte of the adler32 changed.
        let mut wrong = HELLO[..HELLO.len() - 2].to_owned();
        wrong.push_str("17");
        assert_eq!(bad(&wrong).message, "data: adler32 checksum mismatch");
        // Block type 3 is reserved.
        assert_eq!(bad("789c07").message, "data: corrupt zlib stream");
        // A stored block whose length and its complement disagree.
        assert_eq!(bad("7801010100fffe61").message, "data: corrupt zlib stream");
        // A back-reference before the start of the output: a fixed block whose first symbol is
        // length 3 at distance 1 (Python: "invalid distance too far back").
        assert_eq!(bad("789c03020000000001").message, "data: corrupt zlib stream");
    }

    #[test]
    fn trailing_bytes_are_ignored_as_python_does() {
        // zlib.decompress(zlib.compress(b"hello, microfaas") + b"\x00\xff") == b"hello, microfaas"
        assert_eq!(run(&std::format!("{HELLO}00ff")).unwrap(), json!(hex_of(b"hello, microfaas")));
    }

    #[test]
    fn wrong_shapes_are_bad_arguments() {
        for args in [json!({}), json!({ "data": 5 }), json!({ "data": null }), json!("789c")] {
            let e = run_on_host("zlib_decompress", &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
        }
        let e = run_on_host("zlib_decompress", &json!({})).unwrap_err();
        assert!(e.message.contains("`data`"), "{}", e.message);
    }
}
