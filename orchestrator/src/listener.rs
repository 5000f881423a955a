//! Where workers connect: accept a connection, read and check its Hello.
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use functions::wire::{BootTimings, FromWorker, PROTOCOL_VERSION};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use crate::conn::WorkerConn;
use crate::link::{Link, LinkError};

/// A worker's Hello, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerHello {
    pub version: u16,
    pub worker: String,
    pub catalogue: u64,
    pub boot: BootTimings,
}

/// A worker that connected and passed the Hello checks.
pub struct Arrival {
    pub conn: WorkerConn,
    pub hello: WorkerHello,
    /// When the Hello frame was fully read.
    pub at: Instant,
}

/// Why a connection did not become a worker.
#[derive(Debug)]
pub enum HandshakeError {
    /// No Hello within the timeout.
    Timeout(Duration),
    Link(LinkError),
    /// The first frame was not a Hello.
    NotHello,
    Version {
        worker: String,
        version: u16,
    },
    Catalogue {
        worker: String,
        catalogue: u64,
    },
    /// The id is not usable as a worker id.
    BadId(String),
}

impl HandshakeError {
    /// The worker id the peer claimed, when it got that far.
    pub fn worker(&self) -> Option<&str> {
        match self {
            HandshakeError::Version { worker, .. } | HandshakeError::Catalogue { worker, .. } => Some(worker),
            _ => None,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Timeout(t) => write!(f, "no Hello within {:.1} s", t.as_secs_f64()),
            HandshakeError::Link(e) => write!(f, "before its Hello: {e}"),
            HandshakeError::NotHello => f.write_str("first frame is not a Hello"),
            HandshakeError::Version { worker, version } => {
                write!(f, "{worker} speaks protocol version {version}, we speak {PROTOCOL_VERSION}")
            }
            HandshakeError::Catalogue { worker, catalogue } => write!(
                f,
                "{worker} has catalogue {catalogue:016x}, ours is {:016x} (rebuild the image)",
                functions::catalogue_hash()
            ),
            HandshakeError::BadId(m) => write!(f, "bad worker id in Hello: {m}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Reads the first frame of a fresh connection and checks it is a Hello of our protocol version
/// and catalogue.
pub async fn handshake(stream: TcpStream, timeout: Duration) -> Result<Arrival, HandshakeError> {
    let _ = stream.set_nodelay(true);
    let mut link = Link::new(stream);
    let hello = match tokio::time::timeout(timeout, link.recv()).await {
        Err(_) => return Err(HandshakeError::Timeout(timeout)),
        Ok(Err(e)) => return Err(HandshakeError::Link(e)),
        Ok(Ok(FromWorker::Hello(h))) => {
            WorkerHello { version: h.version, worker: h.worker.to_string(), catalogue: h.catalogue, boot: h.boot }
        }
        Ok(Ok(FromWorker::Result(_))) => return Err(HandshakeError::NotHello),
    };
    let at = Instant::now();
    crate::config::validate_worker_id(&hello.worker).map_err(HandshakeError::BadId)?;
    if hello.version != PROTOCOL_VERSION {
        return Err(HandshakeError::Version { worker: hello.worker, version: hello.version });
    }
    if hello.catalogue != functions::catalogue_hash() {
        return Err(HandshakeError::Catalogue { worker: hello.worker, catalogue: hello.catalogue });
    }
    let conn = WorkerConn::new(link, hello.worker.clone());
    Ok(Arrival { conn, hello, at })
}

/// The TCP listener workers connect to.
pub struct WorkerListener {
    inner: TcpListener,
}

impl WorkerListener {
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<WorkerListener> {
        Ok(WorkerListener { inner: TcpListener::bind(addr).await? })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Accepts one raw connection (the scheduler handshakes each on its own task).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.inner.accept().await
    }

    /// Accepts one connection and reads its Hello (within `timeout` of the connection), for tools
    /// that boot one worker at a time (the boot benchmark). The arrival instant is in the result.
    pub async fn accept_hello(&self, timeout: Duration) -> Result<Arrival, HandshakeError> {
        let (stream, _) = self.accept().await.map_err(|e| HandshakeError::Link(LinkError::Io(e)))?;
        handshake(stream, timeout).await
    }
}

#[cfg(test)]
mod tests {
    use functions::wire::{self, FromWorker, Hello};
    use tokio::io::AsyncWriteExt;

    use super::*;

    async fn hello_result(version: u16, worker: &str, catalogue: u64) -> Result<Arrival, HandshakeError> {
        let listener = WorkerListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let worker = worker.to_string();
        let peer = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 128];
            let hello = Hello { version, worker: &worker, catalogue, boot: BootTimings::default() };
            let n = wire::encode(&FromWorker::Hello(hello), &mut buf).unwrap();
            stream.write_all(&buf[..n]).await.unwrap();
            stream
        });
        let result = listener.accept_hello(Duration::from_secs(2)).await;
        drop(peer.await);
        result
    }

    #[tokio::test]
    async fn a_good_hello_is_accepted_with_its_arrival_time() {
        let before = Instant::now();
        let arrival = hello_result(PROTOCOL_VERSION, "w3", functions::catalogue_hash()).await.unwrap();
        assert_eq!(arrival.hello.worker, "w3");
        assert_eq!(arrival.conn.worker(), "w3");
        assert!(arrival.at >= before);
    }

    #[tokio::test]
    async fn wrong_versions_catalogues_and_ids_are_refused_with_reasons() {
        let ours = functions::catalogue_hash();
        let e = hello_result(PROTOCOL_VERSION + 1, "w0", ours).await.err().unwrap();
        assert_eq!(e.worker(), Some("w0"));
        assert!(e.to_string().contains("protocol version"), "{e}");
        let e = hello_result(PROTOCOL_VERSION, "w0", ours ^ 1).await.err().unwrap();
        assert!(e.to_string().contains("catalogue"), "{e}");
        let e = hello_result(PROTOCOL_VERSION, "w 0;", ours).await.err().unwrap();
        assert!(matches!(e, HandshakeError::BadId(_)), "{e}");
    }

    #[tokio::test]
    async fn a_silent_connection_times_out() {
        let listener = WorkerListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _peer = TcpStream::connect(addr).await.unwrap();
        let e = listener.accept_hello(Duration::from_millis(50)).await.err().unwrap();
        assert!(matches!(e, HandshakeError::Timeout(_)), "{e}");
    }
}
