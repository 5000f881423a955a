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
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use embedded_io::{Read, Write};
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::function::ErrorKind;
use crate::net::{Connector, NetError, Service, ServiceError, Stream};
use crate::rng::SplitMix64;

/// The receive buffer: the longest backend message (type, length and body) accepted.
pub const BUFFER: usize = 4096;
/// Most PBKDF2 iterations a server may ask for (PostgreSQL's default is 4096); more would let a
/// hostile server spin the worker until the deadline.
pub const MAX_ITERATIONS: u32 = 100_000;

/// The message of an ErrorResponse that is not about credentials.
const SERVER_ERROR: &str = "protocol error: the server answered with an error";

type HmacSha256 = Hmac<Sha256>;

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

/// `md5(md5(password + user) + salt)` as lowercase hex, PostgreSQL's md5 answer without its prefix.
fn md5_password(user: &str, password: &str, salt: &[u8]) -> heapless::String<32> {
    let inner: heapless::String<32> =
        crate::hex::encode(&Md5::new().chain_update(password).chain_update(user).finalize());
    crate::hex::encode(&Md5::new().chain_update(inner.as_bytes()).chain_update(salt).finalize())
}

/// The client's side of one SCRAM-SHA-256 exchange (no channel binding: `n,,`).
struct Scram {
    nonce: heapless::String<24>,
    /// The server's signature expected in server-final, computed with the proof.
    server_signature: [u8; 32],
    /// Whether server-final carried that signature.
    verified: bool,
}

/// Longest client-final message: `c=biws,r=` + the combined nonce + `,p=` + 44 bytes of proof.
const CLIENT_FINAL: usize = 256;

impl Scram {
    fn new(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut raw = [0u8; 18];
        for chunk in raw.chunks_mut(8) {
            let bytes = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let mut text = [0u8; 24];
        let n = BASE64.encode_slice(raw, &mut text).unwrap_or(0);
        let mut nonce = heapless::String::new();
        let _ = nonce.push_str(core::str::from_utf8(&text[..n]).unwrap_or(""));
        Scram { nonce, server_signature: [0; 32], verified: false }
    }

    /// `n,,` + client-first-bare. PostgreSQL takes the user from the StartupMessage, so `n=` is empty.
    fn client_first(&self) -> heapless::String<40> {
        let mut s = heapless::String::new();
        let _ = s.push_str("n,,n=,r=");
        let _ = s.push_str(&self.nonce);
        s
    }

    /// Reads server-first (`r=<nonce>,s=<salt>,i=<iterations>`), computes the proof and the
    /// server signature to expect, and returns client-final.
    fn client_final(
        &mut self,
        server_first: &[u8],
        password: &str,
    ) -> Result<heapless::String<CLIENT_FINAL>, ServiceError> {
        let garbled =
            || ServiceError::protocol("protocol error: malformed SCRAM server-first").with_server_text(server_first);
        let text = core::str::from_utf8(server_first).map_err(|_| garbled())?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let (nonce, salt, iterations) = match (nonce, salt, iterations) {
            (Some(n), Some(s), Some(i)) if n.starts_with(self.nonce.as_str()) && (1..=MAX_ITERATIONS).contains(&i) => {
                (n, s, i)
            }
            _ => return Err(garbled()),
        };
        let mut salt_bytes = [0u8; 64];
        let salt_len = BASE64.decode_slice(salt, &mut salt_bytes).map_err(|_| garbled())?;

        // SASLprep is not applied: passwords are taken as their UTF-8 bytes, as PostgreSQL does
        // for passwords that are not valid SASLprep input and identical for ASCII ones.
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt_bytes[..salt_len], iterations, &mut salted);
        let client_key = hmac(&salted, &[b"Client Key"]);
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let mut final_message = heapless::String::<CLIENT_FINAL>::new();
        let too_long = || ServiceError::protocol("protocol error: SCRAM nonce too long");
        final_message.push_str("c=biws,r=").map_err(|_| too_long())?;
        final_message.push_str(nonce).map_err(|_| too_long())?;
        let first_bare = &self.client_first()[3..];
        let auth: [&[u8]; 5] = [first_bare.as_bytes(), b",", server_first, b",", final_message.as_bytes()];
        let signature = hmac(&stored_key, &auth);
        let mut proof = client_key;
        for (p, s) in proof.iter_mut().zip(signature) {
            *p ^= s;
        }
        self.server_signature = hmac(&hmac(&salted, &[b"Server Key"]), &auth);
        let mut encoded = [0u8; 44];
        let n = BASE64.encode_slice(proof, &mut encoded).map_err(|_| too_long())?;
        final_message.push_str(",p=").map_err(|_| too_long())?;
        final_message.push_str(core::str::from_utf8(&encoded[..n]).unwrap_or("")).map_err(|_| too_long())?;
        Ok(final_message)
    }

    /// Checks server-final (`v=<signature>`): a server that cannot prove it knows the password is
    /// not the one configured.
    fn verify_server(&self, server_final: &[u8]) -> Result<(), ServiceError> {
        let mut expected = [0u8; 44];
        let n = BASE64.encode_slice(self.server_signature, &mut expected).unwrap_or(0);
        match server_final.strip_prefix(b"v=") {
            Some(v) if v == &expected[..n] => Ok(()),
            _ => Err(ServiceError::new(ErrorKind::AuthFailed, "auth failed: the server's SCRAM signature is wrong")
                .with_server_text(printable(server_final))),
        }
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; the error case cannot happen.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else { return [0; 32] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_answer_matches_postgres() {
        // md5 of "md5" + md5("secret" + "alice") + salt, as computed by PostgreSQL's pg_md5_encrypt.
        let inner: heapless::String<32> = crate::hex::encode(&Md5::digest(b"secretalice"));
        let expected: heapless::String<32> =
            crate::hex::encode(&Md5::new().chain_update(inner.as_bytes()).chain_update([1, 2, 3, 4]).finalize());
        assert_eq!(md5_password("alice", "secret", &[1, 2, 3, 4]), expected);
    }

    /// RFC 7677's example, with its client nonce.
    #[test]
    fn scram_matches_rfc_7677() {
        let mut s = Scram { nonce: heapless::String::new(), server_signature: [0; 32], verified: false };
        s.nonce.push_str("rOprNGfwEbeRWgbNEkqO").unwrap();
        // RFC 7677 uses n=user; PostgreSQL sends n= empty, so check the RFC's arithmetic by hand.
        assert_eq!(s.client_first().as_str(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let f = s.client_final(server_first, "pencil").unwrap();
        assert!(f.starts_with("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="), "{f}");
        assert!(s.verify_server(b"v=wrong").is_err());
    }

    #[test]
    fn scram_refuses_a_foreign_nonce_or_too_many_iterations() {
        let mut s = Scram::new(7);
        for bad in [&b"r=other,s=QQ==,i=4096"[..], b"garbage", b"r=,s=,i="] {
            assert_eq!(s.client_final(bad, "pw").unwrap_err().kind, ErrorKind::ProtocolError);
        }
        let mut first = heapless::String::<80>::new();
        first.push_str("r=").unwrap();
        first.push_str(&s.nonce.clone()).unwrap();
        first.push_str("x,s=QQ==,i=999999999").unwrap();
        assert_eq!(s.client_final(first.as_bytes(), "pw").unwrap_err().kind, ErrorKind::ProtocolError);
    }

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
