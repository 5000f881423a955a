//! What the `cascading_*` functions share: the arguments, their caps, and the cascade itself — a
//! digest applied `rounds` times, first to `data`'s UTF-8 bytes, then to the previous digest's raw
//! bytes.
use heapless::String;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use sha2::digest::Output;

use crate::function::FnError;

/// Largest `rounds` accepted: about ten seconds of emulated sha256 work on a worker under TCG.
pub const MAX_ROUNDS: u32 = 1_000_000;

/// Hex of the longest digest a cascade returns (sha256, 32 bytes).
pub type Hex = String<64>;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub data: &'a str,
    pub rounds: u32,
}

/// `rounds` within 1..=[`MAX_ROUNDS`].
pub fn check(args: &Args<'_>) -> Result<(), FnError> {
    match args.rounds {
        0 => Err(FnError::bad_args("rounds: must be at least 1")),
        r if r > MAX_ROUNDS => Err(FnError::bad_args("rounds: must be at most 1000000")),
        _ => Ok(()),
    }
}

/// The digest after `rounds` rounds (one round when `rounds` is 0).
pub fn cascade<D: Digest>(data: &[u8], rounds: u32) -> Output<D> {
    let mut digest = D::digest(data);
    for _ in 1..rounds {
        digest = D::digest(&digest);
    }
    digest
}

/// Lowercase hex of [`cascade`]'s digest.
pub fn hex_cascade<D: Digest>(args: &Args<'_>) -> Hex {
    crate::hex::encode(&cascade::<D>(args.data.as_bytes(), args.rounds))
}
