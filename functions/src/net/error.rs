//! The typed errors of the data plane. Every failure of a service client falls in one of the
//! issue's three categories, which become [`ErrorKind`]s: the service is unavailable, refused our
//! credentials, or spoke something we do not understand.
use crate::function::{ErrorKind, FnError};

/// A transport failure. All of them mean "service unavailable" to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The server refused the connection (nothing listens there).
    Refused,
    /// The deadline passed: connecting, or waiting for the server.
    TimedOut,
    /// The server closed or reset the connection before the exchange was over.
    Closed,
    /// No route to the server, or the address is unusable.
    Unreachable,
    /// Every connection the connector can hold is open.
    NoSocket,
    /// Any other transport failure.
    Io,
}

impl NetError {
    pub const fn message(self) -> &'static str {
        match self {
            NetError::Refused => "service unavailable: connection refused",
            NetError::TimedOut => "service unavailable: timed out",
            NetError::Closed => "service unavailable: the server closed the connection early",
            NetError::Unreachable => "service unavailable: no route to the server",
            NetError::NoSocket => "service unavailable: no free connection on this worker",
            NetError::Io => "service unavailable: transport error",
        }
    }
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for NetError {}

impl embedded_io::Error for NetError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            NetError::Refused => embedded_io::ErrorKind::ConnectionRefused,
            NetError::TimedOut => embedded_io::ErrorKind::TimedOut,
            NetError::Closed => embedded_io::ErrorKind::ConnectionReset,
            NetError::Unreachable => embedded_io::ErrorKind::AddrNotAvailable,
            NetError::NoSocket => embedded_io::ErrorKind::OutOfMemory,
            NetError::Io => embedded_io::ErrorKind::Other,
        }
    }
}

/// Longest server message carried with an error; longer ones are cut at a character boundary.
/// Sized so a `Result<_, ServiceError>` stays within two cache lines.
pub const SERVER_TEXT: usize = 96;

/// What the server said when it refused (e.g. Redis' `-WRONGPASS ...`), bounded so it needs no
/// allocation.
pub type ServerText = heapless::String<SERVER_TEXT, u8>;

/// A service client's error: its category, our own words, and the server's where it gave some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// [`ErrorKind::ServiceUnavailable`], [`ErrorKind::AuthFailed`] or [`ErrorKind::ProtocolError`]
    /// (or [`ErrorKind::BadArguments`] when the service config lacks a field).
    pub kind: ErrorKind,
    pub message: &'static str,
    pub server: ServerText,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, message: &'static str) -> Self {
        ServiceError { kind, message, server: ServerText::new() }
    }
    pub fn protocol(message: &'static str) -> Self {
        Self::new(ErrorKind::ProtocolError, message)
    }
    /// Attaches the server's own text, cut to [`SERVER_TEXT`] bytes.
    pub fn with_server_text(mut self, text: &[u8]) -> Self {
        self.server.clear();
        for c in core::str::from_utf8(text).unwrap_or("(not UTF-8)").chars() {
            if self.server.push(c).is_err() {
                break;
            }
        }
        self
    }
    /// The error without the server's text, for a worker that reports it separately.
    pub fn fn_error(&self) -> FnError {
        FnError { kind: self.kind, message: self.message }
    }
}

impl From<NetError> for ServiceError {
    fn from(e: NetError) -> Self {
        ServiceError::new(ErrorKind::ServiceUnavailable, e.message())
    }
}

impl core::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message)?;
        if !self.server.is_empty() {
            write!(f, ": {}", self.server)?;
        }
        Ok(())
    }
}
