//! One connection as an `embedded_io` byte stream, so protocol clients are written once against
//! `Read`/`Write` and run over smoltcp on the worker and over `std::net` on the host.
use core::net::SocketAddrV4;

use super::{Conn, Connector, NetError};

/// An open connection with one deadline for the whole exchange. Closed when dropped, so no
/// connection outlives the function that opened it.
pub struct Stream<'n> {
    net: &'n mut dyn Connector,
    conn: Conn,
    deadline_ns: u64,
}

impl<'n> Stream<'n> {
    /// Connects to `to`; the connection and every read and write after it must finish within
    /// `timeout_ms` from now.
    pub fn connect(net: &'n mut dyn Connector, to: SocketAddrV4, timeout_ms: u32) -> Result<Self, NetError> {
        let deadline_ns = net.now_ns().saturating_add(u64::from(timeout_ms) * 1_000_000);
        let conn = net.connect(to, deadline_ns)?;
        Ok(Stream { net, conn, deadline_ns })
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        self.net.close(self.conn);
    }
}

impl embedded_io::ErrorType for Stream<'_> {
    type Error = NetError;
}

impl embedded_io::Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.net.read(self.conn, buf, self.deadline_ns)
    }
}

impl embedded_io::Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        match self.net.write(self.conn, buf, self.deadline_ns)? {
            0 if !buf.is_empty() => Err(NetError::Closed),
            n => Ok(n),
        }
    }
    fn flush(&mut self) -> Result<(), NetError> {
        self.net.flush(self.conn, self.deadline_ns)
    }
}
