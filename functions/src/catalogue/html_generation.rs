//! `html_generation`: the original's HTML table of random bytes. The output is exactly
//!
//! ```text
//! <table><tr><th>Character</th><th>ASCII Code</th></tr>
//! <tr><td>{cell}</td><td>{c}</td></tr>    (n times, no line breaks anywhere)
//! </table>
//! ```
//!
//! where each `c` is drawn uniformly from 0..=255 by `SplitMix64::new(seed).below(256)` and `{c}`
//! is its decimal value. `{cell}` is the character U+00`c` (Python's `chr(c)`), written the way
//! `html.escape` writes it (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#x27;`), except that control
//! characters (U+0000..=U+001F, U+007F..=U+009F) become decimal references such as `&#7;`, so the
//! text holds no raw control characters. Browsers show `&#0;` as U+FFFD and most of `&#128;` to
//! `&#159;` as windows-1252 characters (`&#128;` as €), as HTML's parsing rules say; the code
//! column is exact for every byte.
use core::fmt::{self, Write};

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};
use crate::memory;
use crate::rng::{SplitMix64, seed_or_clock};

pub struct HtmlGeneration;

const HEADER: &str = "<table><tr><th>Character</th><th>ASCII Code</th></tr>";
const FOOTER: &str = "</table>";

/// The longest row: a six-byte cell (`&#159;`, `&quot;`, `&#x27;`) and a three-digit code.
const MAX_ROW: usize = "<tr><td>&#159;</td><td>159</td></tr>".len();

/// Largest `n`: even if every row is the longest, the table (54 KiB) fits a 64 KiB reply frame.
pub const MAX_N: u32 = 1500;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub n: u32,
    /// Seeds the byte draws; a different table on every call without it, like the original.
    pub seed: Option<u64>,
}

impl Function for HtmlGeneration {
    const NAME: &'static str = "html_generation";
    const SUMMARY: &'static str = "an HTML table of n random bytes: each one's character and code";
    const ARGS: &'static str = "{\"n\": integer 0..=1500, \"seed\"?: integer 0..2^64}";
    const OUTPUT: &'static str = "string (HTML: <table>, a header row, n rows)";
    const EXAMPLE: &'static str = r#"{"n": 100, "seed": 1}"#;
    type Args<'a> = Args;
    type Output<'a> = String;

    fn check(args: &Args) -> Result<(), FnError> {
        if args.n > MAX_N {
            return Err(FnError::bad_args("n: must be at most 1500"));
        }
        Ok(())
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let mut rng = SplitMix64::new(seed_or_clock(args.seed, ctx));
        // Room for the worst case up front, so the rows below never reallocate.
        let rows = (args.n as usize).saturating_mul(MAX_ROW);
        let mut html = String::new();
        html.try_reserve_exact(HEADER.len().saturating_add(rows).saturating_add(FOOTER.len()))
            .map_err(|_| FnError::out_of_memory("the worker's memory arena is exhausted"))?;
        memory::push_str(&mut html, HEADER)?;
        for _ in 0..args.n {
            let c = rng.below(256) as u8;
            memory::push_str(&mut html, &row(c)?)?;
        }
        memory::push_str(&mut html, FOOTER)?;
        Ok(html)
    }
}

/// The table row of byte `c`, built on the stack.
fn row(c: u8) -> Result<heapless::String<MAX_ROW>, FnError> {
    let mut row = heapless::String::new();
    write!(row, "<tr><td>{}</td><td>{c}</td></tr>", Cell(c)).map_err(|_| FnError::failed("a row outgrew MAX_ROW"))?;
    Ok(row)
}

/// The `Character` cell of byte `c`.
struct Cell(u8);

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'&' => f.write_str("&amp;"),
            b'<' => f.write_str("&lt;"),
            b'>' => f.write_str("&gt;"),
            b'"' => f.write_str("&quot;"),
            b'\'' => f.write_str("&#x27;"),
            c @ (0x00..=0x1f | 0x7f..=0x9f) => write!(f, "&#{c};"),
            c => f.write_char(char::from(c)),
        }
    }
}

// The tests drive the JSON host path, which needs `std`.
#[cfg(all(test, feature = "std"))]
mod tests {
    use serde_json::json;
    use sha2::{Digest, Sha256};

    use super::{FOOTER, HEADER, MAX_N, MAX_ROW, row};
    use crate::ErrorKind;
    use crate::json::run_on_host;

    // Expected outputs from the independent Python reference (SplitMix64 from Vigna's C, stdlib
    // html.escape and unicodedata), Python 3.11:
    //   python3 functions/reference/html_generation.py 1 3
    //   python3 functions/reference/html_generation.py 42 12
    #[test]
    fn seeded_tables_match_the_python_reference() {
        let out = run_on_host("html_generation", &json!({"n": 3, "seed": 1})).unwrap();
        assert_eq!(
            out,
            json!(
                "<table><tr><th>Character</th><th>ASCII Code</th></tr><tr><td>Á</td><td>193</td></tr>\
                 <tr><td>g</td><td>103</td></tr><tr><td>^</td><td>94</td></tr></table>"
            )
        );
        let out = run_on_host("html_generation", &json!({"n": 12, "seed": 42})).unwrap();
        assert_eq!(
            out,
            json!(
                "<table><tr><th>Character</th><th>ASCII Code</th></tr><tr><td>&#149;</td><td>149</td></tr>\
                 <tr><td>&#3;</td><td>3</td></tr><tr><td>R</td><td>82</td></tr>\
                 <tr><td>&#148;</td><td>148</td></tr><tr><td>ò</td><td>242</td></tr>\
                 <tr><td>&#6;</td><td>6</td></tr><tr><td>]</td><td>93</td></tr><tr><td>¤</td><td>164</td></tr>\
                 <tr><td>Õ</td><td>213</td></tr><tr><td>®</td><td>174</td></tr><tr><td>¿</td><td>191</td></tr>\
                 <tr><td>¾</td><td>190</td></tr></table>"
            )
        );
    }

    // Seed 7 with n 1500 draws every byte value at least once. Length and SHA-256 from
    //   python3 functions/reference/html_generation.py 7 1500 --sha256
    #[test]
    fn the_largest_table_matches_the_python_reference() {
        let out = run_on_host("html_generation", &json!({"n": MAX_N, "seed": 7})).unwrap();
        let html = out.as_str().unwrap();
        assert_eq!(html.len(), 48324);
        assert_eq!(
            crate::hex::encode::<64>(&Sha256::digest(html)).as_str(),
            "7f82fd16b8ada2fbb787b4573ca9a7259e39c6b3f91749234ab09175d77f0b95"
        );
    }

    #[test]
    fn every_byte_has_a_row_within_the_bound() {
        assert_eq!(row(0).unwrap().as_str(), "<tr><td>&#0;</td><td>0</td></tr>");
        assert_eq!(row(b'\'').unwrap().as_str(), "<tr><td>&#x27;</td><td>39</td></tr>");
        assert_eq!(row(b'&').unwrap().as_str(), "<tr><td>&amp;</td><td>38</td></tr>");
        assert_eq!(row(0x7f).unwrap().as_str(), "<tr><td>&#127;</td><td>127</td></tr>");
        assert_eq!(row(0xa0).unwrap().as_str(), "<tr><td>\u{a0}</td><td>160</td></tr>");
        assert_eq!(row(0xff).unwrap().as_str(), "<tr><td>ÿ</td><td>255</td></tr>");
        assert_eq!((0..=255).map(|c| row(c).unwrap().len()).max(), Some(MAX_ROW));
        assert!((0..=255).all(|c| !row(c).unwrap().chars().any(char::is_control)));
    }

    #[test]
    fn the_worst_case_table_fits_a_reply_frame() {
        // Generous room for the reply's own framing: enum tags, varints, call id, exec_ns.
        let worst = HEADER.len() + MAX_N as usize * MAX_ROW + FOOTER.len() + 64;
        assert!(worst <= crate::wire::MAX_FRAME, "{worst}");
    }

    #[test]
    fn unseeded_and_empty_tables() {
        let out = run_on_host("html_generation", &json!({"n": 0})).unwrap();
        assert_eq!(out.as_str().and_then(|s| s.strip_prefix(HEADER)), Some(FOOTER));
        let out = run_on_host("html_generation", &json!({"n": 5, "seed": null})).unwrap();
        assert_eq!(out.as_str().unwrap().matches("<tr><td>").count(), 5);
        let out = run_on_host("html_generation", &json!({"n": 1, "seed": u64::MAX})).unwrap();
        assert!(out.as_str().unwrap().starts_with(HEADER));
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let cases = [
            (json!({"n": 1501}), "n: must be at most 1500"),
            (json!({"n": u32::MAX}), "n: must be at most 1500"),
            (json!({"n": -1}), "n:"),
            (json!({"n": 4_294_967_296u64}), "n:"),
            (json!({"n": 2.5}), "n:"),
            (json!({"n": "3"}), "n:"),
            (json!({"seed": 1}), "missing field `n`"),
            (json!({"n": 3, "seed": -1}), "seed:"),
            (json!({"n": 3, "seed": 1.5}), "seed:"),
            (json!({"n": 3, "seed": "1"}), "seed:"),
        ];
        for (args, message) in cases {
            let e = run_on_host("html_generation", &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
            assert!(e.message.starts_with(message), "{args}: {}", e.message);
        }
        assert_eq!(run_on_host("html_generation", &json!([3])).unwrap_err().kind, ErrorKind::BadArguments);
    }
}
