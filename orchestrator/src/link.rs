//! Frames over tokio: [`functions::wire`]'s length-prefixed postcard messages on a byte stream.
//!
//! Reading keeps its partial frame in the [`Link`], so a `recv` cancelled by a timeout or by the
//! worker's power going off loses nothing; the length is checked before any body byte is buffered.
use crate::config::GuestService;
use std::fmt;
use std::io;

use functions::wire::{self, FrameError, FromWorker, HEADER_LEN, MAX_FRAME, ToWorker};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a frame could not be exchanged.
#[derive(Debug)]
pub enum LinkError {
    /// The peer closed the connection (or it was reset).
    Closed,
    Io(io::Error),
    /// An oversize header or a body that does not decode: a protocol error.
    Frame(FrameError),
    /// A well-formed frame that is wrong at this point of the conversation.
    Unexpected(String),
}

impl LinkError {
    /// Whether the peer broke the protocol (as opposed to the connection going away).
    pub fn is_protocol(&self) -> bool {
        matches!(self, LinkError::Frame(_) | LinkError::Unexpected(_))
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Closed => f.write_str("connection closed"),
            LinkError::Io(e) => write!(f, "connection error: {e}"),
            LinkError::Frame(e) => write!(f, "protocol error: {e}"),
            LinkError::Unexpected(m) => write!(f, "protocol error: {m}"),
        }
    }
}

impl std::error::Error for LinkError {}

impl From<io::Error> for LinkError {
    fn from(e: io::Error) -> Self {
        use io::ErrorKind::*;
        match e.kind() {
            UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => LinkError::Closed,
            _ => LinkError::Io(e),
        }
    }
}

/// One framed byte stream (a worker's TCP connection in production).
pub struct Link<S = TcpStream> {
    stream: S,
    /// Received bytes: `buf[..filled]`, of which the first `consumed` belong to the last frame
    /// returned and are dropped on the next `recv`.
    buf: Box<[u8]>,
    filled: usize,
    consumed: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    pub fn new(stream: S) -> Self {
        Link { stream, buf: vec![0u8; HEADER_LEN + MAX_FRAME].into_boxed_slice(), filled: 0, consumed: 0 }
    }

    /// Sends one message to the worker.
    pub async fn send(&mut self, msg: &ToWorker<'_>) -> Result<(), LinkError> {
        let frame = encode_to_vec(msg)?;
        self.stream.write_all(&frame).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Receives one message from the worker. Cancel-safe.
    pub async fn recv(&mut self) -> Result<FromWorker<'_>, LinkError> {
        let body = self.recv_frame().await?;
        wire::decode(body).map_err(LinkError::Frame)
    }

    /// Receives one frame body. Cancel-safe.
    pub async fn recv_frame(&mut self) -> Result<&[u8], LinkError> {
        if self.consumed > 0 {
            self.buf.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
        let used = loop {
            if let Some((_, used)) = wire::split(&self.buf[..self.filled]).map_err(LinkError::Frame)? {
                break used;
            }
            // `split` refused anything larger than the buffer, so there is room for the rest.
            let n = self.stream.read(&mut self.buf[self.filled..]).await?;
            if n == 0 {
                return Err(LinkError::Closed);
            }
            self.filled += n;
        };
        self.consumed = used;
        Ok(&self.buf[HEADER_LEN..used])
    }
}

/// Encodes one message as a frame.
pub fn encode_to_vec(msg: &ToWorker<'_>) -> Result<Vec<u8>, LinkError> {
    let mut buf = vec![0u8; HEADER_LEN + MAX_FRAME];
    let n = wire::encode(msg, &mut buf).map_err(LinkError::Frame)?;
    buf.truncate(n);
    Ok(buf)
}

/// Whether an Invoke of `function` with these postcard arguments and services fits in one frame, so
/// the gateway can answer 413 before powering a worker on.
pub fn invoke_fits(function: &str, args: &[u8], services: &[GuestService]) -> bool {
    let Ok(services) = wire_services(services) else { return false };
    let msg = ToWorker::Invoke(wire::Invoke { call: u64::MAX, function, args, services, unix_time: u64::MAX });
    encode_to_vec(&msg).is_ok()
}

/// The services as they travel in an Invoke.
pub fn wire_services(services: &[GuestService]) -> Result<functions::net::Services<'_>, LinkError> {
    let mut out = functions::net::Services::new();
    for s in services {
        out.push(s.wire()).map_err(|_| LinkError::Unexpected("more services than an Invoke carries".into()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use functions::wire::{BootTimings, Hello};
    use tokio::io::duplex;

    use super::*;

    fn frame_from_worker(msg: &FromWorker<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; 256];
        let n = wire::encode(msg, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    fn hello(worker: &str) -> FromWorker<'_> {
        FromWorker::Hello(Hello { version: 1, worker, catalogue: 9, boot: BootTimings::default() })
    }

    #[tokio::test]
    async fn frames_arrive_whole_across_any_split() {
        let (mut peer, ours) = duplex(1024);
        let mut link = Link::new(ours);
        let mut bytes = frame_from_worker(&hello("w0"));
        bytes.extend(frame_from_worker(&hello("w1")));
        let writer = tokio::spawn(async move {
            for b in bytes {
                peer.write_all(&[b]).await.unwrap();
                tokio::task::yield_now().await;
            }
            peer
        });
        for id in ["w0", "w1"] {
            match link.recv().await.unwrap() {
                FromWorker::Hello(h) => assert_eq!(h.worker, id),
                other => panic!("{other:?}"),
            }
        }
        drop(writer.await.unwrap());
        assert!(matches!(link.recv().await, Err(LinkError::Closed)));
    }

    #[tokio::test]
    async fn an_oversize_header_is_a_protocol_error_without_reading_the_body() {
        let (mut peer, ours) = duplex(64);
        let mut link = Link::new(ours);
        peer.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
        let err = link.recv().await.unwrap_err();
        assert!(err.is_protocol(), "{err}");
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[tokio::test]
    async fn a_garbage_body_is_malformed() {
        let (mut peer, ours) = duplex(64);
        let mut link = Link::new(ours);
        peer.write_all(&[3, 0, 0, 0, 9, 9, 9]).await.unwrap();
        assert!(matches!(link.recv().await, Err(LinkError::Frame(FrameError::Malformed))));
    }

    #[tokio::test]
    async fn a_cancelled_recv_keeps_the_partial_frame() {
        let (mut peer, ours) = duplex(1024);
        let mut link = Link::new(ours);
        let bytes = frame_from_worker(&hello("w7"));
        peer.write_all(&bytes[..3]).await.unwrap();
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(20), link.recv()).await;
        assert!(timed_out.is_err());
        peer.write_all(&bytes[3..]).await.unwrap();
        assert!(matches!(link.recv().await.unwrap(), FromWorker::Hello(h) if h.worker == "w7"));
    }

    #[tokio::test]
    async fn sent_frames_decode_as_to_worker() {
        let (peer, ours) = duplex(1024);
        let mut link = Link::new(ours);
        link.send(&ToWorker::PowerOff).await.unwrap();
        drop(link);
        let mut got = Vec::new();
        let mut peer = peer;
        peer.read_to_end(&mut got).await.unwrap();
        let (body, used) = wire::split(&got).unwrap().unwrap();
        assert_eq!(used, got.len());
        assert_eq!(wire::decode::<ToWorker>(body), Ok(ToWorker::PowerOff));
    }

    #[test]
    fn invoke_fits_the_frame_cap() {
        assert!(invoke_fits("echo", &[0; 1000], &[]));
        assert!(!invoke_fits("echo", &vec![0; MAX_FRAME], &[]));
    }
}
