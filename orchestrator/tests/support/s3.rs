//! A real `s3s-fs` for tests: on a free loopback port, checking signatures with its own access key
//! pair, serving a temp root dir in which each bucket is a directory; killed (and the dir removed)
//! on drop.
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket every test uses (created as a directory before the server starts).
pub const BUCKET: &str = "microfaas";

pub struct S3Server {
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    /// The server's root: `root/<bucket>/<key>` is an object.
    pub root: PathBuf,
    child: Option<Child>,
}

/// Where `cargo xtask test` installs it.
pub fn binary() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin/s3s-fs")
}

impl S3Server {
    pub fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let root = std::env::temp_dir().join(format!("mfaas-s3-{}-{port}", std::process::id()));
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let access_key = format!("AK{}X{port}", std::process::id());
        let secret_key = format!("sk-{}-{port}-secret", std::process::id());
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs is not installed (cargo xtask test installs it)");
        let server = S3Server { port, access_key, secret_key, root, child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(server.addr()).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's own view: the object's bytes on disk (`None` if there is no such object).
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(BUCKET).join(key)).ok()
    }

    /// Puts an object behind the client's back, as a file in the bucket's directory.
    pub fn put_file(&self, key: &str, bytes: &[u8]) {
        std::fs::write(self.root.join(BUCKET).join(key), bytes).unwrap();
    }

    /// `sha256sum` of the object's file.
    pub fn sha256sum(&self, key: &str) -> String {
        let out = Command::new("sha256sum").arg(self.root.join(BUCKET).join(key)).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    }

    /// Kills the server now (for the "stopped server" cases).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
