//! A real Kafka-protocol broker for tests: `tansu` with in-memory storage, listening (and
//! advertising) on a free loopback port; killed on drop. Topics are created with its own CLI, and
//! [`TansuServer::read`] is a second consumer (no group) for checking the broker's own view.
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use functions::clients::kafka::Kafka;
use functions::net::Service;
use functions::net::host::HostConnector;

pub struct TansuServer {
    pub port: u16,
    child: Option<Child>,
}

/// `~/.cargo/bin/tansu` (where `cargo xtask test` installs it), else whatever is on PATH.
fn tansu() -> PathBuf {
    let installed = PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo/bin/tansu");
    if installed.exists() { installed } else { PathBuf::from("tansu") }
}

impl TansuServer {
    pub fn start() -> TansuServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu is not installed (cargo xtask test installs it)");
        let server = TansuServer { port, child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(server.addr()).is_err() {
            assert!(Instant::now() < deadline, "tansu did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Creates `topic` with one partition, with tansu's own CLI.
    pub fn create_topic(&self, topic: &str) {
        let out = Command::new(tansu())
            .args([
                "topic",
                "create",
                topic,
                "--partitions",
                "1",
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "tansu topic create {topic}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The broker's view: the value at `offset` of partition 0 of `topic`, read by a second
    /// consumer that belongs to no group.
    pub fn read(&self, topic: &str, offset: i64) -> Option<String> {
        let mut net = HostConnector::new();
        let service = Service::at("kafka", SocketAddrV4::new([127, 0, 0, 1].into(), self.port));
        let mut kafka = Kafka::connect(&mut net, &service, "checker", 5_000).unwrap();
        let record = kafka.fetch(topic, 0, offset).unwrap()?;
        assert_eq!(record.offset, offset, "{topic}");
        Some(String::from_utf8(record.value.unwrap_or_default().to_vec()).unwrap())
    }

    /// The broker's view of what `group` committed on partition 0 of `topic`.
    pub fn committed(&self, group: &str, topic: &str) -> Option<i64> {
        let mut net = HostConnector::new();
        let service = Service::at("kafka", SocketAddrV4::new([127, 0, 0, 1].into(), self.port));
        let mut kafka = Kafka::connect(&mut net, &service, "checker", 5_000).unwrap();
        kafka.committed(group, topic, 0).unwrap()
    }

    /// Kills the broker now (for the "stopped server" cases).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TansuServer {
    fn drop(&mut self) {
        self.stop();
    }
}
