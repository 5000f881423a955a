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
use crate::memory;

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
/// cap, 32 KiB of data take about 0.5 s natively (see `worst_cases_within_the_caps`).
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

// ---- Syntax tree ----------------------------------------------------------------------------

/// Alternatives, each a sequence of items: a whole pattern or a group.
type Alternation = Vec<Vec<Item>>;

/// An atom and how often it repeats (once, if no quantifier follows).
struct Item {
    atom: Atom,
    min: u32,
    max: Option<u32>,
    greedy: bool,
}

enum Atom {
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
struct Class {
    start: u32,
    end: u32,
    negated: bool,
}

/// The zero-width assertions.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Look {
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

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Clone, Copy, PartialEq)]
struct Flags {
    ignore_case: bool,
    multi_line: bool,
    dot_all: bool,
}

// ---- Parser ---------------------------------------------------------------------------------

/// A recursive-descent parser over the pattern's characters, following Python's `sre_parse`.
struct Parser<'p> {
    pattern: &'p str,
    pos: usize,
    depth: usize,
    names: Vec<&'p str>,
    flags: Flags,
    /// Every class's ranges, each class once however often it is repeated.
    ranges: Vec<(char, char)>,
}

/// What an escape stands for.
enum Escape {
    Char(char),
    Class(&'static [(char, char)], bool),
    Look(Look),
}

impl<'p> Parser<'p> {
    fn new(pattern: &'p str) -> Self {
        Parser { pattern, pos: 0, depth: 0, names: Vec::new(), flags: Flags::NONE, ranges: Vec::new() }
    }

    fn peek(&self) -> Option<char> {
        self.pattern[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let found = self.pattern[self.pos..].starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    /// The whole pattern: global flags (only at the start, as Python requires), then alternatives.
    fn parse(&mut self) -> Result<Alternation, FnError> {
        loop {
            let start = self.pos;
            if !self.eat_str("(?") || !self.peek().is_some_and(|c| "aimsxuL".contains(c)) {
                self.pos = start;
                break;
            }
            let (on, off) = self.flag_letters()?;
            if off != Flags::NONE || !self.eat(')') {
                self.pos = start;
                break;
            }
            self.flags = on;
        }
        let flags = self.flags;
        let ast = self.alternation(flags)?;
        match self.peek() {
            None => Ok(ast),
            Some(_) => Err(bad("pattern: unbalanced parenthesis")),
        }
    }

    fn alternation(&mut self, flags: Flags) -> Result<Alternation, FnError> {
        let mut alternatives = Vec::new();
        loop {
            memory::push(&mut alternatives, self.sequence(flags)?)?;
            if !self.eat('|') {
                return Ok(alternatives);
            }
        }
    }

    fn sequence(&mut self, flags: Flags) -> Result<Vec<Item>, FnError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            if matches!(c, '*' | '+' | '?') || (c == '{' && self.counts().is_some()) {
                return Err(bad("pattern: nothing to repeat"));
            }
            let Some(atom) = self.atom(flags)? else { continue };
            let quantifier = self.quantifier()?;
            if quantifier.is_some() && matches!(atom, Atom::Look(_)) {
                return Err(bad("pattern: nothing to repeat"));
            }
            let (min, max, greedy) = quantifier.unwrap_or((1, Some(1), true));
            memory::push(&mut items, Item { atom, min, max, greedy })?;
        }
        Ok(items)
    }

    /// `* + ? {m,n}`, each possibly lazy; None when no quantifier follows.
    fn quantifier(&mut self) -> Result<Option<(u32, Option<u32>, bool)>, FnError> {
        let simple = match self.peek() {
            Some('*') => Some((0, None)),
            Some('+') => Some((1, None)),
            Some('?') => Some((0, Some(1))),
            _ => None,
        };
        let (min, max) = match simple {
            Some(counts) => {
                self.next();
                counts
            }
            None => match self.counts() {
                Some(counts) => counts?,
                None => return Ok(None),
            },
        };
        let greedy = !self.eat('?');
        if self.peek() == Some('+') && greedy {
            return Err(bad("pattern: possessive quantifiers are not supported"));
        }
        if matches!(self.peek(), Some('*' | '+' | '?')) || (self.peek() == Some('{') && self.counts().is_some()) {
            return Err(bad("pattern: multiple repeat"));
        }
        Ok(Some((min, max, greedy)))
    }

    /// Parses `{m}`, `{m,}`, `{,n}`, `{m,n}` or `{,}` at the cursor, consuming it only when it is
    /// one; anything else (`{`, `{a}`, `{ 1}`) is a literal brace, as in Python.
    fn counts(&mut self) -> Option<Result<(u32, Option<u32>), FnError>> {
        let start = self.pos;
        let rest = &self.pattern[start..];
        let body = rest.strip_prefix('{')?.split('}').next()?;
        if rest.len() == body.len() + 1 {
            return None; // no closing brace
        }
        let (low, high) = match body.split_once(',') {
            Some((low, high)) => (low, Some(high)),
            None => (body, None),
        };
        if !low.bytes().chain(high.unwrap_or("").bytes()).all(|b| b.is_ascii_digit())
            || (high.is_none() && low.is_empty())
        {
            return None;
        }
        self.pos = start + body.len() + 2;
        Some(repeat_counts(low, high))
    }

    /// One atom; None for what matches nothing at all (a comment).
    fn atom(&mut self, flags: Flags) -> Result<Option<Atom>, FnError> {
        let Some(c) = self.next() else { return Err(bad("pattern: unexpected end")) };
        let atom = match c {
            '(' => return self.group(flags),
            '[' => Atom::Class(self.class(flags)?),
            '.' => Atom::Any { newline: flags.dot_all },
            '^' => Atom::Look(if flags.multi_line { Look::StartLine } else { Look::Start }),
            '$' => Atom::Look(if flags.multi_line { Look::EndLine } else { Look::End }),
            '\\' => match self.escape(false)? {
                Escape::Char(c) => self.literal(c, flags)?,
                Escape::Class(class, negated) => {
                    let start = self.ranges.len();
                    push_class(&mut self.ranges, class, false)?;
                    Atom::Class(self.finish_class(start, negated, Flags::NONE)?)
                }
                Escape::Look(look) => Atom::Look(look),
            },
            c => self.literal(c, flags)?,
        };
        Ok(Some(atom))
    }

    /// After `(`: a group, a comment, or an extension this engine does not support.
    fn group(&mut self, mut flags: Flags) -> Result<Option<Atom>, FnError> {
        if self.eat('?') {
            if self.eat('#') {
                return match self.pattern[self.pos..].find(')') {
                    Some(end) => {
                        self.pos += end + 1;
                        Ok(None)
                    }
                    None => Err(bad("pattern: unterminated comment")),
                };
            }
            if self.eat_str("P<") {
                let name = self.name()?;
                if self.names.contains(&name) {
                    return Err(bad("pattern: redefinition of a group name"));
                }
                memory::push(&mut self.names, name)?;
            } else if self.eat_str("P=") {
                return Err(bad("pattern: backreferences are not supported"));
            } else if self.eat_str("=") || self.eat_str("!") || self.eat_str("<=") || self.eat_str("<!") {
                return Err(bad("pattern: look-around is not supported"));
            } else if self.eat('>') {
                return Err(bad("pattern: atomic groups are not supported"));
            } else if self.eat('(') {
                return Err(bad("pattern: conditional groups are not supported"));
            } else if !self.eat(':') {
                let letters = self.pos;
                let (on, off) = self.flag_letters()?;
                if self.pos == letters {
                    return Err(bad("pattern: unknown extension after (?"));
                }
                if self.eat(')') {
                    return Err(bad("pattern: global flags not at the start of the pattern"));
                }
                if !self.eat(':') {
                    return Err(bad("pattern: unknown extension after (?"));
                }
                flags = Flags {
                    ignore_case: (flags.ignore_case || on.ignore_case) && !off.ignore_case,
                    multi_line: (flags.multi_line || on.multi_line) && !off.multi_line,
                    dot_all: (flags.dot_all || on.dot_all) && !off.dot_all,
                };
            }
        }
        if self.depth == MAX_DEPTH {
            return Err(bad("pattern: groups nested more than 32 deep"));
        }
        self.depth += 1;
        let inner = self.alternation(flags)?;
        self.depth -= 1;
        if !self.eat(')') {
            return Err(bad("pattern: missing ), unterminated group"));
        }
        Ok(Some(Atom::Group(inner)))
    }

    /// A group name up to `>`: an identifier (any non-ASCII character counts as a letter).
    fn name(&mut self) -> Result<&'p str, FnError> {
        let rest = &self.pattern[self.pos..];
        let Some(end) = rest.find('>') else { return Err(bad("pattern: missing > after a group name")) };
        let name = &rest[..end];
        let letter = |c: char| c == '_' || c.is_ascii_alphabetic() || !c.is_ascii();
        let mut chars = name.chars();
        if !chars.next().is_some_and(letter) || !chars.all(|c| letter(c) || c.is_ascii_digit()) {
            return Err(bad("pattern: bad character in a group name"));
        }
        self.pos += end + 1;
        Ok(name)
    }

    /// Flag letters, then optionally `-` and more: `(?im-s`. Letters `a` (always on here) and `u`,
    /// `L`, `x` are Python's too; only `i`, `m`, `s` change anything.
    fn flag_letters(&mut self) -> Result<(Flags, Flags), FnError> {
        let mut sets = [Flags::NONE; 2];
        let mut side = 0;
        while let Some(c) = self.peek() {
            let set = &mut sets[side];
            match c {
                'i' => set.ignore_case = true,
                'm' => set.multi_line = true,
                's' => set.dot_all = true,
                'a' if side == 0 => {}
                '-' if side == 0 => side = 1,
                'x' => return Err(bad("pattern: the x flag is not supported")),
                'u' | 'L' => return Err(bad("pattern: only ASCII classes are supported (no u or L flag)")),
                _ => break,
            }
            self.next();
        }
        let [on, off] = sets;
        if (on.ignore_case && off.ignore_case) || (on.multi_line && off.multi_line) || (on.dot_all && off.dot_all) {
            return Err(bad("pattern: a flag turned on and off"));
        }
        if side == 1 && off == Flags::NONE {
            return Err(bad("pattern: missing flag after -"));
        }
        Ok((on, off))
    }

    /// After `[`: a set of characters, ranges and classes, possibly negated.
    fn class(&mut self, flags: Flags) -> Result<Class, FnError> {
        let negated = self.eat('^');
        let start = self.ranges.len();
        const UNTERMINATED: FnError = FnError::bad_args("pattern: unterminated character set");
        loop {
            let c = self.next().ok_or(UNTERMINATED)?;
            if c == ']' && self.ranges.len() > start {
                break;
            }
            let low = match c {
                '\\' => self.escape(true)?,
                c => Escape::Char(c),
            };
            // Empty sets cannot happen, so `[]` and `[^]` start with a literal `]`, as in Python.
            let low = match low {
                Escape::Char(c) => c,
                Escape::Class(class, negated) => {
                    push_class(&mut self.ranges, class, negated)?;
                    if self.pattern[self.pos..].starts_with('-') && !self.pattern[self.pos..].starts_with("-]") {
                        return Err(bad("pattern: bad character range"));
                    }
                    continue;
                }
                Escape::Look(_) => return Err(bad("pattern: bad escape in a character set")),
            };
            let mut high = low;
            if self.pattern[self.pos..].starts_with('-') && !self.pattern[self.pos..].starts_with("-]") {
                self.next();
                high = match self.next().ok_or(UNTERMINATED)? {
                    '\\' => match self.escape(true)? {
                        Escape::Char(c) => c,
                        _ => return Err(bad("pattern: bad character range")),
                    },
                    c => c,
                };
                if high < low {
                    return Err(bad("pattern: bad character range"));
                }
            }
            memory::push(&mut self.ranges, (low, high))?;
        }
        self.finish_class(start, negated, flags)
    }

    /// A literal character; under `i`, an ASCII letter matches both cases.
    fn literal(&mut self, c: char, flags: Flags) -> Result<Atom, FnError> {
        if !(flags.ignore_case && c.is_ascii_alphabetic()) {
            return Ok(Atom::Char(c));
        }
        let start = self.ranges.len();
        memory::push(&mut self.ranges, (c, c))?;
        Ok(Atom::Class(self.finish_class(start, false, flags)?))
    }

    /// Makes the ranges pushed since `start` a class: under `i` with the other case of every
    /// ASCII letter added (as `re.ASCII | re.IGNORECASE` does), then sorted and merged, so a
    /// match is a binary search.
    fn finish_class(&mut self, start: usize, negated: bool, flags: Flags) -> Result<Class, FnError> {
        if flags.ignore_case {
            for i in start..self.ranges.len() {
                let (low, high) = self.ranges[i];
                for (from, to) in [('a', 'A'), ('A', 'a')] {
                    let (first, last) = (low.max(from) as u32, high.min((from as u8 + 25) as char) as u32);
                    if first <= last {
                        let shift = |c: u32| char::from_u32(c - from as u32 + to as u32).unwrap_or(to);
                        memory::push(&mut self.ranges, (shift(first), shift(last)))?;
                    }
                }
            }
        }
        let class = &mut self.ranges[start..];
        class.sort_unstable();
        let mut merged = 0;
        for i in 0..class.len() {
            let (low, high) = class[i];
            if merged > 0 && low as u32 <= class[merged - 1].1 as u32 + 1 {
                class[merged - 1].1 = class[merged - 1].1.max(high);
            } else {
                class[merged] = (low, high);
                merged += 1;
            }
        }
        self.ranges.truncate(start + merged);
        Ok(Class { start: start as u32, end: self.ranges.len() as u32, negated })
    }

    /// After `\`, in a character set or not.
    fn escape(&mut self, in_set: bool) -> Result<Escape, FnError> {
        let Some(c) = self.next() else { return Err(bad("pattern: bad escape at the end")) };
        let char = |c| Ok(Escape::Char(c));
        match c {
            'd' | 'D' => Ok(Escape::Class(DIGIT, c == 'D')),
            'w' | 'W' => Ok(Escape::Class(WORD, c == 'W')),
            's' | 'S' => Ok(Escape::Class(SPACE, c == 'S')),
            'b' if in_set => char('\u{8}'),
            'b' => Ok(Escape::Look(Look::Word)),
            'B' if !in_set => Ok(Escape::Look(Look::NotWord)),
            'A' if !in_set => Ok(Escape::Look(Look::Start)),
            'Z' if !in_set => Ok(Escape::Look(Look::EndText)),
            'a' => char('\u{7}'),
            'f' => char('\u{c}'),
            'n' => char('\n'),
            'r' => char('\r'),
            't' => char('\t'),
            'v' => char('\u{b}'),
            'x' => self.hex(2),
            'u' => self.hex(4),
            'U' => self.hex(8),
            'N' => Err(bad("pattern: \\N{...} is not supported")),
            '0'..='7' if in_set || c == '0' || self.octal_follows() => self.octal(c),
            '1'..='9' if !in_set => Err(bad("pattern: backreferences are not supported")),
            c if c.is_ascii_alphanumeric() => Err(bad("pattern: bad escape")),
            c => char(c),
        }
    }

    /// True when two more octal digits follow: `\NNN` is octal, `\N` or `\NN` a backreference.
    fn octal_follows(&self) -> bool {
        let rest = &self.pattern.as_bytes()[self.pos..];
        rest.len() >= 2 && rest[..2].iter().all(|b| (b'0'..=b'7').contains(b))
    }

    /// Up to three octal digits, the first already read.
    fn octal(&mut self, first: char) -> Result<Escape, FnError> {
        let mut value = first as u32 - '0' as u32;
        for _ in 0..2 {
            match self.peek() {
                Some(c @ '0'..='7') => {
                    self.next();
                    value = value * 8 + (c as u32 - '0' as u32);
                }
                _ => break,
            }
        }
        if value > 0o377 {
            return Err(bad("pattern: octal escape value outside of range"));
        }
        char::from_u32(value).map(Escape::Char).ok_or(bad("pattern: bad escape"))
    }

    /// Exactly `digits` hex digits, naming a character.
    fn hex(&mut self, digits: usize) -> Result<Escape, FnError> {
        let text = self.pattern[self.pos..].get(..digits).ok_or(bad("pattern: incomplete escape"))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("pattern: incomplete escape"));
        }
        self.pos += digits;
        let value = u32::from_str_radix(text, 16).map_err(|_| bad("pattern: incomplete escape"))?;
        char::from_u32(value).map(Escape::Char).ok_or(bad("pattern: bad escape"))
    }
}

/// The counts of `{low,high}` (`high` None without a comma); empty `low` is 0, empty `high`
/// unbounded.
fn repeat_counts(low: &str, high: Option<&str>) -> Result<(u32, Option<u32>), FnError> {
    let number = |digits: &str| match digits.parse::<u32>() {
        Ok(n) if n <= MAX_REPEAT => Ok(n),
        _ => Err(bad("pattern: repetition counts must be at most 1000")),
    };
    let min = if low.is_empty() { 0 } else { number(low)? };
    let max = match high {
        None => Some(min),
        Some("") => None,
        Some(high) => Some(number(high)?),
    };
    if max.is_some_and(|max| max < min) {
        return Err(bad("pattern: min repeat greater than max repeat"));
    }
    Ok((min, max))
}

impl Flags {
    const NONE: Flags = Flags { ignore_case: false, multi_line: false, dot_all: false };
}

/// Adds `class` (or, if `negated`, every character outside it) to a set's ranges. `class` is
/// sorted, disjoint and ASCII.
fn push_class(ranges: &mut Vec<(char, char)>, class: &[(char, char)], negated: bool) -> Result<(), FnError> {
    if !negated {
        memory::reserve(ranges, class.len())?;
        ranges.extend_from_slice(class);
        return Ok(());
    }
    let mut from = 0u32;
    for &(low, high) in class {
        if (low as u32) > from {
            push_range(ranges, from, low as u32 - 1)?;
        }
        from = high as u32 + 1;
    }
    push_range(ranges, from, char::MAX as u32)
}

fn push_range(ranges: &mut Vec<(char, char)>, low: u32, high: u32) -> Result<(), FnError> {
    match (char::from_u32(low), char::from_u32(high)) {
        (Some(low), Some(high)) => memory::push(ranges, (low, high)),
        _ => Ok(()), // not reached: the gaps around ASCII ranges are valid characters
    }
}

// ---- Compiler -------------------------------------------------------------------------------

/// An instruction of the Pike VM's program.
#[derive(Clone, Copy, Debug)]
enum Inst {
    Char(char),
    Class(Class),
    Any {
        newline: bool,
    },
    Look(Look),
    /// Try the first target, then the second (the order is the match priority).
    Split(u32, u32),
    Jump(u32),
    /// The start of one optional iteration of a repetition (its body is at loop `level`): into
    /// `body` or on to `out`, in the order `greedy` says.
    Enter {
        body: u32,
        out: u32,
        greedy: bool,
        level: u32,
    },
    /// The end of one optional iteration: on to `again` for another, unless the iteration matched
    /// nothing, which ends the repetition at `out`. That is Python's rule (sre's "zero-width match
    /// protection"), and it decides which match is found first: `(|a)+` on "aa" matches "".
    Loop {
        again: u32,
        out: u32,
        level: u32,
    },
    Match,
}

const TOO_LARGE: FnError = FnError::bad_args("pattern: more than 4096 states once compiled");

struct Compiler {
    program: Vec<Inst>,
    /// How many optional iterations each instruction is inside.
    levels: Vec<u32>,
    level: u32,
}

impl Compiler {
    /// Appends an instruction; returns its address.
    fn emit(&mut self, inst: Inst) -> Result<u32, FnError> {
        // Every instruction is at least one state: stop early rather than compile a huge program.
        if self.program.len() >= MAX_STATES {
            return Err(TOO_LARGE);
        }
        memory::push(&mut self.program, inst)?;
        memory::push(&mut self.levels, self.level)?;
        Ok(self.program.len() as u32 - 1)
    }

    fn here(&self) -> u32 {
        self.program.len() as u32
    }

    /// `split L1, S2; L1: first; jump END; S2: split L2, S3; ...; last; END:`
    fn alternation(&mut self, alternatives: &Alternation) -> Result<(), FnError> {
        let mut jumps = memory::vec_with_capacity(alternatives.len())?;
        for (i, sequence) in alternatives.iter().enumerate() {
            if i + 1 == alternatives.len() {
                self.sequence(sequence)?;
                break;
            }
            let split = self.emit(Inst::Split(0, 0))?;
            self.sequence(sequence)?;
            jumps.push(self.emit(Inst::Jump(0))?);
            self.program[split as usize] = Inst::Split(split + 1, self.here());
        }
        let end = self.here();
        for jump in jumps {
            self.program[jump as usize] = Inst::Jump(end);
        }
        Ok(())
    }

    fn sequence(&mut self, items: &[Item]) -> Result<(), FnError> {
        items.iter().try_for_each(|item| self.item(item))
    }

    /// `min` copies of the atom, then the optional iterations: a loop when there is no maximum,
    /// else `max - min` copies, each entered only after the one before. Each copy emits at least
    /// one instruction unless the atom is empty, and counts are at most [`MAX_REPEAT`], so this
    /// ends quickly either way.
    ///
    /// `E: enter B, OUT; B: atom; loop E, OUT; OUT:` or
    /// `E1: enter B1, OUT; B1: atom; loop E2, OUT; E2: enter B2, OUT; ...; OUT:`
    fn item(&mut self, item: &Item) -> Result<(), FnError> {
        for _ in 0..item.min {
            self.atom(&item.atom)?;
        }
        let optional = match item.max {
            None => 1,
            Some(max) => max - item.min,
        };
        // Each iteration's enter and loop, patched once `out` is known.
        let mut patches = memory::vec_with_capacity(optional as usize)?;
        let level = self.level + 1;
        for _ in 0..optional {
            let enter = self.emit(Inst::Match)?;
            self.level = level;
            self.atom(&item.atom)?;
            let end = self.emit(Inst::Match)?;
            self.level = level - 1;
            patches.push((enter, end));
        }
        let out = self.here();
        for (enter, end) in patches {
            self.program[enter as usize] = Inst::Enter { body: enter + 1, out, greedy: item.greedy, level };
            let again = if item.max.is_none() { enter } else { end + 1 };
            self.program[end as usize] = Inst::Loop { again, out, level };
        }
        Ok(())
    }

    fn atom(&mut self, atom: &Atom) -> Result<(), FnError> {
        let inst = match atom {
            Atom::Char(c) => Inst::Char(*c),
            Atom::Any { newline } => Inst::Any { newline: *newline },
            Atom::Look(look) => Inst::Look(*look),
            Atom::Class(class) => Inst::Class(*class),
            Atom::Group(alternatives) => return self.alternation(alternatives),
        };
        self.emit(inst).map(drop)
    }

    /// The finished regex: numbers the VM's states (see [`Regex::find`]).
    fn finish(mut self, ranges: Vec<(char, char)>) -> Result<Regex, FnError> {
        self.emit(Inst::Match)?;
        let mut first_state = memory::vec_with_capacity(self.program.len())?;
        let mut states = 0;
        for level in &self.levels {
            first_state.push(states as u32);
            states += *level as usize + 1;
        }
        if states > MAX_STATES {
            return Err(TOO_LARGE);
        }
        Ok(Regex { program: self.program, ranges, levels: self.levels, first_state, states })
    }
}

// ---- Pike VM --------------------------------------------------------------------------------

/// A compiled pattern.
pub struct Regex {
    program: Vec<Inst>,
    ranges: Vec<(char, char)>,
    levels: Vec<u32>,
    /// The VM state of (instruction, 0); see [`Regex::find`].
    first_state: Vec<u32>,
    states: usize,
}

/// Where in the data an assertion is tested.
struct At {
    pos: usize,
    prev: Option<char>,
    next: Option<char>,
    len: usize,
}

impl At {
    fn new(data: &str, pos: usize, prev: Option<char>) -> At {
        At { pos, prev, next: data[pos..].chars().next(), len: data.len() }
    }

    fn holds(&self, look: Look) -> bool {
        match look {
            Look::Start => self.pos == 0,
            Look::StartLine => self.pos == 0 || self.prev == Some('\n'),
            Look::End => self.pos == self.len || (self.pos + 1 == self.len && self.next == Some('\n')),
            Look::EndLine => self.pos == self.len || self.next == Some('\n'),
            Look::EndText => self.pos == self.len,
            Look::Word => is_word(self.prev) != is_word(self.next),
            Look::NotWord => is_word(self.prev) == is_word(self.next),
        }
    }
}

/// The threads alive at one position, in priority order, each with its instruction and where its
/// match started; at most one per state (a sparse set, so clearing is O(1)).
struct Threads {
    dense: Vec<(u32, u32, usize)>,
    sparse: Vec<u32>,
}

impl Threads {
    fn new(states: usize) -> Result<Threads, FnError> {
        Ok(Threads { dense: memory::vec_with_capacity(states)?, sparse: memory::vec_filled(states, 0)? })
    }

    /// Adds the thread unless its state is present; false if it was.
    fn insert(&mut self, state: u32, pc: u32, start: usize) -> bool {
        let i = self.sparse[state as usize] as usize;
        if self.dense.get(i).is_some_and(|&(s, _, _)| s == state) {
            return false;
        }
        self.sparse[state as usize] = self.dense.len() as u32;
        // Within capacity: at most one entry per state.
        self.dense.push((state, pc, start));
        true
    }
}

impl Regex {
    /// The leftmost match as a byte range, the one Python's backtracker finds first; with
    /// `anchored`, only a match starting at 0.
    ///
    /// A thread's state is its instruction and `entered`: 0, or the outermost loop level whose
    /// current iteration began at this very position (so it has matched nothing yet). Two threads
    /// in the same state have the same future, so only the first (higher priority) is kept; the
    /// state count is bounded by [`MAX_STATES`].
    pub fn find(&self, data: &str, anchored: bool) -> Result<Option<(usize, usize)>, FnError> {
        let (mut now, mut next) = (Threads::new(self.states)?, Threads::new(self.states)?);
        // An `add` expands each state at most once and pushes at most two successors for each,
        // so the stack never outgrows this (and never reallocates).
        let mut stack = memory::vec_with_capacity(2 * self.states + 1)?;
        let mut found = None;
        let mut at = At::new(data, 0, None);
        loop {
            if found.is_none() && (at.pos == 0 || !anchored) {
                // A match starting here ranks below every thread already running.
                self.add(&mut now, &mut stack, 0, at.pos, &at);
            }
            if now.dense.is_empty() && (found.is_some() || anchored) {
                break;
            }
            let after = at.next.map(|c| At::new(data, at.pos + c.len_utf8(), Some(c)));
            for &(_, pc, start) in &now.dense {
                let consumed = match (self.program[pc as usize], at.next) {
                    (Inst::Match, _) => {
                        found = Some((start, at.pos));
                        break; // the threads after this one rank lower
                    }
                    (Inst::Char(want), Some(c)) => c == want,
                    (Inst::Any { newline }, Some(c)) => newline || c != '\n',
                    (Inst::Class(class), Some(c)) => {
                        let ranges = &self.ranges[class.start as usize..class.end as usize];
                        let i = ranges.partition_point(|&(_, high)| high < c);
                        ranges.get(i).is_some_and(|&(low, _)| low <= c) != class.negated
                    }
                    _ => false,
                };
                if let (true, Some(after)) = (consumed, &after) {
                    self.add(&mut next, &mut stack, pc + 1, start, after);
                }
            }
            let Some(after) = after else { break };
            core::mem::swap(&mut now, &mut next);
            next.dense.clear();
            at = after;
        }
        Ok(found)
    }

    /// Adds the thread at `pc` (having just consumed a character, or starting) and everything it
    /// reaches without consuming one, depth first in priority order. Every state is recorded, so
    /// none is expanded twice; only the consuming instructions and `Match` act when stepped.
    fn add(&self, threads: &mut Threads, stack: &mut Vec<(u32, u32)>, pc: u32, start: usize, at: &At) {
        stack.clear();
        stack.push((pc, 0));
        while let Some((pc, entered)) = stack.pop() {
            let level = self.levels[pc as usize];
            let state = self.first_state[pc as usize] + entered.min(level);
            if !threads.insert(state, pc, start) {
                continue;
            }
            match self.program[pc as usize] {
                Inst::Jump(to) => stack.push((to, entered)),
                Inst::Split(first, second) => stack.extend([(second, entered), (first, entered)]),
                Inst::Enter { body, out, greedy, level } => {
                    let inside = (body, if entered == 0 { level } else { entered });
                    let outside = (out, entered);
                    stack.extend(if greedy { [outside, inside] } else { [inside, outside] });
                }
                // `entered` is set: this iteration began here, so it is empty and the last.
                Inst::Loop { out, level, .. } if entered != 0 => {
                    stack.push((out, if entered == level { 0 } else { entered }));
                }
                Inst::Loop { again, .. } => stack.push((again, 0)),
                Inst::Look(look) if at.holds(look) => stack.push((pc + 1, entered)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::ToOwned;

    use serde_json::{Value, json};

    use super::{Args, compile};
    use crate::ErrorKind;
    use crate::json::run_on_host;

    /// Python's own results; how they were made is in `testdata/regex_cases.py`.
    const CASES: &str = include_str!("testdata/regex_cases.json");

    fn cases() -> Value {
        serde_json::from_str(CASES).unwrap()
    }

    #[test]
    fn the_same_matches_as_python() {
        let cases = cases();
        let mut failures = std::vec::Vec::new();
        for case in cases["valid"].as_array().unwrap() {
            let (pattern, data) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
            let args = json!({ "data": data, "pattern": pattern });
            let search = run_on_host("regex_search", &args).map_err(|e| e.message);
            let matched = run_on_host("regex_match", &args).map_err(|e| e.message);
            if search.as_ref() != Ok(&case[2]) || matched.as_ref() != Ok(&case[3]) {
                failures.push(std::format!(
                    "{pattern:?} on {data:?}: {search:?} {matched:?}, Python {} {}",
                    case[2],
                    case[3]
                ));
            }
        }
        assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    #[ignore = "timing; run with --release --ignored --nocapture"]
    fn worst_cases_within_the_caps() {
        let a = "a".repeat(super::MAX_DATA);
        let dots = ".*".repeat(300) + "x";
        let alternation = (0..300).map(|i| std::format!("a{}", i % 10)).collect::<std::vec::Vec<_>>().join("|");
        let optional = "(?:a?){800}b".to_owned();
        let nested = "(?:(?:(?:(?:a*)*)*)*){100}b".to_owned();
        let classes = "[\\w\\s]*".repeat(120) + "!";
        for pattern in [dots, alternation, optional, nested, classes] {
            let args = Args { data: &a, pattern: &pattern };
            let regex = match compile(&args) {
                Ok(regex) => regex,
                Err(e) => {
                    std::println!("{pattern:.40}: {}", e.message);
                    continue;
                }
            };
            let t = std::time::Instant::now();
            let found = regex.find(&a, false).unwrap();
            std::println!("{pattern:.40}: {} states, {:?} in {:?}", regex.states, found, t.elapsed());
        }
    }

    #[test]
    fn patterns_python_refuses_are_refused() {
        for pattern in cases()["invalid"].as_array().unwrap() {
            let pattern = pattern.as_str().unwrap();
            let e = compile(&Args { data: "", pattern }).err();
            let e = e.unwrap_or_else(|| panic!("{pattern:?} compiled"));
            assert_eq!(e.kind, ErrorKind::BadArguments);
            assert!(e.message.starts_with("pattern: "), "{}", e.message);
        }
    }

    fn run(name: &str, data: &str, pattern: &str) -> Result<Value, crate::json::HostError> {
        run_on_host(name, &json!({ "data": data, "pattern": pattern }))
    }

    /// Refused by `check` (so on the host, before any worker), as BadArguments naming the field.
    fn refused(data: &str, pattern: &str) -> std::string::String {
        let args = json!({ "data": data, "pattern": pattern });
        for name in ["regex_search", "regex_match"] {
            let e = (crate::find(name).unwrap().args_from_json)(&args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{pattern:?}: {}", e.message);
        }
        run("regex_search", data, pattern).unwrap_err().message
    }

    #[test]
    fn outputs_are_the_match_text_null_or_a_boolean() {
        assert_eq!(run("regex_search", "order 66 on 2024-05-17", r"\d{4}-\d\d-\d\d").unwrap(), json!("2024-05-17"));
        assert_eq!(run("regex_search", "abc", "z").unwrap(), json!(null));
        assert_eq!(run("regex_search", "abc", "z*").unwrap(), json!(""));
        assert_eq!(run("regex_search", "aééb", "é+").unwrap(), json!("éé"));
        assert_eq!(run("regex_match", "2024-05-17: shipped", r"\d{4}").unwrap(), json!(true));
        assert_eq!(run("regex_match", "shipped 2024", r"\d{4}").unwrap(), json!(false));
        assert_eq!(run("regex_match", "", "").unwrap(), json!(true));
        // The one deliberate difference from Python 3.11, which never lets \B match "" (3.14 does).
        assert_eq!(run("regex_search", "", r"\B").unwrap(), json!(""));
    }

    #[test]
    fn caps_are_enforced_and_name_the_field() {
        let data = "a".repeat(super::MAX_DATA);
        assert_eq!(run("regex_match", &data, "a+$").unwrap(), json!(true));
        let e = refused(&(data + "a"), "a");
        assert_eq!(e, "data: must be at most 32768 bytes");

        let pattern = "a".repeat(super::MAX_PATTERN);
        assert_eq!(run("regex_search", "a", &pattern).unwrap(), json!(null));
        assert_eq!(refused("a", &(pattern + "a")), "pattern: must be at most 1024 bytes");

        let nested = |depth| "(".repeat(depth) + "a" + &")".repeat(depth);
        assert_eq!(run("regex_search", "a", &nested(32)).unwrap(), json!("a"));
        assert_eq!(refused("a", &nested(33)), "pattern: groups nested more than 32 deep");

        assert_eq!(run("regex_search", "aaa", "a{1000}").unwrap(), json!(null));
        assert_eq!(refused("a", "a{1001}"), "pattern: repetition counts must be at most 1000");
        assert_eq!(refused("a", "a{2,1001}"), "pattern: repetition counts must be at most 1000");

        // Four copies of 1001 instructions fit; five do not, nor do nested optional repetitions
        // whose states outnumber their instructions.
        assert_eq!(run("regex_search", "a", "(?:a{1000}){4}").unwrap(), json!(null));
        assert_eq!(refused("a", "(?:a{1000}){5}"), "pattern: more than 4096 states once compiled");
        assert_eq!(refused("a", "(?:(?:(?:a?){100}){10}){4}"), "pattern: more than 4096 states once compiled");
    }

    #[test]
    fn invalid_and_unsupported_patterns_are_bad_arguments() {
        for (pattern, message) in [
            ("(", "pattern: missing ), unterminated group"),
            (")", "pattern: unbalanced parenthesis"),
            ("[a", "pattern: unterminated character set"),
            ("*", "pattern: nothing to repeat"),
            ("a**", "pattern: multiple repeat"),
            ("[z-a]", "pattern: bad character range"),
            (r"\q", "pattern: bad escape"),
            (r"(a)\1", "pattern: backreferences are not supported"),
            ("(?P<n>a)(?P=n)", "pattern: backreferences are not supported"),
            ("(?=a)", "pattern: look-around is not supported"),
            ("(?<!a)", "pattern: look-around is not supported"),
            ("(?>a)", "pattern: atomic groups are not supported"),
            ("a++", "pattern: possessive quantifiers are not supported"),
            ("(a)(?(1)b|c)", "pattern: conditional groups are not supported"),
            (r"\N{DIGIT ONE}", "pattern: \\N{...} is not supported"),
            ("(?x)a b", "pattern: the x flag is not supported"),
            ("(?u)a", "pattern: only ASCII classes are supported (no u or L flag)"),
            ("a(?i)b", "pattern: global flags not at the start of the pattern"),
        ] {
            assert_eq!(refused("ab", pattern), message, "{pattern:?}");
        }
    }

    #[test]
    fn wrong_shapes_are_bad_arguments() {
        for name in ["regex_search", "regex_match"] {
            for (args, field) in [
                (json!({ "data": "a" }), "`pattern`"),
                (json!({ "pattern": "a" }), "`data`"),
                (json!({ "data": 1, "pattern": "a" }), ""),
                (json!({ "data": "a", "pattern": null }), ""),
                (json!("a"), ""),
            ] {
                let e = run_on_host(name, &args).unwrap_err();
                assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
                assert!(e.message.contains(field), "{}", e.message);
            }
        }
    }
}
