//! The Kafka functions on real workers: a QEMU guest's init reaches brokers on the host's loopback
//! through QEMU user networking (10.0.2.2): a real `tansu` broker, whose own view (a second consumer
//! on the host, the group's committed offset) agrees, and fake brokers for the on-worker client's
//! answers to an error code, a stall and garbage.
//!
//! Needs the artifacts and `tansu` (`cargo xtask test` installs them).
mod support;

use orchestrator::config::ServiceConfig;
use serde_json::{Value, json};
use support::fake_kafka::{Answer, fake_broker, one_record_broker, produce_response};
use support::live::{Live, SERIAL, service_at};
use support::tansu::TansuServer;

/// `[services.kafka]` at `address`, default topic `orders`.
fn worker_at(address: &str) -> Live {
    Live::start(1, "kafka", ServiceConfig { database: Some("orders".into()), ..service_at(address) }, 20.0)
}

#[test]
fn a_worker_reports_broker_errors_stalls_and_garbage() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ok = fake_broker(Answer::Body(|| produce_response(0)));
    let live = worker_at(&format!("127.0.0.1:{ok}"));
    let a = live.post("upload_kafka", json!({"topic": "t", "message": "hello"}));
    assert_eq!((a.status, a.body.as_str()), (200, r#"{"offset":-1,"partition":0}"#), "{a:?}");
    live.stop();

    // OffsetFetch, Fetch (a record batch to parse and CRC-check on the worker), OffsetCommit.
    let one = fake_broker(Answer::ByApi(one_record_broker));
    let live = worker_at(&format!("127.0.0.1:{one}"));
    let a = live.post("read_kafka", json!({"topic": "t", "groupID": "g"}));
    assert_eq!((a.status, a.body.as_str()), (200, r#""hello""#), "{a:?}");
    live.stop();

    let missing = fake_broker(Answer::Body(|| produce_response(3)));
    let live = worker_at(&format!("127.0.0.1:{missing}"));
    let a = live.post("upload_kafka", json!({"topic": "t", "message": "hello"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("UNKNOWN_TOPIC_OR_PARTITION (3) on topic t"), "{}", a.body);
    live.stop();

    let stall = fake_broker(Answer::Stall);
    let live = worker_at(&format!("127.0.0.1:{stall}"));
    let a = live.post("read_kafka", json!({"groupID": "g"}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let garbage = fake_broker(Answer::Raw(b"HTTP/1.1 400 Bad Request\r\n\r\n"));
    let live = worker_at(&format!("127.0.0.1:{garbage}"));
    let a = live.post("upload_kafka", json!({"topic": "t", "message": "hello"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}

#[test]
fn kafka_functions_on_a_worker_agree_with_the_broker_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = TansuServer::start();
    server.create_topic("orders");
    let live = worker_at(&server.addr().to_string());

    for (i, message) in ["one", "two"].into_iter().enumerate() {
        let a = live.post("upload_kafka", json!({"topic": "orders", "message": message, "groupID": "g"}));
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(serde_json::from_str::<Value>(&a.body).unwrap(), json!({"partition": 0, "offset": i}));
        assert_eq!(server.read("orders", i as i64).as_deref(), Some(message));
        eprintln!("worker upload_kafka exec {:?} s", a.exec);
    }
    let a = live.post("read_kafka", json!({"topic": "orders", "groupID": "readers"}));
    assert_eq!((a.status, a.body.as_str()), (200, "\"one\""), "{a:?}");
    eprintln!("worker read_kafka exec {:?} s", a.exec);
    assert_eq!(server.committed("readers", "orders"), Some(1));
    // The service's default topic.
    let a = live.post("read_kafka", json!({"groupID": "readers", "consumerID": "worker-1"}));
    assert_eq!((a.status, a.body.as_str()), (200, "\"two\""), "{a:?}");
    let a = live.post("read_kafka", json!({"groupID": "readers"}));
    assert_eq!((a.status, a.body.as_str()), (200, "null"), "{a:?}");
    assert_eq!(server.committed("readers", "orders"), Some(2));

    // A missing topic: the broker's error code, naming the topic, as a 502.
    let a = live.post("read_kafka", json!({"topic": "no-such-topic", "groupID": "readers"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("UNKNOWN_TOPIC_OR_PARTITION") && a.body.contains("no-such-topic"), "{}", a.body);

    // A stopped broker: 503 well within the invocation timeout; the worker still serves.
    server.stop();
    let a = live.post("upload_kafka", json!({"topic": "orders", "message": "m"}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.exec.unwrap_or(99.0) < 10.0, "{a:?}");
    let a = live.post("echo", json!({"still": "alive"}));
    assert_eq!(a.status, 200, "{a:?}");
    live.stop();
}
