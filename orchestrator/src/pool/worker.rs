//! One worker as the scheduler owns it: its power backend and its state, mirrored to a shared
//! board so status queries never wait for an invocation.
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::state::WorkerState;
use crate::power::PowerBackend;

/// What the outside sees of a worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerStatus {
    pub id: String,
    pub state: WorkerState,
    /// The process standing for the worker while it is on (QEMU's pid).
    pub pid: Option<u32>,
    /// Power-ons so far.
    pub boots: u64,
    /// Invokes sent so far.
    pub invocations: u64,
}

/// Every worker's status, readable at any time.
#[derive(Default)]
pub(crate) struct Board(Mutex<Vec<WorkerStatus>>);

impl Board {
    pub fn snapshot(&self) -> Vec<WorkerStatus> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, index: usize, f: impl FnOnce(&mut WorkerStatus)) {
        if let Some(status) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index) {
            f(status);
        }
    }

    fn add(&self, id: &str) -> usize {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.push(WorkerStatus { id: id.to_string(), state: WorkerState::Off, pid: None, boots: 0, invocations: 0 });
        all.len() - 1
    }
}

/// A worker, moved into the task that runs its invocation and back into the idle list.
pub(crate) struct Worker {
    pub id: String,
    pub power: Box<dyn PowerBackend>,
    state: WorkerState,
    index: usize,
    board: Arc<Board>,
}

impl Worker {
    pub fn new(id: String, power: Box<dyn PowerBackend>, board: Arc<Board>) -> Worker {
        let index = board.add(&id);
        Worker { id, power, state: WorkerState::Off, index, board }
    }

    /// Moves to `to`, logging the transition with the worker id.
    pub fn set(&mut self, to: WorkerState) {
        let from = std::mem::replace(&mut self.state, to);
        let pid = self.power.pid();
        if to == WorkerState::Failed {
            log::warn!("{}: {from} -> {to}", self.id);
        } else {
            log::debug!("{}: {from} -> {to}", self.id);
        }
        self.board.update(self.index, |s| {
            s.state = to;
            s.pid = if to == WorkerState::Off { None } else { pid };
            if to == WorkerState::Booting {
                s.boots += 1;
            }
            if to == WorkerState::Busy {
                s.invocations += 1;
            }
        });
    }

    /// Re-reads the pid after power-on.
    pub fn refresh_pid(&self) {
        let pid = self.power.pid();
        self.board.update(self.index, |s| s.pid = pid);
    }
}
