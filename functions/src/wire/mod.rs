//! The worker ⇄ orchestrator protocol: postcard messages in length-prefixed frames over TCP.
mod frame;
mod message;

pub use frame::{FrameError, HEADER_LEN, MAX_FRAME, decode, encode, split};
pub use message::{
    BootTimings, CallResult, FromWorker, Hello, Invoke, Outcome, PROTOCOL_VERSION, ToWorker, WireError, call_id_of,
};
