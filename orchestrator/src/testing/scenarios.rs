//! The orchestrator end to end (HTTP → scheduler → worker protocol) with fake workers: every way
//! an invocation can go, without QEMU.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use functions::ErrorKind;
use serde_json::json;

use super::{Behaviour, Counters, FakePower};
use crate::client::{Client, Invocation};
use crate::config::Config;
use crate::pool::WorkerState;
use crate::server::Orchestrator;

struct Harness {
    orchestrator: Orchestrator,
    client: Client,
    counters: Arc<Counters>,
}

impl Harness {
    async fn start(workers: usize, script: Vec<Behaviour>, tweak: impl FnOnce(&mut Config)) -> Harness {
        let mut config = Config::embedded().with_qemu_workers(workers);
        config.http.set_port(0);
        config.worker_listen.set_port(0);
        // Fake paths: nothing here may ever start QEMU.
        config.artifacts = Some("/nonexistent/artifacts".into());
        config.boot_timeout_secs = 1.0;
        config.invoke_timeout_secs = 2.0;
        config.power_off_grace_secs = 0.3;
        tweak(&mut config);
        let counters = Arc::new(Counters::default());
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (c, s) = (counters.clone(), script.clone());
        let orchestrator = Orchestrator::start_with_power(&config, move |_, worker, port| {
            Box::new(FakePower::new(&worker.id, SocketAddr::from(([127, 0, 0, 1], port)), s.clone(), c.clone()))
        })
        .await
        .unwrap();
        let client = Client::new(&orchestrator.url(), Some(Duration::from_secs(20)));
        Harness { orchestrator, client, counters }
    }

    async fn post(&self, name: &str, body: &str) -> Invocation {
        let (client, name, body) = (self.client.clone(), name.to_string(), body.to_string());
        tokio::task::spawn_blocking(move || client.invoke(&name, &body).unwrap()).await.unwrap()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let (client, path) = (self.client.clone(), path.to_string());
        tokio::task::spawn_blocking(move || client.get(&path).unwrap()).await.unwrap()
    }

    fn boots(&self) -> usize {
        self.counters.boots.load(Ordering::SeqCst)
    }

    fn invokes(&self) -> usize {
        self.counters.invokes.load(Ordering::SeqCst)
    }

    /// Waits until every worker is off again (the invocation's task outlives its HTTP answer).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.orchestrator.workers().iter().any(|w| w.state != WorkerState::Off) {
            assert!(Instant::now() < deadline, "workers not off: {:?}", self.orchestrator.workers());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn stop(self) {
        let last = self.orchestrator.shutdown().await;
        assert!(last.iter().all(|w| w.state == WorkerState::Off), "{last:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_boots_runs_and_powers_off_with_timing_headers() {
    let h = Harness::start(2, vec![], |_| {}).await;
    let args = json!({"data": "microfaas", "rounds": 10});
    let answer = h.post("cascading_sha256", &args.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let expected = functions::json::run_on_host("cascading_sha256", &args).unwrap();
    assert_eq!(answer.json().unwrap(), expected);
    assert!(answer.call_id.is_some());
    assert!(answer.worker.as_deref().is_some_and(|w| w.starts_with('w')));
    for (name, value) in
        [("duration", answer.duration), ("exec", answer.exec), ("boot", answer.boot), ("queue", answer.queue)]
    {
        assert!(value.is_some_and(|v| v >= 0.0), "{name}: {answer:?}");
    }
    assert_eq!(answer.exec, Some(0.000001));
    h.settle().await;
    assert_eq!((h.boots(), h.invokes()), (1, 1));
    let echo = h.post("echo", r#"{"a": [1, "two", null]}"#).await;
    assert_eq!(echo.json().unwrap(), json!({"a": [1, "two", null]}));
    h.settle().await;
    assert_eq!(h.boots(), 2, "one boot per invocation");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_answered_without_powering_a_worker_on() {
    let h = Harness::start(1, vec![], |c| c.max_body = 1024).await;
    let cases: &[(&str, String, u16, &str)] = &[
        ("nope", "{}".into(), 404, "nope"),
        ("cascading_sha256", "{not json".into(), 400, "not JSON"),
        ("cascading_sha256", r#"{"data": "x"}"#.into(), 400, "rounds"),
        ("cascading_sha256", r#"{"data": "x", "rounds": 0}"#.into(), 400, "rounds"),
        ("float_operations", r#"{"n": 10000001}"#.into(), 400, "n:"),
        ("echo", format!("\"{}\"", "x".repeat(2000)), 413, "limit"),
    ];
    for (name, body, status, needle) in cases {
        let answer = h.post(name, body).await;
        assert_eq!(answer.status, *status, "{name} {body:.40}: {}", answer.body);
        assert!(answer.body.contains(needle), "{name}: {}", answer.body);
        assert!(answer.call_id.is_some() && answer.duration.is_some(), "{answer:?}");
    }
    assert_eq!(h.boots(), 0);
    assert!(h.orchestrator.workers().iter().all(|w| w.boots == 0 && w.state == WorkerState::Off));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_health() {
    let h = Harness::start(1, vec![], |_| {}).await;
    assert_eq!(h.get("/healthz").await, (200, "OK".to_string()));
    let (status, body) = h.get("/system/functions").await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, functions::CATALOGUE.iter().map(|e| e.name).collect::<Vec<_>>());
    assert!(list[0]["summary"].is_string() && list[0]["args"].is_string() && list[0]["output"].is_string());
    let (status, body) = h.get("/system/workers").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"w0\"") && body.contains("\"off\""), "{body}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_boots_are_retried_on_fresh_boots() {
    let script = vec![Behaviour::NoHello, Behaviour::ExitBeforeHello];
    let h = Harness::start(1, script, |c| c.boot_timeout_secs = 0.3).await;
    let answer = h.post("echo", "1").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "1"));
    h.settle().await;
    assert_eq!((h.boots(), h.invokes()), (3, 1));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_hello_counts_as_a_failed_boot() {
    let h = Harness::start(1, vec![Behaviour::WrongCatalogue], |_| {}).await;
    let answer = h.post("echo", "2").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!((h.boots(), h.invokes()), (2, 1));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failed_boots_are_502_and_nothing_ran() {
    let h = Harness::start(1, vec![Behaviour::ExitBeforeHello; 3], |_| {}).await;
    let answer = h.post("echo", "1").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.body.contains("3 attempts"), "{}", answer.body);
    assert_eq!((h.boots(), h.invokes()), (3, 0));
    // The worker is usable again.
    assert_eq!(h.post("echo", "1").await.status, 200);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_dying_after_the_invoke_is_502_once_never_rerun() {
    let h = Harness::start(1, vec![Behaviour::DieOnInvoke], |c| c.invoke_timeout_secs = 10.0).await;
    let started = Instant::now();
    let answer = h.post("echo", "1").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    h.settle().await;
    assert_eq!((h.boots(), h.invokes()), (1, 1));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_worker_is_504_and_killed() {
    let h = Harness::start(1, vec![Behaviour::HangOnInvoke], |c| c.invoke_timeout_secs = 0.5).await;
    let started = Instant::now();
    let answer = h.post("echo", "1").await;
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(3));
    h.settle().await;
    assert_eq!(h.invokes(), 1);
    assert_eq!(h.post("echo", "3").await.body, "3");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_frame_from_a_worker_is_502_not_a_crash() {
    let h = Harness::start(1, vec![Behaviour::Oversize], |_| {}).await;
    let answer = h.post("echo", "1").await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.body.contains("protocol"), "{}", answer.body);
    assert_eq!(h.post("echo", "4").await.body, "4");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_errors_map_to_statuses() {
    let script = vec![Behaviour::Error(ErrorKind::OutOfMemory), Behaviour::Error(ErrorKind::Failed)];
    let h = Harness::start(1, script, |_| {}).await;
    let oom = h.post("echo", "1").await;
    assert_eq!(oom.status, 507, "{}", oom.body);
    assert!(oom.body.contains("OutOfMemory") && oom.exec.is_some(), "{oom:?}");
    assert_eq!(h.post("echo", "1").await.status, 500);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_ignoring_power_off_is_killed_after_the_grace() {
    let h = Harness::start(1, vec![Behaviour::IgnorePowerOff], |_| {}).await;
    assert_eq!(h.post("echo", "1").await.status, 200);
    h.settle().await;
    assert_eq!(h.post("echo", "5").await.body, "5");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_fifo_and_bounded() {
    let slow = Behaviour::Slow(Duration::from_millis(600));
    let h = Arc::new(Harness::start(1, vec![slow, slow, slow], |c| c.queue = 1).await);
    let first = tokio::spawn({
        let h = h.clone();
        async move { h.post("echo", "\"first\"").await }
    });
    // Let the first take the worker, then fill the queue's single place.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = tokio::spawn({
        let h = h.clone();
        async move { h.post("echo", "\"second\"").await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let third = h.post("echo", "\"third\"").await;
    assert_eq!(third.status, 503, "{}", third.body);
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!((first.status, first.body.as_str()), (200, "\"first\""));
    assert_eq!((second.status, second.body.as_str()), (200, "\"second\""));
    assert!(second.queue.unwrap() > 0.3, "{second:?}");
    let h = Arc::into_inner(h).unwrap();
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_fails_running_and_queued_invocations_and_powers_off() {
    let h = Arc::new(Harness::start(1, vec![Behaviour::HangOnInvoke], |c| c.invoke_timeout_secs = 30.0).await);
    let running = tokio::spawn({
        let h = h.clone();
        async move { h.post("echo", "1").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let queued = tokio::spawn({
        let h = h.clone();
        async move { h.post("echo", "2").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.orchestrator.workers()[0].state, WorkerState::Busy);
    let started = Instant::now();
    h.orchestrator.scheduler().shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(running.await.unwrap().status, 503);
    assert_eq!(queued.await.unwrap().status, 503);
    let h = Arc::into_inner(h).unwrap();
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_sent_just_before_the_worker_ends_still_counts() {
    let h = Harness::start(1, vec![Behaviour::ExitAfterAnswer; 5], |_| {}).await;
    for i in 0..5 {
        let answer = h.post("echo", &i.to_string()).await;
        assert_eq!((answer.status, answer.body), (200, i.to_string()));
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_boot_answers_503_and_leaves_the_worker_off() {
    let h = Arc::new(Harness::start(1, vec![Behaviour::NoHello], |c| c.boot_timeout_secs = 30.0).await);
    let booting = tokio::spawn({
        let h = h.clone();
        async move { h.post("echo", "1").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.orchestrator.workers()[0].state, WorkerState::Booting);
    h.orchestrator.scheduler().shutdown().await;
    assert_eq!(booting.await.unwrap().status, 503);
    let h = Arc::into_inner(h).unwrap();
    h.stop().await;
}
