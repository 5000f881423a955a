//! The regular-expression engine behind `regex_search` and `regex_match`.
//!
//! Syntax and meaning are Python's `re` with `re.ASCII`: `\d \w \s \b` and `(?i)` know only ASCII,
//! while `.`, `[^...]` and literals work on whole Unicode characters. The pattern is parsed, then
//! compiled to a Thompson NFA, which a Pike VM runs over the data one character at a time with
//! every live thread in lockstep: time is O(states × data) whatever the pattern (no backtracking),
//! and the match found is Python's (threads keep the order a backtracker would try them in).
//!
//! Not supported, and a 400 naming `pattern`: backreferences, look-around, atomic groups,
//! possessive quantifiers, conditionals, `\N{...}`, escapes naming a surrogate, the `x` flag, and
//! counts above [`MAX_REPEAT`]. One deliberate difference: `\B` matches the empty string, as in
//! Python 3.14 (gh-124130) and unlike earlier versions.
//!
//! Every allocation is fallible (running out is `OutOfMemory`), and the caps keep them small: a
//! pattern of at most [`MAX_PATTERN`] bytes compiles to at most [`MAX_STATES`] VM states, and a
//! search needs three arrays of that length; the data is borrowed, not copied. The worst patterns
//! within the caps take under 400 KiB of the worker's arena per invocation (check and run both
//! compile; measured by counting every allocation). Time is bounded the same way: at most
//! `MAX_STATES` steps per character of at most [`MAX_DATA`] bytes, about 0.5 s natively.
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::function::FnError;

mod compile;
mod parse;
mod pike;
mod syntax;
#[cfg(test)]
mod tests;

use compile::Compiler;
use parse::Parser;
pub use pike::Regex;

/// Largest `data` accepted, in bytes. With [`MAX_STATES`] it bounds the time of a search.
pub const MAX_DATA: usize = 32 * 1024;

/// Largest `pattern` accepted, in bytes.
pub const MAX_PATTERN: usize = 1024;

/// Deepest nesting of groups accepted; bounds the parser's and compiler's recursion.
pub const MAX_DEPTH: usize = 32;

/// Largest count in `{m,n}` accepted.
pub const MAX_REPEAT: u32 = 1000;

/// Most VM states a compiled pattern may have: one per instruction, plus one for each optional
/// repetition the instruction is inside. Repetition copies its operand, so a short pattern can
/// still compile to many. Bounds a search's memory and its time per character of data: at this
/// cap, 32 KiB of data take about 0.5 s natively (`worst_case_patterns_stay_within_the_caps` checks
/// the state cap holds for the worst patterns known).
pub const MAX_STATES: usize = 4096;

/// The arguments of both regex functions.
#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
    pub pattern: &'a str,
}

/// The documented shape of [`Args`].
pub const ARGS: &str = "{\"data\": string (<= 32768 bytes), \"pattern\": string (Python re syntax as with \
                        re.ASCII, <= 1024 bytes, groups nested <= 32 deep, counts <= 1000, <= 4096 states compiled)}";

/// Checks the caps and compiles the pattern: the same in `check` (so a bad pattern is a 400
/// before a worker is powered on) and in `run`.
pub fn compile(args: &Args<'_>) -> Result<Regex, FnError> {
    if args.data.len() > MAX_DATA {
        return Err(FnError::bad_args("data: must be at most 32768 bytes"));
    }
    if args.pattern.len() > MAX_PATTERN {
        return Err(FnError::bad_args("pattern: must be at most 1024 bytes"));
    }
    let mut parser = Parser::new(args.pattern);
    let ast = parser.parse()?;
    let mut compiler = Compiler { program: Vec::new(), levels: Vec::new(), level: 0 };
    compiler.alternation(&ast)?;
    compiler.finish(parser.ranges)
}

fn bad(message: &'static str) -> FnError {
    FnError::bad_args(message)
}
