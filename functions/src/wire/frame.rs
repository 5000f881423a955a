//! Framing: a 4-byte little-endian body length, then the postcard body. The length is checked
//! against [`MAX_FRAME`] before any body byte is read, so a peer cannot make us buffer more.
use serde::{Deserialize, Serialize};

/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;
/// Largest body accepted in either direction.
pub const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The announced body is larger than [`MAX_FRAME`].
    Oversize(usize),
    /// The message does not fit the buffer or the cap.
    TooLarge,
    /// The body is not a valid message.
    Malformed,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::Oversize(n) => write!(f, "frame of {n} bytes exceeds the {MAX_FRAME}-byte cap"),
            FrameError::TooLarge => write!(f, "message does not fit in one frame"),
            FrameError::Malformed => write!(f, "malformed frame"),
        }
    }
}

impl core::error::Error for FrameError {}

/// Writes `msg` as one frame at the start of `buf`; returns the frame's length.
pub fn encode<T: Serialize>(msg: &T, buf: &mut [u8]) -> Result<usize, FrameError> {
    let cap = buf.len().min(HEADER_LEN + MAX_FRAME);
    if cap < HEADER_LEN {
        return Err(FrameError::TooLarge);
    }
    let body_len = postcard::to_slice(msg, &mut buf[HEADER_LEN..cap]).map_err(|_| FrameError::TooLarge)?.len();
    buf[..HEADER_LEN].copy_from_slice(&(body_len as u32).to_le_bytes());
    Ok(HEADER_LEN + body_len)
}

/// Splits the first complete frame off `buf`: `Ok(None)` while more bytes are needed, otherwise
/// the body and the number of bytes the frame took.
pub fn split(buf: &[u8]) -> Result<Option<(&[u8], usize)>, FrameError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let len = u32::from_le_bytes(*header) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::Oversize(len));
    }
    Ok(buf.get(HEADER_LEN..HEADER_LEN + len).map(|body| (body, HEADER_LEN + len)))
}

/// Decodes a frame body; trailing bytes make it malformed.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, FrameError> {
    match postcard::take_from_bytes(body) {
        Ok((msg, [])) => Ok(msg),
        _ => Err(FrameError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::wire::{BootTimings, CallResult, FromWorker, Hello, Invoke, Outcome, ToWorker, WireError, call_id_of};

    fn round_trip<'a, T: Serialize + Deserialize<'a> + PartialEq + core::fmt::Debug>(msg: &T, buf: &'a mut [u8]) {
        let n = encode(msg, buf).unwrap();
        let (body, used) = split(&buf[..n]).unwrap().unwrap();
        assert_eq!(used, n);
        let back: T = decode(body).unwrap();
        assert_eq!(&back, msg);
    }

    /// An `echo` Invoke with no services.
    fn echo_invoke(call: u64, args: &[u8]) -> ToWorker<'_> {
        ToWorker::Invoke(Invoke { call, function: "echo", args, services: Default::default(), unix_time: 0 })
    }

    #[test]
    fn every_message_round_trips() {
        let mut buf = [0u8; 256];
        round_trip(&echo_invoke(7, b"\x03abc"), &mut buf);
        let mut services = crate::net::Services::new();
        let redis = crate::net::Service {
            user: Some("default"),
            password: Some(crate::net::Secret("pw")),
            database: Some("0"),
            ..crate::net::Service::at("redis", "10.0.2.2:6379".parse().unwrap())
        };
        services.push(redis).unwrap();
        round_trip(
            &ToWorker::Invoke(Invoke { call: 8, function: "redis_insert", args: b"", services, unix_time: 1 }),
            &mut buf,
        );
        round_trip(&ToWorker::Reboot, &mut buf);
        round_trip(&ToWorker::PowerOff, &mut buf);
        let boot =
            BootTimings { init_start_us: 400_000, link_up_us: 401_000, address_us: 401_500, connected_us: 402_000 };
        round_trip(&FromWorker::Hello(Hello { version: 1, worker: "w0", catalogue: u64::MAX, boot }), &mut buf);
        round_trip(&FromWorker::Result(CallResult { call: 1, outcome: Outcome::Output(b"ok"), exec_ns: 5 }), &mut buf);
        let err = WireError { kind: ErrorKind::BadArguments, message: "rounds: too large" };
        round_trip(
            &FromWorker::Result(CallResult { call: u64::MAX, outcome: Outcome::Error(err), exec_ns: 0 }),
            &mut buf,
        );
    }

    #[test]
    fn truncated_frames_ask_for_more() {
        let mut buf = [0u8; 64];
        let n = encode(&echo_invoke(1, b"x"), &mut buf).unwrap();
        for cut in 0..n {
            assert_eq!(split(&buf[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(split(&buf[..n]).unwrap().is_some());
    }

    #[test]
    fn two_frames_in_one_buffer_split_in_order() {
        let mut buf = [0u8; 64];
        let a = encode(&ToWorker::Reboot, &mut buf).unwrap();
        let b = encode(&ToWorker::PowerOff, &mut buf[a..]).unwrap();
        let (body, used) = split(&buf[..a + b]).unwrap().unwrap();
        assert_eq!(decode::<ToWorker>(body), Ok(ToWorker::Reboot));
        let (body, _) = split(&buf[used..a + b]).unwrap().unwrap();
        assert_eq!(decode::<ToWorker>(body), Ok(ToWorker::PowerOff));
    }

    #[test]
    fn oversize_frames_are_refused_from_the_header_alone() {
        let header = ((MAX_FRAME + 1) as u32).to_le_bytes();
        assert_eq!(split(&header), Err(FrameError::Oversize(MAX_FRAME + 1)));
        assert_eq!(split(&u32::MAX.to_le_bytes()), Err(FrameError::Oversize(u32::MAX as usize)));
    }

    #[test]
    fn messages_larger_than_the_cap_do_not_encode() {
        let big = [0u8; MAX_FRAME];
        let mut buf = [0u8; MAX_FRAME + 64];
        let msg = echo_invoke(1, &big);
        assert_eq!(encode(&msg, &mut buf), Err(FrameError::TooLarge));
        assert_eq!(encode(&ToWorker::Reboot, &mut buf[..2]), Err(FrameError::TooLarge));
    }

    #[test]
    fn garbage_bodies_are_malformed_not_panics() {
        for body in [&b""[..], b"\x09", b"\x00\x01", b"\x00\x01\x05ec", b"\x01\x00"] {
            assert_eq!(decode::<ToWorker>(body), Err(FrameError::Malformed), "{body:?}");
        }
    }

    #[test]
    fn call_id_survives_a_broken_body() {
        let mut buf = [0u8; 64];
        let n = encode(&echo_invoke(300, b"x"), &mut buf).unwrap();
        // Cut the body just after the call id: the function name is gone.
        let body = &buf[HEADER_LEN..n];
        assert_eq!(call_id_of(&body[..3]), Some(300));
        assert!(decode::<ToWorker>(&body[..3]).is_err());
        assert_eq!(call_id_of(b"\x01"), None);
    }
}
