//! A connected worker that has said Hello: send it one Invoke, get its Result; then power it off.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use functions::json::HostError;
use functions::wire::{FromWorker, Invoke, Outcome, ToWorker};
use tokio::net::TcpStream;

use crate::config::GuestService;
use crate::link::{Link, LinkError};

/// A worker's answer to one Invoke, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub call: u64,
    /// The function's postcard output, or the worker's typed error.
    pub outcome: Result<Vec<u8>, HostError>,
    /// Time spent in the function on the worker.
    pub exec: Duration,
}

/// The orchestrator's end of one worker's connection.
pub struct WorkerConn {
    link: Link<TcpStream>,
    worker: String,
}

impl WorkerConn {
    pub(crate) fn new(link: Link<TcpStream>, worker: String) -> Self {
        WorkerConn { link, worker }
    }

    /// The id the worker gave in its Hello.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Sends `Invoke{call, function, args}` and waits for the matching Result. Returns the reply
    /// and the round trip (Invoke written → Result read). A Result for another call, or a second
    /// Hello, is a protocol error.
    pub async fn invoke(&mut self, call: u64, function: &str, args: &[u8]) -> Result<(Reply, Duration), LinkError> {
        let started = Instant::now();
        self.send_invoke(call, function, args, &[]).await?;
        let reply = self.recv_result(call).await?;
        Ok((reply, started.elapsed()))
    }

    /// The first half of [`WorkerConn::invoke`]: sends the Invoke, with the services the function
    /// declared.
    pub async fn send_invoke(
        &mut self,
        call: u64,
        function: &str,
        args: &[u8],
        services: &[GuestService],
    ) -> Result<(), LinkError> {
        let services = crate::link::wire_services(services)?;
        // The worker has no wall clock; functions that sign requests (S3) date them with ours.
        let unix_time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.link.send(&ToWorker::Invoke(Invoke { call, function, args, services, unix_time })).await
    }

    /// The second half of [`WorkerConn::invoke`]: waits for the Result of `call`. Cancel-safe, so
    /// it can race the worker's power going off and be tried again for a Result sent just before.
    pub async fn recv_result(&mut self, call: u64) -> Result<Reply, LinkError> {
        match self.link.recv().await? {
            FromWorker::Result(r) if r.call == call => Ok(Reply {
                call,
                exec: Duration::from_nanos(r.exec_ns),
                outcome: match r.outcome {
                    Outcome::Output(bytes) => Ok(bytes.to_vec()),
                    Outcome::Error(e) => Err(HostError { kind: e.kind, message: e.message.to_string() }),
                },
            }),
            FromWorker::Result(r) => {
                Err(LinkError::Unexpected(format!("Result for call {} while call {call} runs", r.call)))
            }
            FromWorker::Hello(_) => Err(LinkError::Unexpected("a second Hello".into())),
        }
    }

    /// Tells the worker to power off (on a board that can cut its own power).
    pub async fn power_off(&mut self) -> Result<(), LinkError> {
        self.link.send(&ToWorker::PowerOff).await
    }

    /// Tells the worker to reboot, which also ends a QEMU `-no-reboot` guest.
    pub async fn reboot(&mut self) -> Result<(), LinkError> {
        self.link.send(&ToWorker::Reboot).await
    }
}
