//! The syntax tree the parser builds and the compiler reads, and the ASCII classes.
use alloc::vec::Vec;

/// Alternatives, each a sequence of items: a whole pattern or a group.
pub(super) type Alternation = Vec<Vec<Item>>;

/// An atom and how often it repeats (once, if no quantifier follows).
pub(super) struct Item {
    pub(super) atom: Atom,
    pub(super) min: u32,
    pub(super) max: Option<u32>,
    pub(super) greedy: bool,
}

pub(super) enum Atom {
    Char(char),
    Class(Class),
    /// `.`; `newline` under the `s` flag.
    Any {
        newline: bool,
    },
    Look(Look),
    Group(Alternation),
}

/// `ranges[start..end]` of the pattern's range table: sorted, disjoint, not adjacent. `negated`
/// flips the test.
#[derive(Clone, Copy, Debug)]
pub(super) struct Class {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) negated: bool,
}

/// The zero-width assertions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Look {
    /// `\A`, and `^` without `m`.
    Start,
    /// `^` with `m`.
    StartLine,
    /// `$` without `m`: the end, or before a newline that ends the data.
    End,
    /// `$` with `m`.
    EndLine,
    /// `\Z`.
    EndText,
    Word,
    NotWord,
}

pub(super) const DIGIT: &[(char, char)] = &[('0', '9')];
pub(super) const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
pub(super) const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

pub(super) fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Clone, Copy, PartialEq)]
pub(super) struct Flags {
    pub(super) ignore_case: bool,
    pub(super) multi_line: bool,
    pub(super) dot_all: bool,
}
