//! The Kafka client and functions on the host (`run_on_host_with`): failure modes against fake
//! brokers (a stall, garbage, an early close, error codes), a stopped broker, and the round trip
//! against a real `tansu` broker checked with a second consumer.
mod support;

use std::net::{SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use functions::ErrorKind;
use functions::json::{HostError, run_on_host_with};
use functions::net::Service;
use serde_json::{Value, json};
use support::fake_kafka::{Answer, fake_broker, produce_response};
use support::tansu::TansuServer;

fn v4(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new([127, 0, 0, 1].into(), port)
}

fn run(name: &str, args: Value, port: u16) -> Result<Value, HostError> {
    run_on_host_with(name, &args, &[Service::at("kafka", v4(port))])
}

#[test]
fn error_codes_are_typed_and_named() {
    let port = fake_broker(Answer::Body(|| produce_response(3)));
    let e = run("upload_kafka", json!({"topic": "t", "message": "m"}), port).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    assert!(e.message.contains("UNKNOWN_TOPIC_OR_PARTITION (3) on topic t"), "{}", e.message);
    let port = fake_broker(Answer::Body(|| produce_response(5)));
    let e = run("upload_kafka", json!({"topic": "t", "message": "m"}), port).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("LEADER_NOT_AVAILABLE"), "{}", e.message);
    let port = fake_broker(Answer::Body(|| produce_response(0)));
    assert_eq!(
        run("upload_kafka", json!({"topic": "t", "message": "m"}), port).unwrap(),
        json!({"partition": 0, "offset": -1})
    );
}

#[test]
fn a_stalling_broker_times_out_and_garbage_is_a_protocol_error() {
    let started = Instant::now();
    let e = run("read_kafka", json!({"topic": "t", "groupID": "g"}), fake_broker(Answer::Stall)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());

    // An HTTP server: its first four bytes read as a huge size.
    let e =
        run("upload_kafka", json!({"topic": "t", "message": "m"}), fake_broker(Answer::Raw(b"HTTP/1.1 400 Bad\r\n")))
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // A response for another request.
    let e = run(
        "upload_kafka",
        json!({"topic": "t", "message": "m"}),
        fake_broker(Answer::Raw(&[0, 0, 0, 4, 0, 0, 0, 99])),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // A well-framed body that ends too soon.
    let e = run("upload_kafka", json!({"topic": "t", "message": "m"}), fake_broker(Answer::Body(|| vec![0, 0, 0, 1])))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // Closed mid-response.
    let e = run("upload_kafka", json!({"topic": "t", "message": "m"}), fake_broker(Answer::Raw(&[0, 0, 0, 40, 0])))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("closed"), "{}", e.message);
}

#[test]
fn a_stopped_broker_is_service_unavailable() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = run("upload_kafka", json!({"topic": "t", "message": "m"}), port).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("refused"), "{}", e.message);
}

#[test]
fn bad_arguments_and_a_missing_service() {
    for (name, args) in [
        ("upload_kafka", json!({"topic": "t"})),
        ("upload_kafka", json!({"topic": "", "message": "m"})),
        ("upload_kafka", json!({"topic": "t", "message": "m".repeat(1025)})),
        ("upload_kafka", json!({"topic": "t".repeat(250), "message": "m"})),
        ("read_kafka", json!({"topic": "t"})),
        ("read_kafka", json!({"groupID": ""})),
    ] {
        let e = run(name, args.clone(), 1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {e}");
    }
    // No topic and no default topic in the service's config.
    let e = run("read_kafka", json!({"groupID": "g"}), 1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadArguments, "{e}");
    assert!(e.message.contains("no topic"), "{}", e.message);
    let e = run_on_host_with("read_kafka", &json!({"groupID": "g"}), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable);
    assert!(e.message.contains("not configured"), "{}", e.message);
}

fn service(server: &TansuServer, default_topic: Option<&'static str>) -> Service<'static> {
    Service { database: default_topic, ..Service::at("kafka", v4(server.port)) }
}

#[test]
fn upload_and_read_agree_with_the_broker() {
    let server = TansuServer::start();
    server.create_topic("orders");
    let services = [service(&server, Some("orders"))];
    let run = |name: &str, args: Value| run_on_host_with(name, &args, &services);
    for (i, message) in ["first", "second", "third ✓"].into_iter().enumerate() {
        let started = Instant::now();
        let out = run("upload_kafka", json!({"topic": "orders", "message": message, "groupID": "g"})).unwrap();
        eprintln!("host upload_kafka: {:?}", started.elapsed());
        assert_eq!(out, json!({"partition": 0, "offset": i}));
        assert_eq!(server.read("orders", i as i64).as_deref(), Some(message));
    }
    assert_eq!(server.read("orders", 3), None);

    // A group reads each record once, in order, committing past it; then null.
    assert_eq!(server.committed("readers", "orders"), None);
    let started = Instant::now();
    assert_eq!(run("read_kafka", json!({"topic": "orders", "groupID": "readers"})).unwrap(), json!("first"));
    eprintln!("host read_kafka: {:?}", started.elapsed());
    assert_eq!(server.committed("readers", "orders"), Some(1));
    // Without `topic`, the service's default topic (its `database`).
    assert_eq!(run("read_kafka", json!({"groupID": "readers", "consumerID": "c1"})).unwrap(), json!("second"));
    assert_eq!(run("read_kafka", json!({"topic": "orders", "groupID": "readers"})).unwrap(), json!("third ✓"));
    assert_eq!(server.committed("readers", "orders"), Some(3));
    assert_eq!(run("read_kafka", json!({"topic": "orders", "groupID": "readers"})).unwrap(), Value::Null);
    assert_eq!(server.committed("readers", "orders"), Some(3));
    // Another group starts from the beginning.
    assert_eq!(run("read_kafka", json!({"topic": "orders", "groupID": "others"})).unwrap(), json!("first"));
    // A record produced later is read next.
    assert_eq!(run("upload_kafka", json!({"topic": "orders", "message": "late"})).unwrap()["offset"], json!(3));
    assert_eq!(run("read_kafka", json!({"topic": "orders", "groupID": "readers"})).unwrap(), json!("late"));
}

#[test]
fn a_missing_topic_is_a_typed_error_naming_it_until_a_produce_creates_it() {
    let server = TansuServer::start();
    let services = [service(&server, None)];
    let e = run_on_host_with("read_kafka", &json!({"topic": "no-such-topic", "groupID": "g"}), &services).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    assert!(e.message.contains("UNKNOWN_TOPIC_OR_PARTITION") && e.message.contains("no-such-topic"), "{}", e.message);
    // tansu creates a topic on its first produce (as Kafka's auto.create.topics.enable does).
    let out = run_on_host_with("upload_kafka", &json!({"topic": "new-topic", "message": "m"}), &services).unwrap();
    assert_eq!(out, json!({"partition": 0, "offset": 0}));
    assert_eq!(server.read("new-topic", 0).as_deref(), Some("m"));
}

#[test]
fn a_stopped_real_broker_is_service_unavailable() {
    let mut server = TansuServer::start();
    server.create_topic("t");
    let services = [service(&server, None)];
    assert!(run_on_host_with("upload_kafka", &json!({"topic": "t", "message": "m"}), &services).is_ok());
    server.stop();
    let started = Instant::now();
    let e = run_on_host_with("upload_kafka", &json!({"topic": "t", "message": "m"}), &services).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
}
