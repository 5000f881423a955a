//! A minimal PostgreSQL client: frontend/backend protocol v3, the StartupMessage, authentication by
//! SCRAM-SHA-256 (RFC 5802/7677, PostgreSQL 15's default), md5 or cleartext, and the simple Query
//! protocol with text results, one statement at a time.
//!
//! The crypto is well-kept no_std crates (`pbkdf2`, `hmac`, `sha2`, `md-5`, `base64`); written out
//! here is only the protocol glue no no_std crate provides without an allocator: message framing,
//! the SCRAM message exchange and the result-set walk. Every backend message must fit [`BUFFER`]
//! bytes, and the whole session shares the [`Stream`]'s deadline.
//!
//! The SCRAM client nonce is not cryptographic: there is no entropy source on the worker, so it is
//! SplitMix64 over the connector's clock and the server's address. That is enough for a test lab
//! (the server's own nonce half still makes each exchange unique) but not against an attacker who
//! can predict the worker's clock.
mod auth;

use embedded_io::{Read, Write};

pub use self::auth::MAX_ITERATIONS;
use self::auth::{Scram, md5_password};
use crate::function::ErrorKind;
use crate::net::{Connector, NetError, Service, ServiceError, Stream};

/// The receive buffer: the longest backend message (type, length and body) accepted.
pub const BUFFER: usize = 4096;

/// The message of an ErrorResponse that is not about credentials.
const SERVER_ERROR: &str = "protocol error: the server answered with an error";

/// One DataRow, borrowing from the client's buffer: its columns as text (`None` for NULL).
pub struct Row<'r> {
    body: &'r [u8],
}

impl<'r> Row<'r> {
    /// Column `i` as text, `None` for SQL NULL.
    pub fn get(&self, i: usize) -> Result<Option<&'r [u8]>, ServiceError> {
        let garbled = || ServiceError::protocol("protocol error: malformed DataRow");
        let count = be16(self.body, 0).ok_or_else(garbled)? as usize;
        if i >= count {
            return Err(ServiceError::protocol("protocol error: DataRow has fewer columns than expected"));
        }
        let mut at = 2;
        for column in 0..=i {
            let len = be32(self.body, at).ok_or_else(garbled)?;
            at += 4;
            let value = if len < 0 {
                None
            } else {
                let end = at.checked_add(len as usize).filter(|&e| e <= self.body.len()).ok_or_else(garbled)?;
                let v = &self.body[at..end];
                at = end;
                Some(v)
            };
            if column == i {
                return Ok(value);
            }
        }
        Err(garbled())
    }

    /// Column `i` as text, NULL being a protocol error.
    pub fn text(&self, i: usize) -> Result<&'r str, ServiceError> {
        let value = self.get(i)?.ok_or_else(|| ServiceError::protocol("protocol error: unexpected NULL"))?;
        core::str::from_utf8(value).map_err(|_| ServiceError::protocol("protocol error: column is not UTF-8"))
    }
}

/// The command tag of CommandComplete (`UPDATE 1`, `SELECT 3`).
pub type Tag = heapless::String<64>;

pub struct Postgres<'n> {
    stream: Stream<'n>,
    buf: [u8; BUFFER],
    /// Bytes of `buf` received and not yet consumed, from `start` to `filled`.
    start: usize,
    filled: usize,
}

impl<'n> Postgres<'n> {
    /// Connects to `service` as its user to its database, authenticates with its password and
    /// waits for ReadyForQuery; the whole session must end within `timeout_ms`.
    pub fn connect(net: &'n mut dyn Connector, service: &Service<'_>, timeout_ms: u32) -> Result<Self, ServiceError> {
        let user = Service::require(service.user, "bad arguments: the postgres service has no user")?;
        let database = Service::require(service.database, "bad arguments: the postgres service has no database")?;
        let secret = service.password;
        let password = secret.as_ref().map_or("", |p| p.expose());
        let seed = net.now_ns() ^ u64::from(u32::from(*service.addr().ip())) << 16 ^ u64::from(service.port);
        let stream = Stream::connect(net, service.addr(), timeout_ms)?;
        let mut pg = Postgres { stream, buf: [0; BUFFER], start: 0, filled: 0 };

        let mut version = [0; 4];
        version.copy_from_slice(&196_608i32.to_be_bytes());
        let parts: [&[u8]; 8] =
            [&version, b"user\0", user.as_bytes(), b"\0", b"database\0", database.as_bytes(), b"\0", b"\0"];
        pg.send(None, &parts)?;

        let mut scram: Option<Scram> = None;
        loop {
            let (kind, body) = pg.receive()?;
            match kind {
                b'R' => {
                    let body = &pg.buf[body.0..body.1];
                    let code = be32(body, 0).ok_or(ServiceError::protocol("protocol error: malformed auth request"))?;
                    match code {
                        // A server that skips server-final has not proven it knows the password.
                        0 if scram.as_ref().is_some_and(|s| !s.verified) => {
                            return Err(ServiceError::new(
                                ErrorKind::AuthFailed,
                                "auth failed: SCRAM without server proof",
                            ));
                        }
                        0 => {}
                        3 => {
                            let parts: [&[u8]; 2] = [password.as_bytes(), b"\0"];
                            pg.send(Some(b'p'), &parts)?;
                        }
                        5 => {
                            let salt =
                                body.get(4..8).ok_or(ServiceError::protocol("protocol error: md5 without salt"))?;
                            let answer = md5_password(user, password, salt);
                            let parts: [&[u8]; 3] = [b"md5", answer.as_bytes(), b"\0"];
                            pg.send(Some(b'p'), &parts)?;
                        }
                        10 => {
                            if !body[4..].split(|&b| b == 0).any(|m| m == b"SCRAM-SHA-256") {
                                return Err(ServiceError::new(ErrorKind::AuthFailed, "auth failed: no SCRAM-SHA-256")
                                    .with_server_text(&body[4..]));
                            }
                            let s = Scram::new(seed);
                            let first = s.client_first();
                            let len = (first.len() as i32).to_be_bytes();
                            let parts: [&[u8]; 3] = [b"SCRAM-SHA-256\0", &len, first.as_bytes()];
                            pg.send(Some(b'p'), &parts)?;
                            scram = Some(s);
                        }
                        11 => {
                            let s =
                                scram.as_mut().ok_or(ServiceError::protocol("protocol error: SASL out of order"))?;
                            let final_message = s.client_final(&body[4..], password)?;
                            pg.send(Some(b'p'), &[final_message.as_bytes()])?;
                        }
                        12 => {
                            let s =
                                scram.as_mut().ok_or(ServiceError::protocol("protocol error: SASL out of order"))?;
                            s.verify_server(&body[4..])?;
                            s.verified = true;
                        }
                        _ => {
                            return Err(ServiceError::new(ErrorKind::AuthFailed, "auth failed: unsupported method"));
                        }
                    }
                }
                b'Z' => return Ok(pg),
                b'E' => return Err(pg.error(body)),
                // ParameterStatus, BackendKeyData, NoticeResponse: nothing a function needs.
                b'S' | b'K' | b'N' => {}
                _ => return Err(ServiceError::protocol("protocol error: unexpected message during startup")),
            }
        }
    }

    /// Runs one statement with the simple Query protocol, handing each DataRow to `on_row`, and
    /// returns the command tag. An ErrorResponse is returned once the server is ready again.
    pub fn query(
        &mut self,
        sql: &str,
        mut on_row: impl FnMut(&Row<'_>) -> Result<(), ServiceError>,
    ) -> Result<Tag, ServiceError> {
        self.send(Some(b'Q'), &[sql.as_bytes(), b"\0"])?;
        let mut tag = Tag::new();
        let mut failure: Option<ServiceError> = None;
        loop {
            let (kind, (a, b)) = self.receive()?;
            match kind {
                b'D' if failure.is_none() => {
                    if let Err(e) = on_row(&Row { body: &self.buf[a..b] }) {
                        failure = Some(e);
                    }
                }
                b'C' => {
                    let text = self.buf[a..b].strip_suffix(b"\0").unwrap_or(&self.buf[a..b]);
                    tag.clear();
                    let _ = tag.push_str(core::str::from_utf8(text).unwrap_or(""));
                }
                b'E' => failure = Some(self.error((a, b))),
                b'Z' => return failure.map_or(Ok(tag), Err),
                b'T' | b'I' | b'N' | b'S' | b'D' => {}
                _ => return Err(ServiceError::protocol("protocol error: unexpected message in a query")),
            }
        }
    }

    /// An ErrorResponse as a typed error: SQLSTATE class 28 (invalid authorization, 28P01 a wrong
    /// password) is auth failed, anything else the server's error; both carry its 'M' field.
    fn error(&self, (a, b): (usize, usize)) -> ServiceError {
        let mut code: &[u8] = b"";
        let mut message: &[u8] = b"";
        for field in self.buf[a..b].split(|&c| c == 0) {
            match field.split_first() {
                Some((b'C', v)) => code = v,
                Some((b'M', v)) => message = v,
                _ => {}
            }
        }
        let e = if code.starts_with(b"28") {
            ServiceError::new(ErrorKind::AuthFailed, "auth failed")
        } else {
            ServiceError::protocol(SERVER_ERROR)
        };
        e.with_server_text(message)
    }

    /// Sends one message: its type (none for the StartupMessage), its length, then `parts`.
    fn send(&mut self, kind: Option<u8>, parts: &[&[u8]]) -> Result<(), ServiceError> {
        let len: usize = 4 + parts.iter().map(|p| p.len()).sum::<usize>();
        let len = i32::try_from(len).map_err(|_| ServiceError::protocol("protocol error: message too long"))?;
        if let Some(k) = kind {
            self.stream.write_all(&[k])?;
        }
        self.stream.write_all(&len.to_be_bytes())?;
        for part in parts {
            self.stream.write_all(part)?;
        }
        self.stream.flush()?;
        Ok(())
    }

    /// The next backend message: its type and where its body lies in `buf`.
    fn receive(&mut self) -> Result<(u8, (usize, usize)), ServiceError> {
        loop {
            let pending = &self.buf[self.start..self.filled];
            if pending.len() >= 5 {
                let len = be32(pending, 1).unwrap_or(0);
                if len < 4 || len as usize + 1 > BUFFER {
                    return Err(ServiceError::protocol("protocol error: bad message length or too long")
                        .with_server_text(printable(pending)));
                }
                let total = len as usize + 1;
                if pending.len() >= total {
                    let kind = pending[0];
                    let body = (self.start + 5, self.start + total);
                    self.start += total;
                    return Ok((kind, body));
                }
            }
            // Move what is pending to the front so the whole message fits.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                self.filled -= self.start;
                self.start = 0;
            }
            match self.stream.read(&mut self.buf[self.filled..])? {
                0 => return Err(NetError::Closed.into()),
                n => self.filled += n,
            }
        }
    }
}

/// The bytes of `garbage` that show what the server said, for a protocol error.
fn printable(garbage: &[u8]) -> &[u8] {
    let end = garbage.iter().position(|b| !(b.is_ascii_graphic() || *b == b' ')).unwrap_or(garbage.len());
    &garbage[..end]
}

fn be32(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn be16(buf: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_rows_parse_and_garbage_is_an_error() {
        let body = [0, 2, 0, 0, 0, 2, b'4', b'2', 0xff, 0xff, 0xff, 0xff];
        let row = Row { body: &body };
        assert_eq!(row.get(0).unwrap(), Some(&b"42"[..]));
        assert_eq!(row.get(1).unwrap(), None);
        assert!(row.get(2).is_err());
        assert!(Row { body: &[0, 1, 0, 0, 0, 9, b'x'] }.get(0).is_err());
        assert!(Row { body: &[] }.get(0).is_err());
    }
}
