//! The worker's compiled-in function catalogue and the wire protocol shared by `init` and the
//! orchestrator.
//!
//! `no_std` by default so the worker's `/init` can link it; the `std` feature adds the host side:
//! JSON ⇄ postcard bridging for the orchestrator and native runs for reference results.
//!
//! Heap memory comes from the global allocator: on the worker that is the init's fixed arena,
//! reset after every invocation; on the host the system allocator. Functions allocate through
//! [`memory`] so that running out is an `OutOfMemory` error, never an abort.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod catalogue;
pub mod clients;
mod function;
pub mod hex;
#[cfg(feature = "std")]
pub mod json;
pub mod memory;
pub mod net;
mod registry;
pub mod rng;
pub mod wire;

pub use function::{Clock, Context, ErrorKind, FnError, Function};
pub use registry::{CATALOGUE, Entry, catalogue_hash, find};
