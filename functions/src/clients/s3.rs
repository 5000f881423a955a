//! A minimal S3 client: one signed `PUT` or `GET` of an object per connection, path-style
//! (`/bucket/key`), over HTTP/1.1 with `Content-Length` bodies.
//!
//! Crates do the parts that have one: `httparse` parses the response head, `hmac` + `sha2` compute
//! AWS Signature Version 4. Written here is only the glue no no_std crate provides without an
//! allocator: the SigV4 canonical request and string to sign, the URI encoding of keys, the civil
//! date of `x-amz-date` (the worker has no wall clock: the orchestrator sends the time with each
//! Invoke, see [`crate::Context::unix_time`]), and pulling `<Code>`/`<Message>` out of S3's XML
//! error bodies.
//!
//! Bounds: a response head must fit [`MAX_HEAD`] bytes and a body the caller's buffer; the whole
//! exchange has one deadline (the [`Stream`]'s).
use core::fmt::Write as _;

use embedded_io::{Read, Write};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::function::ErrorKind;
use crate::net::{Connector, NetError, Service, ServiceError, Stream};

/// Longest response head (status line and headers) accepted.
pub const MAX_HEAD: usize = 2048;
/// Longest object key; keeps the request head within a fixed buffer.
pub const MAX_KEY: usize = 256;
/// The region when the service names none (what MinIO and s3s accept by default).
pub const DEFAULT_REGION: &str = "us-east-1";

/// Most headers a response may carry.
const MAX_HEADERS: usize = 32;
/// The request head: request line, host, date, hash, authorization, length.
/// A key may triple in length when URI-encoded.
type Head = heapless::String<{ 3 * MAX_KEY + 768 }>;

/// The signing identity and target of one service, checked once.
pub struct S3<'s> {
    access_key: &'s str,
    secret_key: &'s str,
    region: &'s str,
    bucket: &'s str,
    /// The `Host` header: the address the worker dials, as signed.
    host: heapless::String<24>,
    /// Seconds since the Unix epoch, UTC, for `x-amz-date`.
    unix_time: u64,
}

/// A successful response: its status and where the body lies in the caller's buffer.
pub struct Response {
    pub status: u16,
    pub body: core::ops::Range<usize>,
    /// The `ETag` header, quotes and all, if it fit.
    pub etag: heapless::String<80>,
}

impl<'s> S3<'s> {
    /// Access key = the service's `user`, secret key = its `password`, plus its `bucket` and
    /// `region` (default [`DEFAULT_REGION`]). `unix_time` is now, in seconds since the epoch.
    pub fn new(service: &'s Service<'s>, unix_time: u64) -> Result<Self, ServiceError> {
        if unix_time == 0 {
            return Err(ServiceError::new(ErrorKind::BadArguments, "s3: no wall-clock time was sent to sign with"));
        }
        let mut host = heapless::String::new();
        let _ = write!(host, "{}", service.addr());
        Ok(S3 {
            access_key: Service::require(service.user, "s3: the service has no user (access key)")?,
            secret_key: Service::require(service.password, "s3: the service has no password (secret key)")?.0,
            region: service.region.unwrap_or(DEFAULT_REGION),
            bucket: Service::require(service.bucket, "s3: the service has no bucket")?,
            host,
            unix_time,
        })
    }

    /// `PUT /bucket/key` with `body`; returns the object's ETag.
    pub fn put(
        &self,
        net: &mut dyn Connector,
        addr: core::net::SocketAddrV4,
        key: &str,
        body: &[u8],
        buf: &mut [u8],
        timeout_ms: u32,
    ) -> Result<heapless::String<80>, ServiceError> {
        let response = self.request(net, addr, "PUT", key, body, buf, timeout_ms)?;
        Ok(response.etag)
    }

    /// `GET /bucket/key` into `buf`; returns the body's range in `buf`. An object over `max_body`
    /// bytes is refused; `buf` must hold it and the response head ([`MAX_HEAD`] bytes more).
    #[allow(clippy::too_many_arguments)]
    pub fn get(
        &self,
        net: &mut dyn Connector,
        addr: core::net::SocketAddrV4,
        key: &str,
        buf: &mut [u8],
        max_body: usize,
        timeout_ms: u32,
    ) -> Result<core::ops::Range<usize>, ServiceError> {
        let body = self.request(net, addr, "GET", key, b"", buf, timeout_ms)?.body;
        if body.len() > max_body {
            return Err(ServiceError::protocol("protocol error: the object exceeds the client's size cap"));
        }
        Ok(body)
    }

    /// Sends one signed request and reads its response into `buf`. A non-2xx status is an error:
    /// [`ErrorKind::AuthFailed`] for refused credentials, [`ErrorKind::Failed`] for a missing
    /// object or bucket, [`ErrorKind::ProtocolError`] otherwise, each with S3's `Code: Message`.
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        net: &mut dyn Connector,
        addr: core::net::SocketAddrV4,
        method: &str,
        key: &str,
        body: &[u8],
        buf: &mut [u8],
        timeout_ms: u32,
    ) -> Result<Response, ServiceError> {
        if key.is_empty() || key.len() > MAX_KEY {
            return Err(ServiceError::new(ErrorKind::BadArguments, "s3: the key must be 1 to 256 bytes"));
        }
        let head = self.head(method, key, body)?;
        let mut stream = Stream::connect(net, addr, timeout_ms)?;
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let response = read_response(&mut stream, buf)?;
        if (200..300).contains(&response.status) {
            return Ok(response);
        }
        Err(s3_error(response.status, &buf[response.body]))
    }

    /// The request head, signed.
    fn head(&self, method: &str, key: &str, body: &[u8]) -> Result<Head, ServiceError> {
        let too_long = || ServiceError::new(ErrorKind::BadArguments, "s3: the request head exceeds its buffer");
        let mut path: heapless::String<{ 3 * MAX_KEY + 72 }> = heapless::String::new();
        path.push('/').map_err(|_| too_long())?;
        uri_encode(self.bucket, &mut path).map_err(|_| too_long())?;
        path.push('/').map_err(|_| too_long())?;
        uri_encode(key, &mut path).map_err(|_| too_long())?;

        let date = amz_date(self.unix_time);
        let payload: heapless::String<64> = crate::hex::encode(&Sha256::digest(body));
        let mut scope: heapless::String<96> = heapless::String::new();
        write!(scope, "{}/{}/s3/aws4_request", &date[..8], self.region).map_err(|_| too_long())?;

        // The canonical request, hashed as it is written (no buffer needed).
        let mut canonical = HashWriter(Sha256::new());
        let _ = write!(
            canonical,
            "{method}\n{path}\n\nhost:{}\nx-amz-content-sha256:{payload}\nx-amz-date:{date}\n\n{SIGNED}\n{payload}",
            self.host
        );
        let canonical: heapless::String<64> = crate::hex::encode(&canonical.0.finalize());

        let mut secret: heapless::String<136> = heapless::String::new();
        write!(secret, "AWS4{}", self.secret_key)
            .map_err(|_| ServiceError::new(ErrorKind::BadArguments, "s3: the secret key is too long"))?;
        let mut key = hmac(secret.as_bytes(), &[date[..8].as_bytes()]);
        for part in [self.region, "s3", "aws4_request"] {
            key = hmac(&key, &[part.as_bytes()]);
        }
        let signature =
            hmac(&key, &[b"AWS4-HMAC-SHA256\n", date.as_bytes(), b"\n", scope.as_bytes(), b"\n", canonical.as_bytes()]);
        let signature: heapless::String<64> = crate::hex::encode(&signature);

        let mut head = Head::new();
        write!(
            head,
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nx-amz-date: {date}\r\nx-amz-content-sha256: {payload}\r\n\
             authorization: AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED}, Signature={signature}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            self.host,
            self.access_key,
            body.len()
        )
        .map_err(|_| too_long())?;
        Ok(head)
    }
}

/// The headers signed, in canonical order.
const SIGNED: &str = "host;x-amz-content-sha256;x-amz-date";

/// HMAC-SHA256 of the concatenated `parts` under `key`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // Any key length is valid for HMAC.
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Feeds formatted text into a hash.
struct HashWriter(Sha256);

impl core::fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// SigV4's URI encoding of a path segment: every byte but the unreserved ones and `/` as `%XX`.
pub fn uri_encode<const N: usize>(s: &str, out: &mut heapless::String<N>) -> core::fmt::Result {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char).map_err(|_| core::fmt::Error)?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the Unix epoch (UTC; the civil-from-days algorithm of
/// Howard Hinnant's `chrono`-compatible date library).
pub fn amz_date(unix: u64) -> heapless::String<16> {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = heapless::String::new();
    let _ = write!(out, "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", secs / 3600, secs / 60 % 60, secs % 60);
    out
}

/// Reads one response into `buf`: the head, then a `Content-Length` body (or, without one, the
/// body up to the server's close).
fn read_response(stream: &mut Stream<'_>, buf: &mut [u8]) -> Result<Response, ServiceError> {
    let too_big = || ServiceError::protocol("protocol error: the response exceeds the client's buffer");
    let mut filled = 0;
    let (status, head_len, length, etag) = loop {
        if filled == buf.len() {
            return Err(too_big());
        }
        match stream.read(&mut buf[filled..])? {
            0 => return Err(NetError::Closed.into()),
            n => filled += n,
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf[..filled]) {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let mut length = None;
                let mut etag = heapless::String::new();
                for h in response.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        let text = core::str::from_utf8(h.value).ok();
                        length = Some(text.and_then(|t| t.trim().parse::<usize>().ok()).ok_or_else(|| {
                            ServiceError::protocol("protocol error: bad Content-Length").with_server_text(h.value)
                        })?);
                    } else if h.name.eq_ignore_ascii_case("etag") {
                        let _ = etag.push_str(core::str::from_utf8(h.value).unwrap_or(""));
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        return Err(ServiceError::protocol("protocol error: chunked bodies are not supported"));
                    }
                }
                break (status, len, length, etag);
            }
            Ok(httparse::Status::Partial) if filled < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(ServiceError::protocol("protocol error: the response head exceeds its buffer"));
            }
            Err(_) => {
                return Err(ServiceError::protocol("protocol error: not an HTTP response")
                    .with_server_text(&buf[..filled.min(40)]));
            }
        }
    };
    let end = match length {
        Some(n) => {
            let end = head_len.checked_add(n).filter(|&e| e <= buf.len()).ok_or_else(too_big)?;
            while filled < end {
                match stream.read(&mut buf[filled..end])? {
                    0 => return Err(NetError::Closed.into()),
                    n => filled += n,
                }
            }
            end
        }
        // No length: the body runs to the close (the `Connection: close` we asked for).
        None => loop {
            if filled == buf.len() {
                return Err(too_big());
            }
            match stream.read(&mut buf[filled..]) {
                Ok(0) | Err(NetError::Closed) => break filled,
                Ok(n) => filled += n,
                Err(e) => return Err(e.into()),
            }
        },
    };
    Ok(Response { status, body: head_len..end, etag })
}

/// The error of a non-2xx response, with S3's `<Code>` and `<Message>` as the server's text.
fn s3_error(status: u16, body: &[u8]) -> ServiceError {
    let code = xml_element(body, "Code").unwrap_or(b"");
    let (kind, message) = match code {
        b"SignatureDoesNotMatch" | b"InvalidAccessKeyId" | b"AccessDenied" => (ErrorKind::AuthFailed, "auth failed"),
        // A client's mistake, not the service's: the function failed (500), with S3's words.
        b"NoSuchKey" | b"NoSuchBucket" => (ErrorKind::Failed, "s3: no such object"),
        _ if status == 401 || status == 403 => (ErrorKind::AuthFailed, "auth failed"),
        _ if status == 503 => (ErrorKind::ServiceUnavailable, "service unavailable: the server is busy"),
        _ => (ErrorKind::ProtocolError, "protocol error: the server answered with an error"),
    };
    let mut text: heapless::String<192> = heapless::String::new();
    let message_text = xml_element(body, "Message").unwrap_or(b"");
    if code.is_empty() {
        let _ = write!(text, "HTTP {status}");
    } else {
        let _ = write!(
            text,
            "{}: {}",
            core::str::from_utf8(code).unwrap_or("?"),
            core::str::from_utf8(message_text).unwrap_or("?")
        );
    }
    ServiceError::new(kind, message).with_server_text(text.as_bytes())
}

/// The text of the first `<name>...</name>` in `xml` (S3 error bodies are flat and unescaped
/// where it matters: codes are identifiers).
fn xml_element<'x>(xml: &'x [u8], name: &str) -> Option<&'x [u8]> {
    let mut open: heapless::String<24> = heapless::String::new();
    write!(open, "<{name}>").ok()?;
    let start = find(xml, open.as_bytes())? + open.len();
    let len = find(&xml[start..], b"</")?;
    Some(&xml[start..start + len])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(amz_date(0).as_str(), "19700101T000000Z");
        // 2013-05-24T00:00:00Z, the date of AWS's SigV4 examples.
        assert_eq!(amz_date(1_369_353_600).as_str(), "20130524T000000Z");
        assert_eq!(amz_date(951_782_400 + 3_723).as_str(), "20000229T010203Z");
        assert_eq!(amz_date(4_102_444_799).as_str(), "20991231T235959Z");
    }

    #[test]
    fn keys_are_encoded_per_sigv4() {
        let mut out: heapless::String<64> = heapless::String::new();
        uri_encode("a b/c~d+é", &mut out).unwrap();
        assert_eq!(out.as_str(), "a%20b/c~d%2B%C3%A9");
    }

    /// AWS's documented example: GET /test.txt, 2013-05-24, us-east-1, `examplebucket`.
    #[test]
    fn signing_key_matches_the_aws_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let mut key = hmac(format_secret(secret).as_bytes(), &[b"20130524"]);
        for part in ["us-east-1", "s3", "aws4_request"] {
            key = hmac(&key, &[part.as_bytes()]);
        }
        let string_to_sign = "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
                              7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
        let sig: heapless::String<64> = crate::hex::encode(&hmac(&key, &[string_to_sign.as_bytes()]));
        assert_eq!(sig.as_str(), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    }

    fn format_secret(secret: &str) -> heapless::String<64> {
        let mut s = heapless::String::new();
        let _ = write!(s, "AWS4{secret}");
        s
    }

    #[test]
    fn the_longest_key_fits_the_request_head_fully_encoded() {
        let service = Service {
            user: Some("AKIAIOSFODNN7EXAMPLE"),
            password: Some(crate::net::Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
            bucket: Some("a-bucket-name-of-sixty-three-characters-which-is-the-s3-maximum"),
            region: Some("ap-southeast-2"),
            ..Service::at("s3", core::net::SocketAddrV4::new([255, 255, 255, 255].into(), 65535))
        };
        let s3 = S3::new(&service, 4_102_444_799).unwrap();
        let key = "é".repeat(MAX_KEY / 2);
        let head = s3.head("PUT", &key, b"body").unwrap();
        assert!(head.contains("Signature=") && head.ends_with("\r\n\r\n"));
        assert!(s3.head("PUT", &(key + "x"), b"").is_ok(), "the cap is checked by request(), not head()");
    }

    #[test]
    fn error_bodies_give_their_code_and_message() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        let e = s3_error(404, body);
        assert_eq!(e.kind, ErrorKind::Failed);
        assert_eq!(e.server.as_str(), "NoSuchKey: The specified key does not exist.");
        assert_eq!(s3_error(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>").kind, ErrorKind::AuthFailed);
        assert_eq!(s3_error(500, b"garbage").server.as_str(), "HTTP 500");
    }
}
