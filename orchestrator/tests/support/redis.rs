//! A real `redis-server` for tests: on a free loopback port, with a password, no persistence, in
//! its own temp dir; killed (and the dir removed) on drop.
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    pub password: String,
    child: Option<Child>,
    dir: PathBuf,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let password = format!("pw-{}-{port}", std::process::id());
        let dir = std::env::temp_dir().join(format!("mfaas-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--requirepass", &password])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed (cargo xtask test installs it)");
        let server = RedisServer { port, password, child: Some(child), dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(server.addr()).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's own view: `redis-cli GET key`.
    pub fn get(&self, key: &str) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "-a", &self.password, "--no-auth-warning", "GET", key])
            .output()
            .expect("redis-cli is not installed");
        assert!(out.status.success(), "redis-cli: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim_end().to_string()
    }

    /// Kills the server now (for the "stopped server" cases).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
