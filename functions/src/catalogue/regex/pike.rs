//! The Pike VM: every live thread advanced in lockstep, one character at a time.
use alloc::vec::Vec;

use super::compile::*;
use super::syntax::*;
use crate::function::FnError;
use crate::memory;

/// A compiled pattern.
pub struct Regex {
    pub(super) program: Vec<Inst>,
    pub(super) ranges: Vec<(char, char)>,
    pub(super) levels: Vec<u32>,
    /// The VM state of (instruction, 0); see [`Regex::find`].
    pub(super) first_state: Vec<u32>,
    pub(super) states: usize,
}

/// Where in the data an assertion is tested.
pub(super) struct At {
    pub(super) pos: usize,
    pub(super) prev: Option<char>,
    pub(super) next: Option<char>,
    pub(super) len: usize,
}

impl At {
    pub(super) fn new(data: &str, pos: usize, prev: Option<char>) -> At {
        At { pos, prev, next: data[pos..].chars().next(), len: data.len() }
    }

    pub(super) fn holds(&self, look: Look) -> bool {
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
pub(super) struct Threads {
    pub(super) dense: Vec<(u32, u32, usize)>,
    pub(super) sparse: Vec<u32>,
}

impl Threads {
    pub(super) fn new(states: usize) -> Result<Threads, FnError> {
        Ok(Threads { dense: memory::vec_with_capacity(states)?, sparse: memory::vec_filled(states, 0)? })
    }

    /// Adds the thread unless its state is present; false if it was.
    pub(super) fn insert(&mut self, state: u32, pc: u32, start: usize) -> bool {
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
    pub(super) fn add(&self, threads: &mut Threads, stack: &mut Vec<(u32, u32)>, pc: u32, start: usize, at: &At) {
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
