//! The host's [`Connector`]: `std::net::TcpStream` with socket timeouts set from the deadlines.
//! Used by [`crate::json::run_on_host`] so every function also runs natively for reference results.
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::{Conn, Connector, NetError};

/// Connections open at once; more than any function needs.
const MAX_CONNS: usize = 8;

pub struct HostConnector {
    origin: Instant,
    conns: Vec<Option<TcpStream>>,
}

impl HostConnector {
    pub fn new() -> Self {
        HostConnector { origin: Instant::now(), conns: Vec::new() }
    }

    /// Time left until `deadline_ns`, or `TimedOut` if none. Never zero (a zero socket timeout
    /// means "block forever").
    fn left(&self, deadline_ns: u64) -> Result<Duration, NetError> {
        match deadline_ns.checked_sub(self.now_ns()) {
            Some(ns) if ns >= 1_000 => Ok(Duration::from_nanos(ns)),
            _ => Err(NetError::TimedOut),
        }
    }

    fn stream(&mut self, conn: Conn) -> Result<&mut TcpStream, NetError> {
        self.conns.get_mut(usize::from(conn.0)).and_then(Option::as_mut).ok_or(NetError::Closed)
    }
}

impl Default for HostConnector {
    fn default() -> Self {
        Self::new()
    }
}

fn net_error(e: std::io::Error) -> NetError {
    match e.kind() {
        IoKind::ConnectionRefused => NetError::Refused,
        IoKind::TimedOut | IoKind::WouldBlock => NetError::TimedOut,
        IoKind::ConnectionReset | IoKind::ConnectionAborted | IoKind::BrokenPipe | IoKind::UnexpectedEof => {
            NetError::Closed
        }
        IoKind::HostUnreachable | IoKind::NetworkUnreachable | IoKind::AddrNotAvailable => NetError::Unreachable,
        _ => NetError::Io,
    }
}

impl Connector for HostConnector {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn connect(&mut self, to: SocketAddrV4, deadline_ns: u64) -> Result<Conn, NetError> {
        let slot = match self.conns.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.conns.len() < MAX_CONNS => {
                self.conns.push(None);
                self.conns.len() - 1
            }
            None => return Err(NetError::NoSocket),
        };
        let stream = TcpStream::connect_timeout(&SocketAddr::V4(to), self.left(deadline_ns)?).map_err(net_error)?;
        let _ = stream.set_nodelay(true);
        self.conns[slot] = Some(stream);
        Ok(Conn(slot as u8))
    }

    fn read(&mut self, conn: Conn, buf: &mut [u8], deadline_ns: u64) -> Result<usize, NetError> {
        let left = self.left(deadline_ns)?;
        let stream = self.stream(conn)?;
        stream.set_read_timeout(Some(left)).map_err(net_error)?;
        loop {
            match stream.read(buf) {
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                other => return other.map_err(net_error),
            }
        }
    }

    fn write(&mut self, conn: Conn, buf: &[u8], deadline_ns: u64) -> Result<usize, NetError> {
        let left = self.left(deadline_ns)?;
        let stream = self.stream(conn)?;
        stream.set_write_timeout(Some(left)).map_err(net_error)?;
        loop {
            match stream.write(buf) {
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                other => return other.map_err(net_error),
            }
        }
    }

    fn flush(&mut self, conn: Conn, _deadline_ns: u64) -> Result<(), NetError> {
        // The kernel sends on its own; nothing is buffered in user space.
        self.stream(conn).map(|_| ())
    }

    fn close(&mut self, conn: Conn) {
        if let Some(stream) = self.conns.get_mut(usize::from(conn.0)).and_then(Option::take) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}
