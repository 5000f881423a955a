//! A real PostgreSQL 15 for tests: a throwaway cluster in a temp dir, run as the `postgres` user
//! (initdb refuses root), on a free loopback port with its unix socket in the temp dir. Host
//! connections use SCRAM-SHA-256, except the role [`MD5_USER`], whose password is stored as md5
//! and which pg_hba sends through md5. Seeds `bostonautosales` with an `inventory` table. Stopped
//! (and the dir removed) on drop, so a failing test leaves no server behind.
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian's `postgresql-15` puts the server binaries (not on PATH).
pub const BIN: &str = "/usr/lib/postgresql/15/bin";
pub const DATABASE: &str = "bostonautosales";
/// The SCRAM role the functions use.
pub const USER: &str = "dealer";
/// A role whose password is md5, to test that path.
pub const MD5_USER: &str = "olddealer";

/// The seeded inventory: (id, make, model, year, in stock).
pub const SEED: &[(i64, &str, &str, i64, i64)] =
    &[(1, "Ford", "Mustang", 2020, 5), (2, "Toyota", "Corolla", 2018, 2), (3, "Honda", "Civic", 2021, 3)];

pub struct PostgresServer {
    pub port: u16,
    pub password: String,
    dir: PathBuf,
    running: bool,
}

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let password = format!("pw-{}-{port}", std::process::id());
        let dir = std::env::temp_dir().join(format!("mfaas-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir));
        let mut server = PostgresServer { port, password, dir, running: false };
        let data = server.data();
        as_postgres("initdb", &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"]);
        std::fs::write(
            Path::new(&data).join("pg_hba.conf"),
            format!(
                "local all all trust\nhost all {MD5_USER} 127.0.0.1/32 md5\nhost all all 127.0.0.1/32 scram-sha-256\n"
            ),
        )
        .unwrap();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c password_encryption=scram-sha-256 -c fsync=off",
            server.dir.display()
        );
        let log = server.dir.join("log").display().to_string();
        as_postgres("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "start"]);
        server.running = true;
        let pw = &server.password;
        server.psql(
            "postgres",
            &format!(
                "CREATE ROLE {USER} LOGIN PASSWORD '{pw}'; SET password_encryption = 'md5'; \
                 CREATE ROLE {MD5_USER} LOGIN PASSWORD '{pw}';"
            ),
        );
        server.psql("postgres", &format!("CREATE DATABASE {DATABASE} OWNER {USER}"));
        let mut seed = String::from(
            "CREATE TABLE inventory (id serial primary key, car_make text, car_model text, \
             car_model_year int, number_in_stock int);",
        );
        for (id, make, model, year, n) in SEED {
            seed += &format!("INSERT INTO inventory VALUES ({id}, '{make}', '{model}', {year}, {n});");
        }
        seed += &format!(
            "SELECT setval('inventory_id_seq', 100); ALTER TABLE inventory OWNER TO {USER}; \
             GRANT ALL ON inventory TO {MD5_USER};"
        );
        server.psql(DATABASE, &seed);
        server
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// The server's own view: `psql -At -c sql` over the unix socket, as the superuser.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = run(Command::new("psql")
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", database, "-c", sql]));
        String::from_utf8(out.stdout).unwrap().trim_end_matches('\n').to_string()
    }

    /// `number_in_stock` of car `id`, as the server sees it.
    pub fn in_stock(&self, id: i64) -> i64 {
        self.psql(DATABASE, &format!("SELECT number_in_stock FROM inventory WHERE id = {id}")).parse().unwrap()
    }

    /// Stops the server now (for the "stopped server" cases).
    pub fn stop(&mut self) {
        if std::mem::take(&mut self.running) {
            let data = self.data();
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--", &format!("{BIN}/pg_ctl"), "-D", &data, "-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn as_postgres(bin: &str, args: &[&str]) -> Output {
    run(Command::new("runuser").args(["-u", "postgres", "--", &format!("{BIN}/{bin}")]).args(args))
}

fn run(command: &mut Command) -> Output {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e} (cargo xtask test installs postgresql)"));
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
