//! The PostgreSQL client and the psql functions on the host (`run_on_host_with`) against a real
//! PostgreSQL 15 cluster: SCRAM-SHA-256 and md5 logins, the inventory text, purchases checked with
//! `psql`, concurrent buyers, and the failure modes (wrong password, stopped server, a server that
//! stalls or answers garbage).
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use functions::ErrorKind;
use functions::json::{HostError, run_on_host_with};
use functions::net::{Secret, Service};
use serde_json::{Value, json};
use support::fake::fake_server;
use support::postgres::{DATABASE, MD5_USER, PostgresServer, SEED, USER};

fn service<'a>(port: u16, user: &'a str, password: &'a str) -> Service<'a> {
    Service {
        user: Some(user),
        password: Some(Secret(password)),
        database: Some(DATABASE),
        ..Service::at("postgres", SocketAddrV4::new([127, 0, 0, 1].into(), port))
    }
}

fn run(name: &str, args: Value, port: u16, user: &str, password: &str) -> Result<Value, HostError> {
    run_on_host_with(name, &args, &[service(port, user, password)])
}

fn expected_inventory(server: &PostgresServer) -> String {
    let rows = server.psql(
        DATABASE,
        "SELECT id || ') ' || car_make || ' ' || car_model || ' ' || car_model_year || ': ' || number_in_stock \
         || ' in stock    ' FROM inventory ORDER BY id",
    );
    let total = server.psql(DATABASE, "SELECT sum(number_in_stock) FROM inventory");
    format!("{}Total cars in stock: {total}", rows.lines().collect::<String>())
}

#[test]
fn inventory_and_purchase_agree_with_the_server_over_scram_and_md5() {
    let server = PostgresServer::start();
    let pw = server.password.clone();
    let text = run("psql_inventory", json!({"a": 1}), server.port, USER, &pw).unwrap();
    let expected: String = SEED
        .iter()
        .map(|(id, make, model, year, n)| format!("{id}) {make} {model} {year}: {n} in stock    "))
        .collect();
    let total: i64 = SEED.iter().map(|s| s.4).sum();
    assert_eq!(text, json!(format!("{expected}Total cars in stock: {total}")));
    assert_eq!(text, json!(expected_inventory(&server)));
    // The argument is ignored, whatever it is.
    for args in [json!(null), json!({}), json!([1, 2]), json!("x")] {
        assert_eq!(run("psql_inventory", args, server.port, USER, &pw).unwrap(), text);
    }

    assert_eq!(run("psql_purchase", json!({"id": 2}), server.port, USER, &pw).unwrap(), json!(true));
    assert_eq!(server.in_stock(2), 1);
    // The md5 role reaches the same table.
    assert_eq!(run("psql_purchase", json!({"id": 2}), server.port, MD5_USER, &pw).unwrap(), json!(true));
    assert_eq!(server.in_stock(2), 0);
    assert_eq!(run("psql_purchase", json!({"id": 2}), server.port, USER, &pw).unwrap(), json!(false));
    assert_eq!(server.in_stock(2), 0);
    // An unknown id sells nothing.
    assert_eq!(run("psql_purchase", json!({"id": 999}), server.port, USER, &pw).unwrap(), json!(false));
    assert_eq!(run("psql_purchase", json!({"id": -1}), server.port, USER, &pw).unwrap(), json!(false));
    assert_eq!(
        run("psql_inventory", json!({"a": 1}), server.port, MD5_USER, &pw).unwrap(),
        json!(expected_inventory(&server))
    );
    // Which login path each role took, as the server stored the passwords.
    let stored = server.psql(
        "postgres",
        &format!(
            "SELECT rolname, left(rolpassword, 5) FROM pg_authid WHERE rolname IN ('{USER}', '{MD5_USER}') ORDER BY 1"
        ),
    );
    assert_eq!(stored, format!("{USER}|SCRAM\n{MD5_USER}|md5{}", &stored[stored.len() - 2..]));
}

#[test]
fn a_failing_statement_is_a_protocol_error_with_the_servers_message() {
    let server = PostgresServer::start();
    server.psql(DATABASE, "ALTER TABLE inventory RENAME TO stock");
    let e = run("psql_inventory", json!(null), server.port, USER, &server.password).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    assert!(e.message.ends_with("relation \"inventory\" does not exist"), "{}", e.message);
}

#[test]
fn bad_arguments_are_refused_before_connecting() {
    for args in [json!({}), json!({"id": "1"}), json!({"id": "1; DROP TABLE inventory"}), json!({"id": 1.5})] {
        let e = run("psql_purchase", args.clone(), 1, USER, "x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {e}");
    }
}

#[test]
fn concurrent_buyers_sell_exactly_what_is_in_stock() {
    let server = PostgresServer::start();
    let pw = server.password.clone();
    assert_eq!(server.in_stock(3), 3);
    let sold: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (port, pw) = (server.port, &pw);
                let user = if i % 2 == 0 { USER } else { MD5_USER };
                s.spawn(move || run("psql_purchase", json!({"id": 3}), port, user, pw).unwrap() == json!(true))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sold.iter().filter(|&&b| b).count(), 3, "{sold:?}");
    assert_eq!(server.in_stock(3), 0);
}

#[test]
fn wrong_password_is_auth_failed_with_the_servers_words() {
    let server = PostgresServer::start();
    for user in [USER, MD5_USER] {
        let e = run("psql_purchase", json!({"id": 1}), server.port, user, "wrong-secret").unwrap_err();
        assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
        assert!(e.message.contains("password authentication failed"), "{}", e.message);
        assert!(!e.message.contains("wrong-secret"), "{}", e.message);
    }
    let e = run("psql_inventory", json!(null), server.port, "nobody", "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert_eq!(server.in_stock(1), 5);
}

#[test]
fn a_stopped_server_is_service_unavailable() {
    let mut server = PostgresServer::start();
    let (port, pw) = (server.port, server.password.clone());
    server.stop();
    let started = Instant::now();
    let e = run("psql_purchase", json!({"id": 1}), port, USER, &pw).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("refused"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error() {
    let started = Instant::now();
    let e = run("psql_purchase", json!({"id": 1}), fake_server(None), USER, "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());

    let e = run("psql_purchase", json!({"id": 1}), fake_server(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")), USER, "x")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // An ErrorResponse during startup is the server's words, auth-failed for class 28.
    let e = run(
        "psql_purchase",
        json!({"id": 1}),
        fake_server(Some(b"E\0\0\0\x1dC28P01\0Mno entry for you\0\0")),
        USER,
        "x",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert!(e.message.ends_with("no entry for you"), "{}", e.message);
    // Closed mid-message.
    let e = run("psql_purchase", json!({"id": 1}), fake_server(Some(b"R\0\0\0\x0c")), USER, "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("closed"), "{}", e.message);
    // A SCRAM server-first that does not extend our nonce.
    let e = run(
        "psql_purchase",
        json!({"id": 1}),
        fake_server(Some(b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0R\0\0\0\x1b\0\0\0\x0br=evil,s=QQ==,i=4096")),
        USER,
        "x",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
}

#[test]
fn a_service_without_user_or_database_is_a_configuration_error() {
    let s = Service { database: None, ..service(1, USER, "x") };
    let e = run_on_host_with("psql_purchase", &json!({"id": 1}), &[s]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadArguments, "{e}");
    assert!(e.message.contains("database"), "{}", e.message);
}

/// A server that runs SCRAM without knowing the password: it sends `server_final` (or skips it)
/// and then AuthenticationOk, as an impostor would.
fn scram_impostor(server_final: Option<&'static [u8]>) -> u16 {
    fn message(conn: &mut std::net::TcpStream, typed: bool) -> Vec<u8> {
        let mut head = vec![0; if typed { 5 } else { 4 }];
        conn.read_exact(&mut head).unwrap();
        let len = u32::from_be_bytes(head[head.len() - 4..].try_into().unwrap()) as usize;
        let mut body = vec![0; len - 4];
        conn.read_exact(&mut body).unwrap();
        body
    }
    fn auth(code: u32, data: &[u8]) -> Vec<u8> {
        let mut m = vec![b'R'];
        m.extend(((8 + data.len()) as u32).to_be_bytes());
        m.extend(code.to_be_bytes());
        m.extend(data);
        m
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        message(&mut conn, false);
        conn.write_all(&auth(10, b"SCRAM-SHA-256\0\0")).unwrap();
        let first = message(&mut conn, true);
        let nonce = String::from_utf8_lossy(&first).split("r=").nth(1).unwrap().to_string();
        conn.write_all(&auth(11, format!("r={nonce}srv,s=QUJDRA==,i=4096").as_bytes())).unwrap();
        message(&mut conn, true);
        if let Some(last) = server_final {
            conn.write_all(&auth(12, last)).unwrap();
        }
        conn.write_all(&auth(0, b"")).unwrap();
        conn.write_all(b"Z\0\0\0\x05I").unwrap();
        let _ = std::io::copy(&mut conn, &mut std::io::sink());
    });
    port
}

#[test]
fn a_server_that_cannot_prove_it_knows_the_password_is_refused() {
    let cases = [
        (None, "auth failed: SCRAM without server proof"),
        (
            Some(&b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="[..]),
            "auth failed: the server's SCRAM signature is wrong",
        ),
    ];
    for (server_final, message) in cases {
        let e = run("psql_purchase", json!({"id": 1}), scram_impostor(server_final), USER, "x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::AuthFailed, "{server_final:?}: {e}");
        assert!(e.message.starts_with(message), "{}", e.message);
    }
}
