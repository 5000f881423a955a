//! The S3 client and `upload_file` / `download_file` on the host (`run_on_host_with`) against a
//! real `s3s-fs`, checked against the server's own view (the object's bytes in its root dir),
//! including the failure modes: a wrong secret key, a stopped server, a missing object, an object
//! over the cap, a server that answers garbage and one that stalls.
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use functions::ErrorKind;
use functions::json::{HostError, run_on_host_with};
use functions::net::{Secret, Service};
use serde_json::{Value, json};
use support::s3::{BUCKET, S3Server};

fn v4(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new([127, 0, 0, 1].into(), port)
}

fn run_as(name: &str, args: Value, port: u16, access_key: &str, secret_key: &str) -> Result<Value, HostError> {
    let service = Service {
        user: Some(access_key),
        password: Some(Secret(secret_key)),
        bucket: Some(BUCKET),
        ..Service::at("s3", v4(port))
    };
    run_on_host_with(name, &args, &[service])
}

fn run(name: &str, args: Value, server: &S3Server) -> Result<Value, HostError> {
    run_as(name, args, server.port, &server.access_key, &server.secret_key)
}

fn md5sum(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("mfaas-s3-md5-{}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("md5sum").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[test]
fn uploads_land_on_the_servers_disk_and_download_back() {
    let server = S3Server::start();
    let sample = include_bytes!("../../functions/src/catalogue/s3_files/inventory.csv");
    let out = run("upload_file", json!({"file": "inventory.csv"}), &server).unwrap();
    assert_eq!(out["bytes"], json!(sample.len()));
    assert_eq!(server.object("inventory.csv").unwrap(), sample);
    assert_eq!(out["etag"], json!(md5sum(sample)));

    // Given data, any name; the key is URI-encoded for the signature and the path.
    let data = "fünf Äpfel, 5 apples & 1 pear\n".repeat(20);
    let key = "notes 1+1=2 (ü).txt";
    let out = run("upload_file", json!({"file": key, "data": data}), &server).unwrap();
    assert_eq!(out["bytes"], json!(data.len()));
    assert_eq!(server.object(key).unwrap(), data.as_bytes());

    // A long key, all of it percent-encoded (s3s-fs names a metadata file after the key's base64,
    // which caps its keys near 170 bytes; the client's 256-byte cap is checked in its unit tests).
    let long = "é".repeat(75);
    run("upload_file", json!({"file": long, "data": "long"}), &server).unwrap();
    assert_eq!(server.object(&long).unwrap(), b"long");

    for key in ["inventory.csv", key, &long] {
        let out = run("download_file", json!({"file": key}), &server).unwrap();
        assert_eq!(out["bytes"], json!(server.object(key).unwrap().len()));
        assert_eq!(out["sha256"], json!(server.sha256sum(key)), "{key}");
    }

    // The largest object allowed, put behind the client's back, downloads whole.
    let big: Vec<u8> = (0..32 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    server.put_file("big.bin", &big);
    let out = run("download_file", json!({"file": "big.bin"}), &server).unwrap();
    assert_eq!(out, json!({"bytes": big.len(), "sha256": server.sha256sum("big.bin")}));
}

#[test]
fn bad_arguments_are_refused_before_connecting() {
    for (name, args, field) in [
        ("upload_file", json!({"file": "unknown.txt"}), "file"),
        ("upload_file", json!({"file": "", "data": "x"}), "file"),
        ("upload_file", json!({"file": "a", "data": "x".repeat(32 * 1024 + 1)}), "data"),
        ("download_file", json!({"file": "k".repeat(257)}), "file"),
        ("download_file", json!({}), "file"),
    ] {
        let e = run_as(name, args.clone(), 1, "ak", "sk").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {e}");
        assert!(e.message.contains(field), "{args}: {}", e.message);
    }
}

#[test]
fn a_missing_object_is_a_failure_with_s3s_code() {
    let server = S3Server::start();
    let e = run("download_file", json!({"file": "nothing-here"}), &server).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(e.message.contains("NoSuchKey"), "{}", e.message);
}

#[test]
fn an_object_over_the_cap_is_a_protocol_error() {
    let server = S3Server::start();
    server.put_file("huge.bin", &vec![1u8; 32 * 1024 + 1]);
    let e = run("download_file", json!({"file": "huge.bin"}), &server).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    assert!(e.message.contains("size cap"), "{}", e.message);
}

#[test]
fn a_wrong_secret_is_auth_failed_with_the_servers_words() {
    let server = S3Server::start();
    let wrong = "not-the-secret-key";
    let e = run_as("upload_file", json!({"file": "hello.txt"}), server.port, &server.access_key, wrong).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert!(e.message.contains("SignatureDoesNotMatch"), "{}", e.message);
    assert!(!e.message.contains(wrong), "{}", e.message);
    assert_eq!(server.object("hello.txt"), None);
    let e = run_as("download_file", json!({"file": "hello.txt"}), server.port, "nobody", wrong).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
}

#[test]
fn a_stopped_server_is_service_unavailable() {
    let mut server = S3Server::start();
    server.stop();
    let started = Instant::now();
    let e = run("upload_file", json!({"file": "hello.txt"}), &server).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A fake server that reads the request and answers `reply` (or nothing, holding the connection).
fn fake_server(reply: Option<&'static [u8]>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        match reply {
            Some(reply) => {
                let _ = conn.write_all(reply);
            }
            None => std::thread::sleep(Duration::from_secs(8)),
        }
    });
    port
}

#[test]
fn garbage_and_early_close_are_typed_errors() {
    let port = fake_server(Some(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    let e = run_as("download_file", json!({"file": "a"}), port, "ak", "sk").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    let port = fake_server(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort"));
    let e = run_as("download_file", json!({"file": "a"}), port, "ak", "sk").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    let port = fake_server(Some(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 3\r\n\r\nnah"));
    let e = run_as("download_file", json!({"file": "a"}), port, "ak", "sk").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    assert!(e.message.contains("HTTP 500"), "{}", e.message);
}

#[test]
fn a_stalled_server_times_out() {
    let port = fake_server(None);
    let started = Instant::now();
    let e = run_as("download_file", json!({"file": "a"}), port, "ak", "sk").unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(7));
}
