//! A minimal RESP2 client (Redis 7): `AUTH`, `SELECT` and single commands, one reply at a time.
//!
//! No no_std crate speaks RESP over `embedded_io` without an allocator, and the subset needed
//! here is small, so this is written out: commands go out as arrays of bulk strings; a reply is a
//! simple string (`+`), an error (`-`), an integer (`:`) or a bulk string (`$`). Arrays are not
//! needed by any function and are refused as a protocol error. Replies must fit [`BUFFER`] bytes.
use embedded_io::{Read, Write};

use crate::function::ErrorKind;
use crate::net::{Connector, Service, ServiceError, Stream};

/// The reply buffer: the longest reply (line or bulk string with its header) accepted.
pub const BUFFER: usize = 512;

/// The message of an error reply (`-ERR ...`), as opposed to a reply we could not parse.
const ERROR_REPLY: &str = "protocol error: the server answered with an error";

/// One reply, borrowing from the client's buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<'r> {
    Simple(&'r [u8]),
    Integer(i64),
    /// `None` is the null bulk string (`$-1`, e.g. `GET` of a missing key).
    Bulk(Option<&'r [u8]>),
}

/// Where a parsed reply lies in the buffer (indices, so the read loop need not hold a borrow).
enum Parsed {
    Simple(usize, usize),
    Integer(i64),
    Bulk(Option<(usize, usize)>),
    Error(usize, usize),
}

pub struct Redis<'n> {
    stream: Stream<'n>,
    buf: [u8; BUFFER],
    /// Bytes of `buf` received and not yet consumed.
    filled: usize,
}

impl<'n> Redis<'n> {
    /// Connects to `service`, authenticates if it has a password (with its user if it has one)
    /// and selects its database if it names one; the whole session must end within `timeout_ms`.
    pub fn connect(net: &'n mut dyn Connector, service: &Service<'_>, timeout_ms: u32) -> Result<Self, ServiceError> {
        let stream = Stream::connect(net, service.addr(), timeout_ms)?;
        let mut redis = Redis { stream, buf: [0; BUFFER], filled: 0 };
        if let Some(password) = service.password {
            let reply = match service.user {
                Some(user) => redis.command(&[b"AUTH", user.as_bytes(), password.expose().as_bytes()]),
                None => redis.command(&[b"AUTH", password.expose().as_bytes()]),
            };
            match reply {
                Ok(Reply::Simple(b"OK")) => {}
                Ok(_) => return Err(ServiceError::protocol("protocol error: unexpected reply to AUTH")),
                // The server refused in its own words (e.g. `-ERR invalid password` of old
                // servers); garbage stays a protocol error.
                Err(e) if e.message == ERROR_REPLY => {
                    return Err(ServiceError { kind: ErrorKind::AuthFailed, message: "auth failed", ..e });
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(db) = service.database {
            match redis.command(&[b"SELECT", db.as_bytes()])? {
                Reply::Simple(b"OK") => {}
                _ => return Err(ServiceError::protocol("protocol error: unexpected reply to SELECT")),
            }
        }
        Ok(redis)
    }

    /// Sends one command and reads its reply. An error reply is a [`ErrorKind::ProtocolError`]
    /// carrying the server's text, except `NOAUTH`/`WRONGPASS`, which are [`ErrorKind::AuthFailed`].
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Reply<'_>, ServiceError> {
        self.send(args)?;
        let parsed = self.receive()?;
        let buf = &self.buf;
        Ok(match parsed {
            Parsed::Simple(a, b) => Reply::Simple(&buf[a..b]),
            Parsed::Integer(n) => Reply::Integer(n),
            Parsed::Bulk(span) => Reply::Bulk(span.map(|(a, b)| &buf[a..b])),
            Parsed::Error(a, b) => {
                let text = &buf[a..b];
                let auth = text.starts_with(b"NOAUTH") || text.starts_with(b"WRONGPASS");
                let e = if auth {
                    ServiceError::new(ErrorKind::AuthFailed, "auth failed")
                } else {
                    ServiceError::protocol(ERROR_REPLY)
                };
                return Err(e.with_server_text(text));
            }
        })
    }

    /// A command whose reply must be an integer (`INCRBY`, `DEL`, ...).
    pub fn integer(&mut self, args: &[&[u8]]) -> Result<i64, ServiceError> {
        match self.command(args)? {
            Reply::Integer(n) => Ok(n),
            _ => Err(ServiceError::protocol("protocol error: expected an integer reply")),
        }
    }

    fn send(&mut self, args: &[&[u8]]) -> Result<(), ServiceError> {
        let mut header = Number::new();
        self.stream.write_all(header.format(b'*', args.len() as i64))?;
        for arg in args {
            self.stream.write_all(header.format(b'$', arg.len() as i64))?;
            self.stream.write_all(arg)?;
            self.stream.write_all(b"\r\n")?;
        }
        self.stream.flush()?;
        Ok(())
    }

    /// Reads until one whole reply is in the buffer. Replies are read one per command, so the
    /// buffer is empty when a command goes out.
    fn receive(&mut self) -> Result<Parsed, ServiceError> {
        self.filled = 0;
        loop {
            if let Some(parsed) = parse(&self.buf[..self.filled])? {
                return Ok(parsed);
            }
            if self.filled == BUFFER {
                return Err(ServiceError::protocol("protocol error: reply exceeds the client's buffer"));
            }
            match self.stream.read(&mut self.buf[self.filled..])? {
                0 => return Err(crate::net::NetError::Closed.into()),
                n => self.filled += n,
            }
        }
    }
}

/// One reply at the start of `buf`, `None` if more bytes are needed.
fn parse(buf: &[u8]) -> Result<Option<Parsed>, ServiceError> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
    let (kind, line) = match buf.first() {
        Some(&k) => (k, 1..end),
        None => return Ok(None),
    };
    Ok(Some(match kind {
        b'+' => Parsed::Simple(line.start, line.end),
        b'-' => Parsed::Error(line.start, line.end),
        b':' => Parsed::Integer(number(&buf[line])?),
        b'$' => match number(&buf[line])? {
            -1 => Parsed::Bulk(None),
            len if len >= 0 => {
                let start = end + 2;
                let stop = start.saturating_add(len as usize);
                if stop.saturating_add(2) > BUFFER {
                    return Err(ServiceError::protocol("protocol error: reply exceeds the client's buffer"));
                }
                if buf.len() < stop + 2 {
                    return Ok(None);
                }
                if &buf[stop..stop + 2] != b"\r\n" {
                    return Err(ServiceError::protocol("protocol error: bulk string without its CRLF"));
                }
                Parsed::Bulk(Some((start, stop)))
            }
            _ => return Err(ServiceError::protocol("protocol error: negative bulk string length")),
        },
        b'*' => return Err(ServiceError::protocol("protocol error: unexpected array reply")),
        _ => return Err(ServiceError::protocol("protocol error: not a RESP reply")),
    }))
}

/// A decimal integer as RESP writes it.
pub fn number(text: &[u8]) -> Result<i64, ServiceError> {
    core::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ServiceError::protocol("protocol error: not an integer").with_server_text(text))
}

/// Formats `<prefix><n>\r\n` without allocating.
struct Number([u8; 24]);

impl Number {
    fn new() -> Self {
        Number([0; 24])
    }
    fn format(&mut self, prefix: u8, n: i64) -> &[u8] {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let mut out = 0;
        self.0[out] = prefix;
        out += 1;
        if n < 0 {
            self.0[out] = b'-';
            out += 1;
        }
        let len = digits.len() - i;
        self.0[out..out + len].copy_from_slice(&digits[i..]);
        out += len;
        self.0[out..out + 2].copy_from_slice(b"\r\n");
        &self.0[..out + 2]
    }
}

/// Formats an integer argument (`SET key 100`), without allocating.
pub fn decimal(n: i64, out: &mut [u8; 24]) -> &[u8] {
    let mut number = Number::new();
    let len = number.format(b' ', n).len() - 3;
    out[..len].copy_from_slice(&number.0[1..1 + len]);
    &out[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(buf: &[u8]) -> Option<Reply<'_>> {
        parse(buf).unwrap().map(|p| match p {
            Parsed::Simple(a, b) => Reply::Simple(&buf[a..b]),
            Parsed::Integer(n) => Reply::Integer(n),
            Parsed::Bulk(s) => Reply::Bulk(s.map(|(a, b)| &buf[a..b])),
            Parsed::Error(..) => panic!("error reply"),
        })
    }

    #[test]
    fn replies_parse_and_partial_ones_wait() {
        assert_eq!(parsed(b"+OK\r\n"), Some(Reply::Simple(b"OK")));
        assert_eq!(parsed(b":-42\r\n"), Some(Reply::Integer(-42)));
        assert_eq!(parsed(b"$3\r\n100\r\n"), Some(Reply::Bulk(Some(b"100"))));
        assert_eq!(parsed(b"$-1\r\n"), Some(Reply::Bulk(None)));
        assert_eq!(parsed(b"$3\r\n10"), None);
        assert_eq!(parsed(b"+O"), None);
        assert_eq!(parsed(b""), None);
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        for bad in [&b"hello\r\n"[..], b"*1\r\n", b":x\r\n", b"$-5\r\n", b"$3\r\nabcde", b"$99999\r\n"] {
            let e = parse(bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(e.kind, ErrorKind::ProtocolError, "{bad:?}");
        }
    }

    #[test]
    fn numbers_format_like_resp() {
        let mut n = Number::new();
        assert_eq!(n.format(b'*', 3), b"*3\r\n");
        assert_eq!(n.format(b':', i64::MIN), b":-9223372036854775808\r\n");
        let mut out = [0; 24];
        assert_eq!(decimal(-17, &mut out), b"-17");
        assert_eq!(decimal(0, &mut out), b"0");
    }
}
