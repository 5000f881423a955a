//! The compiler from the syntax tree to the Pike VM's program, with the state-count cap.
use alloc::vec::Vec;

use super::syntax::*;
use super::*;
use crate::function::FnError;
use crate::memory;

/// An instruction of the Pike VM's program.
#[derive(Clone, Copy, Debug)]
pub(super) enum Inst {
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

pub(super) const TOO_LARGE: FnError = FnError::bad_args("pattern: more than 4096 states once compiled");

pub(super) struct Compiler {
    pub(super) program: Vec<Inst>,
    /// How many optional iterations each instruction is inside.
    pub(super) levels: Vec<u32>,
    pub(super) level: u32,
}

impl Compiler {
    /// Appends an instruction; returns its address.
    pub(super) fn emit(&mut self, inst: Inst) -> Result<u32, FnError> {
        // Every instruction is at least one state: stop early rather than compile a huge program.
        if self.program.len() >= MAX_STATES {
            return Err(TOO_LARGE);
        }
        memory::push(&mut self.program, inst)?;
        memory::push(&mut self.levels, self.level)?;
        Ok(self.program.len() as u32 - 1)
    }

    pub(super) fn here(&self) -> u32 {
        self.program.len() as u32
    }

    /// `split L1, S2; L1: first; jump END; S2: split L2, S3; ...; last; END:`
    pub(super) fn alternation(&mut self, alternatives: &Alternation) -> Result<(), FnError> {
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

    pub(super) fn sequence(&mut self, items: &[Item]) -> Result<(), FnError> {
        items.iter().try_for_each(|item| self.item(item))
    }

    /// `min` copies of the atom, then the optional iterations: a loop when there is no maximum,
    /// else `max - min` copies, each entered only after the one before. Each copy emits at least
    /// one instruction unless the atom is empty, and counts are at most [`MAX_REPEAT`], so this
    /// ends quickly either way.
    ///
    /// `E: enter B, OUT; B: atom; loop E, OUT; OUT:` or
    /// `E1: enter B1, OUT; B1: atom; loop E2, OUT; E2: enter B2, OUT; ...; OUT:`
    pub(super) fn item(&mut self, item: &Item) -> Result<(), FnError> {
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

    pub(super) fn atom(&mut self, atom: &Atom) -> Result<(), FnError> {
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
    pub(super) fn finish(mut self, ranges: Vec<(char, char)>) -> Result<Regex, FnError> {
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
