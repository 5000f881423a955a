//! A minimal Kafka client: Produce v3, Fetch v4, OffsetCommit v2, OffsetFetch v1 and Metadata v4 on one
//! partition, for a standalone group member (generation -1, empty member id: the "simple consumer"
//! that commits offsets without joining the group). These are the oldest versions Kafka 4 still
//! serves, and none is "flexible", so every field is fixed-width or length-prefixed.
//!
//! CRC-32C comes from the `crc` crate (`CRC_32_ISCSI`, no_std). No no_std crate frames Kafka
//! requests over `embedded_io` without an allocator, so the glue is written here: the 4-byte size
//! prefix, request header v1 (with client id), the four request bodies, record batch v2 (magic 2,
//! CRC-32C over attributes..end, zigzag varint records) and just the response fields we need. Each
//! request and its response share one [`BUFFER`]-byte buffer; every length read is bounded by it.
use core::fmt::Write as _;

use crc::{CRC_32_ISCSI, Crc};
use embedded_io::{Read, Write};

use crate::function::ErrorKind;
use crate::net::{Connector, NetError, Service, ServiceError, Stream};

/// The request/response buffer: the largest request or response accepted.
pub const BUFFER: usize = 4096;
/// The largest record value produced or returned; leaves room for the framing around it.
pub const MAX_VALUE: usize = 1024;

const CASTAGNOLI: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

const PRODUCE: (i16, i16) = (0, 3);
const FETCH: (i16, i16) = (1, 4);
const OFFSET_COMMIT: (i16, i16) = (8, 2);
const OFFSET_FETCH: (i16, i16) = (9, 1);
const METADATA: (i16, i16) = (3, 4);

/// How long the broker may wait for the write to be acknowledged / for data to arrive.
const BROKER_WAIT_MS: i32 = 1_000;

/// The message of an error code in a response, as opposed to a response we could not parse.
pub const ERROR_CODE: &str = "kafka: the broker answered with an error code";

/// One record read back: its offset and value (borrowed from the client's buffer).
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'r> {
    pub offset: i64,
    /// `None` for a null value (a tombstone).
    pub value: Option<&'r [u8]>,
}

pub struct Kafka<'n> {
    stream: Stream<'n>,
    client_id: &'n str,
    correlation: i32,
    buf: [u8; BUFFER],
}

impl<'n> Kafka<'n> {
    /// Connects to `service` as `client_id`; the whole session must end within `timeout_ms`.
    pub fn connect(
        net: &'n mut dyn Connector,
        service: &Service<'_>,
        client_id: &'n str,
        timeout_ms: u32,
    ) -> Result<Self, ServiceError> {
        let stream = Stream::connect(net, service.addr(), timeout_ms)?;
        Ok(Kafka { stream, client_id, correlation: 0, buf: [0; BUFFER] })
    }

    /// Appends `value` (no key) to `partition` of `topic`, waiting for all in-sync replicas;
    /// returns the record's offset.
    pub fn produce(&mut self, topic: &str, partition: i32, value: &[u8]) -> Result<i64, ServiceError> {
        if value.len() > MAX_VALUE {
            return Err(ServiceError::new(ErrorKind::BadArguments, "kafka: the message is too long"));
        }
        let mut batch = [0u8; MAX_VALUE + 128];
        let batch_len = record_batch(value, &mut batch)?;
        let len = self.request(PRODUCE, |e| {
            e.i16(-1)?; // transactional_id: null
            e.i16(-1)?; // acks: all
            e.i32(BROKER_WAIT_MS)?;
            e.i32(1)?;
            e.string(topic)?;
            e.i32(1)?;
            e.i32(partition)?;
            e.bytes(&batch[..batch_len])
        })?;
        let mut d = Dec::new(&self.buf[..len]);
        let (error, offset) = one_partition(&mut d, topic, partition, |d| {
            let error = d.i16()?;
            let offset = d.i64()?;
            d.i64()?; // log_append_time
            Ok((error, offset))
        })?;
        check(error, topic)?;
        Ok(offset)
    }

    /// The first record at or after `offset` in `partition` of `topic`, `None` if there is none yet.
    pub fn fetch(&mut self, topic: &str, partition: i32, offset: i64) -> Result<Option<Record<'_>>, ServiceError> {
        let window = (BUFFER - 256) as i32;
        let len = self.request(FETCH, |e| {
            e.i32(-1)?; // replica_id: a consumer
            e.i32(0)?; // max_wait: answer at once, the function wants "what is there now"
            e.i32(0)?; // min_bytes
            e.i32(window)?;
            e.i8(0)?; // read uncommitted
            e.i32(1)?;
            e.string(topic)?;
            e.i32(1)?;
            e.i32(partition)?;
            e.i64(offset)?;
            e.i32(window)
        })?;
        let buf = &self.buf[..len];
        let mut d = Dec::new(buf);
        d.i32()?; // throttle_time
        let (error, records) = one_partition(&mut d, topic, partition, |d| {
            let error = d.i16()?;
            d.i64()?; // high watermark
            d.i64()?; // last stable offset
            let aborted = d.i32()?;
            if aborted > 0 {
                d.skip(usize::try_from(aborted).map_err(|_| truncated())?.saturating_mul(16))?;
            }
            let records = d.nullable_bytes()?.unwrap_or(&[]);
            Ok((error, records))
        })?;
        check(error, topic)?;
        first_record(records, offset)
    }

    /// Checks that the broker holds `topic`, without creating it: a fetch from a missing topic
    /// may simply come back empty (tansu's does), so a reader asks first.
    pub fn require_topic(&mut self, topic: &str) -> Result<(), ServiceError> {
        let len = self.request(METADATA, |e| {
            e.i32(1)?;
            e.string(topic)?;
            e.i8(0) // allow_auto_topic_creation: no
        })?;
        let mut d = Dec::new(&self.buf[..len]);
        d.i32()?; // throttle_time
        for _ in 0..d.i32()?.max(0) {
            d.i32()?; // node id
            d.string()?; // host
            d.i32()?; // port
            d.nullable_string()?; // rack
        }
        d.nullable_string()?; // cluster id
        d.i32()?; // controller id
        if d.i32()? != 1 {
            return Err(ServiceError::protocol("protocol error: metadata for another number of topics"));
        }
        let error = d.i16()?;
        if d.string()? != topic.as_bytes() {
            return Err(ServiceError::protocol("protocol error: metadata for another topic"));
        }
        check(error, topic)
    }

    /// The offset `group` committed for `partition` of `topic`, `None` if it committed none.
    pub fn committed(&mut self, group: &str, topic: &str, partition: i32) -> Result<Option<i64>, ServiceError> {
        let len = self.request(OFFSET_FETCH, |e| {
            e.string(group)?;
            e.i32(1)?;
            e.string(topic)?;
            e.i32(1)?;
            e.i32(partition)
        })?;
        let mut d = Dec::new(&self.buf[..len]);
        let (offset, error) = one_partition(&mut d, topic, partition, |d| {
            let offset = d.i64()?;
            d.nullable_string()?; // metadata
            Ok((offset, d.i16()?))
        })?;
        check(error, topic)?;
        Ok((offset >= 0).then_some(offset))
    }

    /// Commits `offset` (the next record to read) for `group` as a standalone member.
    pub fn commit(&mut self, group: &str, topic: &str, partition: i32, offset: i64) -> Result<(), ServiceError> {
        let len = self.request(OFFSET_COMMIT, |e| {
            e.string(group)?;
            e.i32(-1)?; // generation: standalone
            e.string("")?; // member id: standalone
            e.i64(-1)?; // retention: the broker's default
            e.i32(1)?;
            e.string(topic)?;
            e.i32(1)?;
            e.i32(partition)?;
            e.i64(offset)?;
            e.i16(-1) // metadata: null
        })?;
        let mut d = Dec::new(&self.buf[..len]);
        let error = one_partition(&mut d, topic, partition, |d| d.i16())?;
        check(error, topic)
    }

    /// Sends one request (header v1, then `body`) and reads its response into the buffer; returns
    /// the length of the response body (after the correlation id).
    fn request(
        &mut self,
        (key, version): (i16, i16),
        body: impl FnOnce(&mut Enc<'_>) -> Result<(), ServiceError>,
    ) -> Result<usize, ServiceError> {
        self.correlation = self.correlation.wrapping_add(1);
        let mut e = Enc { buf: &mut self.buf, len: 4 };
        e.i16(key)?;
        e.i16(version)?;
        e.i32(self.correlation)?;
        e.string(self.client_id)?;
        body(&mut e)?;
        let len = e.len;
        self.buf[..4].copy_from_slice(&((len - 4) as i32).to_be_bytes());
        self.stream.write_all(&self.buf[..len])?;
        self.stream.flush()?;

        let mut size = [0u8; 4];
        read_exact(&mut self.stream, &mut size)?;
        let size = i32::from_be_bytes(size);
        let size = match usize::try_from(size) {
            Ok(n) if n < 4 => return Err(ServiceError::protocol("protocol error: response shorter than its header")),
            Ok(n) if n <= BUFFER => n,
            _ => return Err(ServiceError::protocol("protocol error: response exceeds the client's buffer")),
        };
        read_exact(&mut self.stream, &mut self.buf[..size])?;
        if self.buf[..4] != self.correlation.to_be_bytes() {
            return Err(ServiceError::protocol("protocol error: response to another request"));
        }
        self.buf.copy_within(4..size, 0);
        Ok(size - 4)
    }
}

/// Fills `buf`; a connection closed before that is "closed early".
fn read_exact(stream: &mut Stream<'_>, buf: &mut [u8]) -> Result<(), ServiceError> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..])? {
            0 => return Err(NetError::Closed.into()),
            n => filled += n,
        }
    }
    Ok(())
}

/// Reads `[topic [partition ...]]` and returns what `partition` reads for the only partition of
/// the only topic, checking they are the ones asked for.
fn one_partition<'b, T>(
    d: &mut Dec<'b>,
    topic: &str,
    partition: i32,
    read: impl FnOnce(&mut Dec<'b>) -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    if d.i32()? != 1 || d.string()? != topic.as_bytes() || d.i32()? != 1 || d.i32()? != partition {
        return Err(ServiceError::protocol("protocol error: response for another topic or partition"));
    }
    read(d)
}

/// Kafka error codes by name, the ones a produce/fetch/commit on one partition may meet.
fn code_name(code: i16) -> &'static str {
    match code {
        -1 => "UNKNOWN_SERVER_ERROR",
        1 => "OFFSET_OUT_OF_RANGE",
        2 => "CORRUPT_MESSAGE",
        3 => "UNKNOWN_TOPIC_OR_PARTITION",
        5 => "LEADER_NOT_AVAILABLE",
        6 => "NOT_LEADER_OR_FOLLOWER",
        7 => "REQUEST_TIMED_OUT",
        10 => "MESSAGE_TOO_LARGE",
        14 => "COORDINATOR_LOAD_IN_PROGRESS",
        15 => "COORDINATOR_NOT_AVAILABLE",
        16 => "NOT_COORDINATOR",
        17 => "INVALID_TOPIC_EXCEPTION",
        22 => "ILLEGAL_GENERATION",
        24 => "INVALID_GROUP_ID",
        25 => "UNKNOWN_MEMBER_ID",
        29 => "TOPIC_AUTHORIZATION_FAILED",
        30 => "GROUP_AUTHORIZATION_FAILED",
        31 => "CLUSTER_AUTHORIZATION_FAILED",
        35 => "UNSUPPORTED_VERSION",
        42 => "INVALID_REQUEST",
        87 => "INVALID_RECORD",
        _ => "UNKNOWN_ERROR_CODE",
    }
}

/// An error code as a typed error: the broker being unable to serve is "service unavailable",
/// refused authorization is "auth failed", anything else a protocol error. The server's text is
/// the code's name, its number and the topic.
pub fn check(code: i16, topic: &str) -> Result<(), ServiceError> {
    let kind = match code {
        0 => return Ok(()),
        5 | 6 | 7 | 14 | 15 | 16 => ErrorKind::ServiceUnavailable,
        29..=31 => ErrorKind::AuthFailed,
        _ => ErrorKind::ProtocolError,
    };
    let mut text = heapless::String::<96>::new();
    let _ = write!(text, "{} ({code}) on topic {topic}", code_name(code));
    Err(ServiceError::new(kind, ERROR_CODE).with_server_text(text.as_bytes()))
}

/// Writes a record batch v2 holding one record (no key, no headers, no timestamp: the worker has
/// no wall clock, so the broker's time or -1 stands) into `out`; returns its length.
pub fn record_batch(value: &[u8], out: &mut [u8]) -> Result<usize, ServiceError> {
    // The record, after its own length.
    let mut record = [0u8; MAX_VALUE + 32];
    let mut r = Enc { buf: &mut record, len: 0 };
    r.i8(0)?; // attributes
    r.varint(0)?; // timestamp delta
    r.varint(0)?; // offset delta
    r.varint(-1)?; // key: null
    r.varint(value.len() as i64)?;
    r.raw(value)?;
    r.varint(0)?; // headers
    let record_len = r.len;

    let mut e = Enc { buf: out, len: 0 };
    e.i64(0)?; // base offset: the broker assigns it
    e.i32(0)?; // batch length, below
    e.i32(-1)?; // partition leader epoch
    e.i8(2)?; // magic
    e.i32(0)?; // CRC, below
    let crc_from = e.len;
    e.i16(0)?; // attributes: no compression, create time, not transactional
    e.i32(0)?; // last offset delta
    e.i64(-1)?; // base timestamp
    e.i64(-1)?; // max timestamp
    e.i64(-1)?; // producer id: not idempotent
    e.i16(-1)?; // producer epoch
    e.i32(-1)?; // base sequence
    e.i32(1)?; // records
    e.varint(record_len as i64)?;
    e.raw(&record[..record_len])?;
    let len = e.len;
    out[8..12].copy_from_slice(&((len - 12) as i32).to_be_bytes());
    let crc = CASTAGNOLI.checksum(&out[crc_from..len]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    Ok(len)
}

/// The first record at or after `from` in a fetched record set (a run of batches; the last may be
/// cut short by the broker's size limit and is then ignored). Control batches are skipped;
/// compressed ones are refused.
pub fn first_record(mut records: &[u8], from: i64) -> Result<Option<Record<'_>>, ServiceError> {
    while records.len() >= 12 {
        let mut d = Dec::new(records);
        let base = d.i64()?;
        let Ok(len) = usize::try_from(d.i32()?) else {
            return Err(ServiceError::protocol("protocol error: negative record batch length"));
        };
        let Some(batch) = records.get(12..12usize.saturating_add(len)) else { break };
        records = &records[12 + len..];
        let mut d = Dec::new(batch);
        d.i32()?; // partition leader epoch
        if d.i8()? != 2 {
            return Err(ServiceError::protocol("protocol error: record batch is not magic 2"));
        }
        let crc = d.i32()? as u32;
        if CASTAGNOLI.checksum(&batch[9..]) != crc {
            return Err(ServiceError::protocol("protocol error: record batch CRC-32C mismatch"));
        }
        let attributes = d.i16()?;
        if attributes & 0x07 != 0 {
            return Err(ServiceError::protocol("protocol error: compressed record batches are not supported"));
        }
        d.skip(4 + 8 + 8 + 8 + 2 + 4)?; // last offset delta .. base sequence
        let count = d.i32()?;
        if attributes & 0x20 != 0 {
            continue; // a control batch (transaction markers)
        }
        for _ in 0..count.max(0) {
            let len = usize::try_from(d.varint()?).map_err(|_| truncated())?;
            let mut r = Dec::new(d.take(len)?);
            r.i8()?; // attributes
            r.varint()?; // timestamp delta
            let offset = base.saturating_add(r.varint()?);
            r.varbytes()?; // key
            let value = r.varbytes()?;
            if offset >= from {
                return Ok(Some(Record { offset, value }));
            }
        }
    }
    Ok(None)
}

fn truncated() -> ServiceError {
    ServiceError::protocol("protocol error: truncated or malformed response")
}

/// Big-endian encoder into a fixed buffer.
struct Enc<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Enc<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), ServiceError> {
        let end = self.len + bytes.len();
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or_else(|| ServiceError::protocol("protocol error: request exceeds the client's buffer"))?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
    fn i8(&mut self, v: i8) -> Result<(), ServiceError> {
        self.raw(&v.to_be_bytes())
    }
    fn i16(&mut self, v: i16) -> Result<(), ServiceError> {
        self.raw(&v.to_be_bytes())
    }
    fn i32(&mut self, v: i32) -> Result<(), ServiceError> {
        self.raw(&v.to_be_bytes())
    }
    fn i64(&mut self, v: i64) -> Result<(), ServiceError> {
        self.raw(&v.to_be_bytes())
    }
    fn string(&mut self, s: &str) -> Result<(), ServiceError> {
        let len =
            i16::try_from(s.len()).map_err(|_| ServiceError::new(ErrorKind::BadArguments, "kafka: name too long"))?;
        self.i16(len)?;
        self.raw(s.as_bytes())
    }
    fn bytes(&mut self, b: &[u8]) -> Result<(), ServiceError> {
        self.i32(b.len() as i32)?;
        self.raw(b)
    }
    /// A zigzag varint, as records use.
    fn varint(&mut self, v: i64) -> Result<(), ServiceError> {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        loop {
            let byte = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                return self.raw(&[byte]);
            }
            self.raw(&[byte | 0x80])?;
        }
    }
}

/// Big-endian decoder over a response; running past its end is a protocol error.
struct Dec<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl<'b> Dec<'b> {
    fn new(buf: &'b [u8]) -> Self {
        Dec { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'b [u8], ServiceError> {
        let bytes = self.buf.get(self.pos..self.pos.saturating_add(n)).ok_or_else(truncated)?;
        self.pos += n;
        Ok(bytes)
    }
    fn skip(&mut self, n: usize) -> Result<(), ServiceError> {
        self.take(n).map(|_| ())
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ServiceError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn i8(&mut self) -> Result<i8, ServiceError> {
        Ok(i8::from_be_bytes(self.array()?))
    }
    fn i16(&mut self) -> Result<i16, ServiceError> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, ServiceError> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, ServiceError> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    fn nullable_string(&mut self) -> Result<Option<&'b [u8]>, ServiceError> {
        match self.i16()? {
            -1 => Ok(None),
            n => self.take(usize::try_from(n).map_err(|_| truncated())?).map(Some),
        }
    }
    fn string(&mut self) -> Result<&'b [u8], ServiceError> {
        self.nullable_string()?.ok_or_else(truncated)
    }
    fn nullable_bytes(&mut self) -> Result<Option<&'b [u8]>, ServiceError> {
        match self.i32()? {
            -1 => Ok(None),
            n => self.take(usize::try_from(n).map_err(|_| truncated())?).map(Some),
        }
    }
    fn varint(&mut self) -> Result<i64, ServiceError> {
        let mut z = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.i8()? as u8;
            z |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((z >> 1) as i64 ^ -((z & 1) as i64));
            }
        }
        Err(truncated())
    }
    /// Varint-length bytes (record keys and values); -1 is null.
    fn varbytes(&mut self) -> Result<Option<&'b [u8]>, ServiceError> {
        match self.varint()? {
            -1 => Ok(None),
            n => self.take(usize::try_from(n).map_err(|_| truncated())?).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_answers() {
        // RFC 3720 B.4 and the catalogue's check value.
        assert_eq!(CASTAGNOLI.checksum(b"123456789"), 0xE306_9283);
        assert_eq!(CASTAGNOLI.checksum(&[0; 32]), 0x8A91_36AA);
        assert_eq!(CASTAGNOLI.checksum(&[0xff; 32]), 0x62A8_AB43);
    }

    #[test]
    fn varints_are_zigzag() {
        for (v, bytes) in
            [(0i64, &[0u8][..]), (-1, &[1]), (1, &[2]), (63, &[0x7e]), (64, &[0x80, 1]), (-65, &[0x81, 1])]
        {
            let mut buf = [0; 10];
            let mut e = Enc { buf: &mut buf, len: 0 };
            e.varint(v).unwrap();
            let len = e.len;
            assert_eq!(&buf[..len], bytes, "{v}");
            assert_eq!(Dec::new(bytes).varint().unwrap(), v);
        }
    }

    #[test]
    fn record_batch_layout_and_read_back() {
        let mut out = [0; 256];
        let len = record_batch(b"hello", &mut out).unwrap();
        let batch = &out[..len];
        assert_eq!(i32::from_be_bytes(batch[8..12].try_into().unwrap()) as usize, len - 12);
        assert_eq!(batch[16], 2, "magic");
        let crc = u32::from_be_bytes(batch[17..21].try_into().unwrap());
        assert_eq!(crc, CASTAGNOLI.checksum(&batch[21..]));
        // One record: length 11, attributes, ts delta, offset delta, null key, "hello", no headers.
        assert_eq!(&batch[61..], &[22, 0, 0, 0, 1, 10, b'h', b'e', b'l', b'l', b'o', 0]);

        // As the broker returns it: base offset assigned.
        let mut stored = [0; 256];
        stored[..len].copy_from_slice(batch);
        stored[..8].copy_from_slice(&7i64.to_be_bytes());
        let r = first_record(&stored[..len], 0).unwrap().unwrap();
        assert_eq!(r, Record { offset: 7, value: Some(&b"hello"[..]) });
        assert_eq!(first_record(&stored[..len], 8).unwrap(), None);
        // A batch cut short by the broker's limit is ignored, not an error.
        assert_eq!(first_record(&stored[..len - 1], 0).unwrap(), None);
    }

    #[test]
    fn corrupt_batches_are_protocol_errors() {
        let mut out = [0; 256];
        let len = record_batch(b"hello", &mut out).unwrap();
        let mut bad = out;
        bad[len - 2] ^= 1;
        assert_eq!(first_record(&bad[..len], 0).unwrap_err().message, "protocol error: record batch CRC-32C mismatch");
        let mut bad = out;
        bad[16] = 1;
        assert_eq!(first_record(&bad[..len], 0).unwrap_err().kind, ErrorKind::ProtocolError);
        let mut bad = out;
        bad[8..12].copy_from_slice(&(-5i32).to_be_bytes());
        assert_eq!(first_record(&bad[..len], 0).unwrap_err().kind, ErrorKind::ProtocolError);
    }

    #[test]
    fn error_codes_are_typed_and_named() {
        let e = check(3, "orders").unwrap_err();
        assert_eq!(e.kind, ErrorKind::ProtocolError);
        assert_eq!(e.server.as_str(), "UNKNOWN_TOPIC_OR_PARTITION (3) on topic orders");
        assert_eq!(check(15, "t").unwrap_err().kind, ErrorKind::ServiceUnavailable);
        assert_eq!(check(29, "t").unwrap_err().kind, ErrorKind::AuthFailed);
        assert!(check(0, "t").is_ok());
    }
}
