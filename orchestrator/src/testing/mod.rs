//! Test support: temporary directories and a fake worker behind the [`PowerBackend`] seam, so the
//! scheduler and gateway are tested end to end without QEMU.
mod scenarios;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use functions::wire::{self, BootTimings, CallResult, FromWorker, Hello, Outcome, ToWorker, WireError};
use functions::{Context, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::power::{PowerBackend, PowerOn};

/// A fresh empty directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(tag: &str) -> TempDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("microfaas-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// What a fake worker does on one boot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// Says Hello, runs Invokes on the host, powers off on PowerOff.
    Normal,
    /// Like Normal but takes this long per invocation.
    Slow(Duration),
    /// Powers on and never connects.
    NoHello,
    /// Powers off at once.
    ExitBeforeHello,
    /// Says Hello with a catalogue hash we do not know.
    WrongCatalogue,
    /// Closes the connection and powers off when it gets the Invoke.
    DieOnInvoke,
    /// Never answers the Invoke.
    HangOnInvoke,
    /// Answers the Invoke with an oversize frame header.
    Oversize,
    /// Answers the Invoke with this typed error.
    Error(ErrorKind),
    /// Ignores PowerOff (stays on until killed).
    IgnorePowerOff,
    /// Powers off right after sending its Result.
    ExitAfterAnswer,
}

/// Counters shared between a test and its fake workers.
#[derive(Default)]
pub struct Counters {
    pub boots: AtomicUsize,
    pub invokes: AtomicUsize,
}

/// A fake worker: "power on" starts a task that connects to the orchestrator and speaks the
/// protocol like the real init would, following a script of behaviours (one per boot, then Normal).
pub struct FakePower {
    id: String,
    orchestrator: SocketAddr,
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    counters: Arc<Counters>,
    task: Option<JoinHandle<()>>,
}

impl FakePower {
    pub fn new(
        id: &str,
        orchestrator: SocketAddr,
        script: Arc<Mutex<VecDeque<Behaviour>>>,
        counters: Arc<Counters>,
    ) -> Self {
        FakePower { id: id.to_string(), orchestrator, script, counters, task: None }
    }
}

impl PowerBackend for FakePower {
    fn power_on(&mut self) -> io::Result<PowerOn> {
        if self.is_on() {
            return Err(io::Error::other("already on"));
        }
        self.counters.boots.fetch_add(1, Ordering::SeqCst);
        let behaviour = self.script.lock().unwrap().pop_front().unwrap_or(Behaviour::Normal);
        let at = Instant::now();
        self.task =
            Some(tokio::spawn(fake_worker(self.id.clone(), self.orchestrator, behaviour, self.counters.clone())));
        Ok(PowerOn { at, console_log: None, pid: None })
    }

    fn power_off(&mut self) -> io::Result<()> {
        if let Some(task) = &self.task {
            task.abort();
        }
        Ok(())
    }

    fn is_on(&mut self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

async fn send(stream: &mut TcpStream, msg: &FromWorker<'_>) -> io::Result<()> {
    let mut buf = vec![0u8; wire::HEADER_LEN + wire::MAX_FRAME];
    let n = wire::encode(msg, &mut buf).map_err(|e| io::Error::other(e.to_string()))?;
    stream.write_all(&buf[..n]).await
}

async fn recv(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await?;
    let mut body = vec![0u8; u32::from_le_bytes(header) as usize];
    stream.read_exact(&mut body).await?;
    Ok(body)
}

async fn fake_worker(id: String, orchestrator: SocketAddr, behaviour: Behaviour, counters: Arc<Counters>) {
    match behaviour {
        Behaviour::ExitBeforeHello => return,
        Behaviour::NoHello => std::future::pending().await,
        _ => {}
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let Ok(mut stream) = TcpStream::connect(orchestrator).await else { return };
    let catalogue =
        if behaviour == Behaviour::WrongCatalogue { !functions::catalogue_hash() } else { functions::catalogue_hash() };
    let hello = Hello { version: wire::PROTOCOL_VERSION, worker: &id, catalogue, boot: BootTimings::default() };
    if send(&mut stream, &FromWorker::Hello(hello)).await.is_err() {
        return;
    }
    loop {
        let Ok(body) = recv(&mut stream).await else { return };
        match wire::decode::<ToWorker>(&body) {
            Ok(ToWorker::Invoke(invoke)) => {
                counters.invokes.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Behaviour::DieOnInvoke => return,
                    Behaviour::HangOnInvoke => std::future::pending().await,
                    Behaviour::Oversize => {
                        let _ = stream.write_all(&u32::MAX.to_le_bytes()).await;
                        std::future::pending().await
                    }
                    Behaviour::Slow(d) => tokio::time::sleep(d).await,
                    _ => {}
                }
                let mut out = vec![0u8; wire::MAX_FRAME];
                let clock = functions::json::HostClock::new();
                let ran = functions::find(invoke.function)
                    .and_then(|entry| (entry.run)(&mut Context::new(&clock), invoke.args, &mut out));
                let outcome = match (behaviour, ran) {
                    (Behaviour::Error(kind), _) => Outcome::Error(WireError { kind, message: "scripted" }),
                    (_, Ok(len)) => Outcome::Output(&out[..len]),
                    (_, Err(e)) => Outcome::Error(WireError { kind: e.kind, message: e.message }),
                };
                let result = CallResult { call: invoke.call, outcome, exec_ns: 1_000 };
                if send(&mut stream, &FromWorker::Result(result)).await.is_err()
                    || behaviour == Behaviour::ExitAfterAnswer
                {
                    return;
                }
            }
            Ok(ToWorker::PowerOff | ToWorker::Reboot) if behaviour != Behaviour::IgnorePowerOff => return,
            Ok(_) => {}
            Err(_) => return,
        }
    }
}
