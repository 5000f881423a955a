//! The data-plane benchmark (`cargo xtask bench dataplane [--reps N]`): every function that talks
//! to a server, run against real servers started here on loopback (the tests' own helpers:
//! redis-server, PostgreSQL 15, s3s-fs, tansu), timed
//! two ways side by side:
//! - on a worker (a fresh QEMU boot per invocation, as `microfaas serve` runs them): the init's
//!   execution time, which covers connecting, authenticating and the exchange over smoltcp and
//!   QEMU's user network;
//! - on the host, the same function through `run_on_host_with` over std sockets.
//!
//! Medians of N invocations each.
#[path = "../tests/support/mod.rs"]
mod support;

use std::error::Error;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use functions::net::{Secret, Service};
use orchestrator::client::Client;
use orchestrator::config::{Secret as ConfigSecret, ServiceConfig};
use orchestrator::{Config, Orchestrator};
use serde_json::{Value, json};
use support::postgres::{DATABASE, PostgresServer, USER};
use support::redis::RedisServer;
use support::s3::{BUCKET, S3Server};
use support::tansu::TansuServer;

type Res<T> = Result<T, Box<dyn Error>>;

/// (function, request body).
fn payloads() -> Vec<(&'static str, Value)> {
    vec![
        ("redis_insert", json!({"id": 1, "balance": 1000})),
        ("redis_modify", json!({"id": 1, "spend": 1})),
        ("psql_inventory", json!({"a": 1})),
        ("psql_purchase", json!({"id": 1})),
        ("upload_file", json!({"file": "hello.txt"})),
        ("download_file", json!({"file": "hello.txt"})),
        ("upload_kafka", json!({"topic": "bench", "message": "microfaas"})),
        // Reads what upload_kafka produced, one record per call, as a group member.
        ("read_kafka", json!({"topic": "bench", "groupID": "bench"})),
    ]
}

fn main() -> Res<()> {
    let reps: usize = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => 5,
        [flag, n] if flag == "--reps" => n.parse()?,
        _ => return Err("usage: bench_dataplane [--reps N]".into()),
    };
    let redis = RedisServer::start();
    let postgres = PostgresServer::start();
    // Enough stock that every purchase sells one.
    postgres.psql(DATABASE, "UPDATE inventory SET number_in_stock = 1000000 WHERE id = 1");
    let s3 = S3Server::start();
    let kafka = TansuServer::start();
    kafka.create_topic("bench");

    let host_services = [
        Service { password: Some(Secret(&redis.password)), ..Service::at("redis", v4(redis.port)) },
        Service {
            user: Some(USER),
            password: Some(Secret(&postgres.password)),
            database: Some(DATABASE),
            ..Service::at("postgres", v4(postgres.port))
        },
        Service {
            user: Some(&s3.access_key),
            password: Some(Secret(&s3.secret_key)),
            bucket: Some(BUCKET),
            ..Service::at("s3", v4(s3.port))
        },
        Service::at("kafka", v4(kafka.port)),
    ];

    let mut config = Config::embedded().with_qemu_workers(1);
    config.http.set_port(0);
    config.worker_listen.set_port(0);
    config.log_dir = Some(config.log_dir().join("bench"));
    let service =
        |port: u16, user: Option<&str>, password: &str, database: Option<&str>, bucket: Option<&str>| ServiceConfig {
            address: format!("127.0.0.1:{port}"),
            user: user.map(Into::into),
            password: Some(ConfigSecret::new(password)),
            database: database.map(Into::into),
            bucket: bucket.map(Into::into),
            region: None,
        };
    config.services.insert("redis".into(), service(redis.port, None, &redis.password, None, None));
    config
        .services
        .insert("postgres".into(), service(postgres.port, Some(USER), &postgres.password, Some(DATABASE), None));
    config.services.insert("s3".into(), service(s3.port, Some(&s3.access_key), &s3.secret_key, None, Some(BUCKET)));
    let kafka_service = ServiceConfig { password: None, ..service(kafka.port, None, "", None, None) };
    config.services.insert("kafka".into(), kafka_service);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let orchestrator = runtime.block_on(Orchestrator::start(&config))?;
    let client = Client::new(&orchestrator.url(), Some(Duration::from_secs(60)));

    println!("{reps} invocations per function; each worker invocation is a fresh boot");
    println!();
    println!("{:<16} {:>14} {:>12} {:>10}", "function", "worker ms", "host ms", "wkr/host");
    for (name, body) in payloads() {
        let mut worker = Vec::new();
        let mut host = Vec::new();
        for _ in 0..reps {
            let answer = client.invoke(name, &body.to_string())?;
            if !answer.is_ok() {
                return Err(format!("{name} on a worker: {} {}", answer.status, answer.body).into());
            }
            worker.push(Duration::from_secs_f64(answer.exec.ok_or("no X-Exec-Seconds header")?));
            let started = Instant::now();
            functions::json::run_on_host_with(name, &body, &host_services)?;
            host.push(started.elapsed());
        }
        let (w, h) = (median_ms(&mut worker), median_ms(&mut host));
        println!("{name:<16} {w:>14.3} {h:>12.3} {:>10.1}", w / h.max(1e-6));
    }
    runtime.block_on(orchestrator.shutdown());
    Ok(())
}

fn v4(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new([127, 0, 0, 1].into(), port)
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default().as_secs_f64() * 1e3
}
