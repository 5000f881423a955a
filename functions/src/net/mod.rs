//! How functions reach the network: an object-safe [`Connector`] that the init implements on
//! smoltcp and the host on `std::net`, a [`Stream`] over one connection that speaks
//! `embedded_io::{Read, Write}`, the invocation's [`Service`]s, and the typed errors a client
//! reports ([`ServiceError`]).
//!
//! Deadlines are absolute, in nanoseconds of the connector's own monotonic clock
//! ([`Connector::now_ns`]), so a server that trickles bytes cannot stretch an exchange past them.
mod error;
#[cfg(feature = "std")]
pub mod host;
mod service;
mod stream;

use core::net::SocketAddrV4;

pub use error::{NetError, ServerText, ServiceError};
pub use service::{MAX_SERVICES, Secret, Service, Services};
pub use stream::Stream;

/// One open connection of a [`Connector`]; only meaningful to the connector that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn(pub u8);

/// TCP client connections, as a function sees them. Object-safe, so a [`crate::Context`] holds a
/// `&mut dyn Connector` and functions stay independent of the network stack below.
pub trait Connector {
    /// The clock deadlines are measured on, in nanoseconds from an arbitrary origin.
    fn now_ns(&self) -> u64;
    /// Opens a TCP connection, waiting for the handshake until `deadline_ns`.
    fn connect(&mut self, to: SocketAddrV4, deadline_ns: u64) -> Result<Conn, NetError>;
    /// Reads at least one byte into `buf`, waiting until `deadline_ns`. `Ok(0)` means the peer
    /// closed the connection (or `buf` is empty).
    fn read(&mut self, conn: Conn, buf: &mut [u8], deadline_ns: u64) -> Result<usize, NetError>;
    /// Writes at least one byte of `buf` (all of it if it fits the send buffer), waiting until
    /// `deadline_ns` for room.
    fn write(&mut self, conn: Conn, buf: &[u8], deadline_ns: u64) -> Result<usize, NetError>;
    /// Waits until everything written has left the send buffer, until `deadline_ns`.
    fn flush(&mut self, conn: Conn, deadline_ns: u64) -> Result<(), NetError>;
    /// Closes the connection and forgets the handle. Never fails: a connection that cannot close
    /// gracefully is aborted.
    fn close(&mut self, conn: Conn);
}
