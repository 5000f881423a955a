//! A recursive-descent parser over the pattern's characters, following Python's `sre_parse`.
use alloc::vec::Vec;

use super::syntax::*;
use super::*;
use crate::function::FnError;
use crate::memory;

/// A recursive-descent parser over the pattern's characters, following Python's `sre_parse`.
pub(super) struct Parser<'p> {
    pub(super) pattern: &'p str,
    pub(super) pos: usize,
    pub(super) depth: usize,
    pub(super) names: Vec<&'p str>,
    pub(super) flags: Flags,
    /// Every class's ranges, each class once however often it is repeated.
    pub(super) ranges: Vec<(char, char)>,
}

/// What an escape stands for.
pub(super) enum Escape {
    Char(char),
    Class(&'static [(char, char)], bool),
    Look(Look),
}

impl<'p> Parser<'p> {
    pub(super) fn new(pattern: &'p str) -> Self {
        Parser { pattern, pos: 0, depth: 0, names: Vec::new(), flags: Flags::NONE, ranges: Vec::new() }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.pattern[self.pos..].chars().next()
    }

    pub(super) fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    pub(super) fn eat_str(&mut self, s: &str) -> bool {
        let found = self.pattern[self.pos..].starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    /// The whole pattern: global flags (only at the start, as Python requires), then alternatives.
    pub(super) fn parse(&mut self) -> Result<Alternation, FnError> {
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

    pub(super) fn alternation(&mut self, flags: Flags) -> Result<Alternation, FnError> {
        let mut alternatives = Vec::new();
        loop {
            memory::push(&mut alternatives, self.sequence(flags)?)?;
            if !self.eat('|') {
                return Ok(alternatives);
            }
        }
    }

    pub(super) fn sequence(&mut self, flags: Flags) -> Result<Vec<Item>, FnError> {
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
    pub(super) fn quantifier(&mut self) -> Result<Option<(u32, Option<u32>, bool)>, FnError> {
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
    pub(super) fn counts(&mut self) -> Option<Result<(u32, Option<u32>), FnError>> {
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
    pub(super) fn atom(&mut self, flags: Flags) -> Result<Option<Atom>, FnError> {
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
    pub(super) fn group(&mut self, mut flags: Flags) -> Result<Option<Atom>, FnError> {
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
    pub(super) fn name(&mut self) -> Result<&'p str, FnError> {
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
    pub(super) fn flag_letters(&mut self) -> Result<(Flags, Flags), FnError> {
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
    pub(super) fn class(&mut self, flags: Flags) -> Result<Class, FnError> {
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
    pub(super) fn literal(&mut self, c: char, flags: Flags) -> Result<Atom, FnError> {
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
    pub(super) fn finish_class(&mut self, start: usize, negated: bool, flags: Flags) -> Result<Class, FnError> {
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
    pub(super) fn escape(&mut self, in_set: bool) -> Result<Escape, FnError> {
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
    pub(super) fn octal_follows(&self) -> bool {
        let rest = &self.pattern.as_bytes()[self.pos..];
        rest.len() >= 2 && rest[..2].iter().all(|b| (b'0'..=b'7').contains(b))
    }

    /// Up to three octal digits, the first already read.
    pub(super) fn octal(&mut self, first: char) -> Result<Escape, FnError> {
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
    pub(super) fn hex(&mut self, digits: usize) -> Result<Escape, FnError> {
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
pub(super) fn repeat_counts(low: &str, high: Option<&str>) -> Result<(u32, Option<u32>), FnError> {
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
pub(super) fn push_class(ranges: &mut Vec<(char, char)>, class: &[(char, char)], negated: bool) -> Result<(), FnError> {
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

pub(super) fn push_range(ranges: &mut Vec<(char, char)>, low: u32, high: u32) -> Result<(), FnError> {
    match (char::from_u32(low), char::from_u32(high)) {
        (Some(low), Some(high)) => memory::push(ranges, (low, high)),
        _ => Ok(()), // not reached: the gaps around ASCII ranges are valid characters
    }
}
