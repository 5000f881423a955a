//! Energy-proportional scheduling, as in the original MicroFaaS: workers stay off while idle; an
//! invocation takes an off worker, powers it on, waits for its Hello, sends one Invoke, awaits the
//! Result, then powers the worker off again. Invocations wait in a bounded FIFO queue while every
//! worker is busy.
//!
//! A boot that fails before the Invoke is sent is retried on a fresh boot; once the Invoke is out
//! the invocation is never sent again, whatever happens to the worker.
use crate::config::GuestService;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::job::{InvokeError, Job, Report};
use super::state::WorkerState;
use super::worker::{Board, Worker, WorkerStatus};
use crate::conn::{Reply, WorkerConn};
use crate::link::LinkError;
use crate::listener::{Arrival, WorkerListener, handshake};
use crate::power::{PowerBackend, PowerOn};

/// Boots tried per invocation before it fails with 502 (the first plus two retries).
pub const BOOT_ATTEMPTS: u32 = 3;

/// How long a killed worker may take to be gone before we log it and move on.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// How long to look for a Result sent just before the worker went off.
const LAST_WORDS: Duration = Duration::from_millis(50);

/// The scheduler's deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Power-on → Hello.
    pub boot: Duration,
    /// Invoke sent → Result received.
    pub invoke: Duration,
    /// PowerOff sent → worker off, before it is killed.
    pub power_off_grace: Duration,
}

/// A Hello routed to the boot waiting for it, with the instant its connection was accepted.
type HelloSlot = oneshot::Sender<Result<(Arrival, Instant), String>>;

/// State shared by the dispatcher, the invocation tasks and the worker acceptor.
struct Shared {
    timeouts: Timeouts,
    board: Arc<Board>,
    /// Workers currently booting, by id: where their Hello goes.
    booting: Mutex<HashMap<String, HelloSlot>>,
    stop: watch::Sender<bool>,
}

impl Shared {
    fn expect_hello(&self, id: &str, slot: HelloSlot) {
        self.booting.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), slot);
    }

    fn take_slot(&self, id: &str) -> Option<HelloSlot> {
        self.booting.lock().unwrap_or_else(|e| e.into_inner()).remove(id)
    }
}

/// The scheduler: owns the workers, the queue and the worker listener.
pub struct Scheduler {
    queue: mpsc::Sender<Job>,
    shared: Arc<Shared>,
    worker_addr: SocketAddr,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Scheduler {
    /// Starts the dispatcher and the worker acceptor. Workers start (and stay) off.
    pub fn start(
        listener: WorkerListener,
        workers: Vec<(String, Box<dyn PowerBackend>)>,
        timeouts: Timeouts,
        queue: usize,
    ) -> std::io::Result<Scheduler> {
        let worker_addr = listener.local_addr()?;
        let board = Arc::new(Board::default());
        let workers = workers.into_iter().map(|(id, power)| Worker::new(id, power, board.clone())).collect();
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared { timeouts, board, booting: Mutex::default(), stop });
        let (queue_tx, queue_rx) = mpsc::channel(queue.max(1));
        let tasks = vec![
            tokio::spawn(dispatch(shared.clone(), queue_rx, workers)),
            tokio::spawn(accept_workers(shared.clone(), listener)),
        ];
        Ok(Scheduler { queue: queue_tx, shared, worker_addr, tasks: Mutex::new(tasks) })
    }

    /// The worker listener's address.
    pub fn worker_addr(&self) -> SocketAddr {
        self.worker_addr
    }

    /// Every worker's status.
    pub fn workers(&self) -> Vec<WorkerStatus> {
        self.shared.board.snapshot()
    }

    /// Runs `function` with checked postcard `args` on a freshly booted worker. Waits in the queue
    /// while every worker is busy; answers QueueFull at once when the queue is full.
    pub async fn invoke(
        &self,
        call: u64,
        function: &'static str,
        args: Vec<u8>,
        services: Vec<GuestService>,
    ) -> Report {
        if *self.shared.stop.borrow() {
            return Report::failed(call, InvokeError::ShuttingDown);
        }
        let (reply, answer) = oneshot::channel();
        let job = Job { call, function, args, services, enqueued: Instant::now(), reply };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Report::failed(call, InvokeError::QueueFull),
            Err(mpsc::error::TrySendError::Closed(_)) => return Report::failed(call, InvokeError::ShuttingDown),
        }
        answer.await.unwrap_or_else(|_| {
            let error = if *self.shared.stop.borrow() { InvokeError::ShuttingDown } else { InvokeError::Lost };
            Report::failed(call, error)
        })
    }

    /// Stops accepting work, fails queued invocations, kills running workers and waits until every
    /// worker is off. Idempotent.
    pub async fn shutdown(&self) {
        self.shared.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            if let Err(e) = task.await {
                log::error!("scheduler task ended abnormally: {e}");
            }
        }
    }
}

/// Resolves once shutdown has begun.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Hands queued jobs to off workers, FIFO, one task per invocation; on shutdown, fails what is
/// queued and waits for every worker to come back off.
async fn dispatch(shared: Arc<Shared>, mut queue: mpsc::Receiver<Job>, workers: Vec<Worker>) {
    let mut idle: VecDeque<Worker> = workers.into();
    let mut running: JoinSet<Worker> = JoinSet::new();
    let mut stop = shared.stop.subscribe();
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => break,
            Some(done) = running.join_next(), if !running.is_empty() => match done {
                Ok(worker) => idle.push_back(worker),
                Err(e) => log::error!("an invocation task failed: {e}"),
            },
            job = queue.recv(), if !idle.is_empty() => {
                let Some(job) = job else { break };
                if job.reply.is_closed() {
                    log::info!("call {}: {} dropped from the queue: the client went away", job.call, job.function);
                    continue;
                }
                if let Some(worker) = idle.pop_front() {
                    running.spawn(run(shared.clone(), worker, job));
                }
            }
        }
    }
    queue.close();
    while let Ok(job) = queue.try_recv() {
        let _ = job.reply.send(Report::failed(job.call, InvokeError::ShuttingDown));
    }
    while let Some(done) = running.join_next().await {
        if let Err(e) = done {
            log::error!("an invocation task failed: {e}");
        }
    }
    log::debug!("dispatcher stopped; all workers off");
}

/// Accepts worker connections and routes each valid Hello to the boot waiting for it.
async fn accept_workers(shared: Arc<Shared>, listener: WorkerListener) {
    let mut stop = shared.stop.subscribe();
    let mut handshakes = JoinSet::new();
    loop {
        while handshakes.try_join_next().is_some() {}
        tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    handshakes.spawn(route_hello(shared.clone(), stream, peer, Instant::now()));
                }
                Err(e) => {
                    log::warn!("accepting a worker connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

async fn route_hello(shared: Arc<Shared>, stream: tokio::net::TcpStream, peer: SocketAddr, accepted: Instant) {
    match handshake(stream, shared.timeouts.boot).await {
        Ok(arrival) => {
            let id = arrival.hello.worker.clone();
            match shared.take_slot(&id) {
                Some(slot) => {
                    log::debug!("{id}: Hello from {peer} (boot timings {:?})", arrival.hello.boot);
                    if slot.send(Ok((arrival, accepted))).is_err() {
                        log::debug!("{id}: its boot gave up before the Hello arrived");
                    }
                }
                None => log::warn!("{id}: Hello from {peer} refused: {id} is not a worker we are booting"),
            }
        }
        Err(e) => {
            log::warn!("worker connection from {peer} refused: {e}");
            if let Some(slot) = e.worker().and_then(|id| shared.take_slot(id)) {
                let _ = slot.send(Err(e.to_string()));
            }
        }
    }
}

/// Why one boot did not reach its Hello.
enum BootError {
    Failed(String),
    Stopped,
}

/// One invocation on one worker: boot (with retries), Invoke, Result, power off. Returns the
/// worker, off, for the next invocation.
async fn run(shared: Arc<Shared>, mut worker: Worker, job: Job) -> Worker {
    let Job { call, function, args, services, enqueued, reply } = job;
    let mut report = Report {
        call,
        worker: Some(worker.id.clone()),
        queue: enqueued.elapsed(),
        boot: None,
        exec: None,
        result: Err(InvokeError::Lost),
    };
    let mut stop = shared.stop.subscribe();
    log::debug!("call {call}: {function} on {}", worker.id);

    let mut attempt = 0;
    let (mut conn, on, hello_at) = loop {
        attempt += 1;
        match boot(&shared, &mut worker, &mut stop).await {
            Ok(booted) => break booted,
            Err(BootError::Stopped) => {
                force_off(&mut worker).await;
                report.result = Err(InvokeError::ShuttingDown);
                let _ = reply.send(report);
                return worker;
            }
            Err(BootError::Failed(reason)) => {
                log::warn!("call {call}: {}: boot {attempt}/{BOOT_ATTEMPTS} failed: {reason}", worker.id);
                worker.set(WorkerState::Failed);
                force_off(&mut worker).await;
                if attempt >= BOOT_ATTEMPTS || reply.is_closed() {
                    report.result = Err(InvokeError::BootFailed { attempts: attempt, reason });
                    let _ = reply.send(report);
                    return worker;
                }
            }
        }
    };
    report.boot = Some(hello_at.saturating_duration_since(on.at));
    worker.set(WorkerState::Ready);
    if reply.is_closed() {
        log::info!("call {call}: the client went away before the Invoke; powering {} off", worker.id);
        power_off(&shared, &mut worker, conn).await;
        return worker;
    }

    // From here on the invocation may have run: it is never sent again.
    worker.set(WorkerState::Busy);
    let error = match exchange(
        &shared,
        &mut worker,
        &mut conn,
        &mut stop,
        Call { call, function, args: &args, services: &services },
    )
    .await
    {
        Ok(answer) => {
            report.exec = Some(answer.exec);
            report.result = answer.outcome.map_err(InvokeError::Worker);
            let _ = reply.send(report);
            power_off(&shared, &mut worker, conn).await;
            return worker;
        }
        Err(error) => error,
    };
    if error == InvokeError::ShuttingDown {
        log::info!("call {call}: {}: stopped by shutdown", worker.id);
        worker.set(WorkerState::PoweringOff);
    } else {
        let console = worker.power.console_log().map(|p| format!(" (console: {})", p.display()));
        log::warn!("call {call}: {}: {error}{}", worker.id, console.unwrap_or_default());
        worker.set(WorkerState::Failed);
    }
    // Cut power before answering, so a retrying client cannot find this worker still running.
    if let Err(e) = worker.power.power_off() {
        log::warn!("{}: power off failed: {e}", worker.id);
    }
    drop(conn);
    report.result = Err(error);
    let _ = reply.send(report);
    force_off(&mut worker).await;
    worker
}

/// What one Invoke carries.
struct Call<'a> {
    call: u64,
    function: &'a str,
    args: &'a [u8],
    services: &'a [GuestService],
}

/// Sends the Invoke and waits for its Result, racing the invocation timeout, the worker's power
/// going off and shutdown.
async fn exchange(
    shared: &Shared,
    worker: &mut Worker,
    conn: &mut WorkerConn,
    stop: &mut watch::Receiver<bool>,
    Call { call, function, args, services }: Call<'_>,
) -> Result<Reply, InvokeError> {
    let timeout = shared.timeouts.invoke;
    let deadline = tokio::time::Instant::now() + timeout;
    let link_error = |e: LinkError| {
        if e.is_protocol() { InvokeError::Protocol(e.to_string()) } else { InvokeError::WorkerDied(e.to_string()) }
    };
    enum Race {
        Answer(Result<Reply, LinkError>),
        TimedOut,
        Off,
        Stopped,
    }
    let race = tokio::select! {
        // Biased: a Result that arrived together with the worker's end still counts.
        biased;
        answer = async {
            conn.send_invoke(call, function, args, services).await?;
            conn.recv_result(call).await
        } => Race::Answer(answer),
        _ = tokio::time::sleep_until(deadline) => Race::TimedOut,
        _ = worker.power.until_off() => Race::Off,
        _ = stopped(stop) => Race::Stopped,
    };
    match race {
        Race::Answer(answer) => answer.map_err(link_error),
        Race::TimedOut => Err(InvokeError::Timeout(timeout)),
        Race::Stopped => Err(InvokeError::ShuttingDown),
        Race::Off => {
            // It may have answered just before it went: take a Result already on the wire.
            match tokio::time::timeout(LAST_WORDS, conn.recv_result(call)).await {
                Ok(Ok(answer)) => Ok(answer),
                _ => Err(InvokeError::WorkerDied("it powered off".into())),
            }
        }
    }
}

/// Powers `worker` on and waits for its Hello. Returns the connection, the power-on and the
/// Hello's arrival.
async fn boot(
    shared: &Shared,
    worker: &mut Worker,
    stop: &mut watch::Receiver<bool>,
) -> Result<(WorkerConn, PowerOn, Instant), BootError> {
    let (slot, hello) = oneshot::channel();
    shared.expect_hello(&worker.id, slot);
    worker.set(WorkerState::Booting);
    let on = match worker.power.power_on() {
        Ok(on) => on,
        Err(e) => {
            shared.take_slot(&worker.id);
            return Err(BootError::Failed(format!("power-on failed: {e}")));
        }
    };
    worker.refresh_pid();
    let console = on.console_log.as_ref().map(|p| format!(" (console: {})", p.display())).unwrap_or_default();
    let deadline = tokio::time::Instant::from_std(on.at + shared.timeouts.boot);
    let result = tokio::select! {
        routed = hello => match routed {
            Ok(Ok((arrival, accepted))) if accepted >= on.at => Ok(arrival),
            Ok(Ok(_)) => Err(BootError::Failed("a stale connection from an earlier boot said Hello".into())),
            Ok(Err(reason)) => Err(BootError::Failed(reason)),
            Err(_) => Err(BootError::Failed("the Hello route was dropped".into())),
        },
        _ = tokio::time::sleep_until(deadline) => Err(BootError::Failed(format!(
            "no Hello within {:.1} s{console}",
            shared.timeouts.boot.as_secs_f64()
        ))),
        _ = worker.power.until_off() => Err(BootError::Failed(format!("it powered off before its Hello{console}"))),
        _ = stopped(stop) => Err(BootError::Stopped),
    };
    shared.take_slot(&worker.id);
    result.map(|arrival| (arrival.conn, on, arrival.at))
}

/// The graceful way off: PowerOff (or Reboot, for backends whose workers leave that way), then wait
/// for the worker to be off; kill it after the grace.
async fn power_off(shared: &Shared, worker: &mut Worker, mut conn: WorkerConn) {
    worker.set(WorkerState::PoweringOff);
    let grace = shared.timeouts.power_off_grace;
    let sent = if worker.power.off_by_reboot() { conn.reboot().await } else { conn.power_off().await };
    if let Err(e) = sent {
        log::debug!("{}: PowerOff not sent ({e}); it reboots on its own when the connection closes", worker.id);
    }
    if tokio::time::timeout(grace, worker.power.until_off()).await.is_err() {
        log::warn!("{}: still on {:.1} s after PowerOff; killing it", worker.id, grace.as_secs_f64());
        drop(conn);
        force_off(worker).await;
    } else {
        worker.set(WorkerState::Off);
    }
}

/// The hard way off: cut power and wait (bounded) until it is off.
async fn force_off(worker: &mut Worker) {
    if let Err(e) = worker.power.power_off() {
        log::warn!("{}: power off failed: {e}", worker.id);
    }
    if tokio::time::timeout(KILL_WAIT, worker.power.until_off()).await.is_err() {
        log::error!("{}: still on {} s after being powered off", worker.id, KILL_WAIT.as_secs());
    }
    worker.set(WorkerState::Off);
}
