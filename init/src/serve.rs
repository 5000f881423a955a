//! The worker's life: bring the network up, connect, say Hello, then serve Invoke frames one at a
//! time until told to reboot or power off.
use core::fmt::Write as _;
use functions::wire::{
    self, BootTimings, CallResult, FromWorker, HEADER_LEN, Hello, MAX_FRAME, Outcome, ToWorker, WireError,
};

use functions::wire::Invoke;
use functions::{Context, ErrorKind};
use log::{debug, error, info, warn};

use crate::clock;
use crate::config::Config;
use crate::link::{self, Link, LinkError};
use crate::net::{Buffers, Nic, PacketDevice, Stack, StackConnector};

/// An error's text as reported: our message and the server's (bounded, no allocation).
type ErrorText = heapless::String<256>;

/// Why the serve loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Reboot,
    PowerOff,
    Fault(&'static str),
}

/// How long the NIC may take to report carrier.
const LINK_TIMEOUT_US: u64 = 2_000_000;
/// How long DHCP may take.
const DHCP_TIMEOUT_US: u64 = 10_000_000;
/// How long the orchestrator may stay unreachable before the worker reboots.
const CONNECT_TIMEOUT_US: u64 = 30_000_000;

pub fn run(config: &Config<'_>, init_start_us: u64) -> Exit {
    let nic = match Nic::open("eth0") {
        Ok(nic) => nic,
        Err(e) => {
            error!("eth0: {e:?}");
            return Exit::Fault("cannot open eth0");
        }
    };
    if let Err(e) = nic.set_up() {
        error!("eth0 up: {e:?}");
        return Exit::Fault("cannot bring eth0 up");
    }
    debug!("eth0 {:02x?} is up; waiting for carrier", nic.mac);
    let link_deadline = clock::now_us() + LINK_TIMEOUT_US;
    while !nic.is_running().unwrap_or(false) {
        if clock::now_us() > link_deadline {
            return Exit::Fault("eth0 has no carrier");
        }
        // Carrier comes from a kernel work item within a few ms; a timed sleep would round up
        // to a whole scheduler tick (4 ms at HZ=250), so yield the CPU to it instead.
        rustix::thread::sched_yield();
    }
    let link_up_us = clock::now_us();
    debug!("eth0 has carrier");

    let mut buffers = Buffers::new();
    let mut stack = Stack::new(PacketDevice::new(nic), config.address, &mut buffers);
    let Some(address_us) = stack.address_us.or_else(|| {
        let deadline = clock::now_us() + DHCP_TIMEOUT_US;
        stack.wait(deadline, |s| s.address_us)
    }) else {
        return Exit::Fault("no DHCP lease");
    };
    if link::connect(&mut stack, config.orchestrator, clock::now_us() + CONNECT_TIMEOUT_US).is_err() {
        return Exit::Fault("orchestrator unreachable");
    }
    let boot = BootTimings { init_start_us, link_up_us, address_us, connected_us: clock::now_us() };
    info!(
        "connected to {} as {}: link up +{} us, address +{} us, connected +{} us after init start",
        config.orchestrator,
        config.id,
        link_up_us - init_start_us,
        address_us - init_start_us,
        boot.connected_us - init_start_us
    );

    let mut inbuf = [0u8; HEADER_LEN + MAX_FRAME];
    let mut frame = [0u8; HEADER_LEN + MAX_FRAME];
    let mut output = [0u8; MAX_FRAME];
    let mut message = ErrorText::new();
    let mut link = Link::new(&mut stack, &mut inbuf);
    let hello = FromWorker::Hello(Hello {
        version: wire::PROTOCOL_VERSION,
        worker: config.id,
        catalogue: functions::catalogue_hash(),
        boot,
    });
    if let Err(e) = send(&mut link, &mut frame, &hello) {
        return closed(e);
    }
    loop {
        let (body, stack) = match link.recv_with_stack() {
            Ok(received) => received,
            Err(e) => return closed(e),
        };
        let reply = match wire::decode::<ToWorker>(body) {
            Ok(ToWorker::Invoke(invoke)) => {
                let mut net = StackConnector::new(stack);
                let (outcome, exec_ns, arena_peak) = invoke_one(&invoke, &mut net, &mut output, &mut message);
                net.finish();
                debug!("call {} {}: {exec_ns} ns, arena peak {arena_peak} bytes", invoke.call, invoke.function);
                CallResult { call: invoke.call, outcome, exec_ns }
            }
            Ok(ToWorker::Reboot) => return Exit::Reboot,
            Ok(ToWorker::PowerOff) => return Exit::PowerOff,
            Err(_) => match wire::call_id_of(body) {
                Some(call) => {
                    warn!("call {call}: malformed Invoke frame");
                    let message = "malformed Invoke frame";
                    CallResult {
                        call,
                        outcome: Outcome::Error(WireError { kind: ErrorKind::Malformed, message }),
                        exec_ns: 0,
                    }
                }
                None => return Exit::Fault("malformed frame without a call id"),
            },
        };
        if let Err(e) = send(&mut link, &mut frame, &FromWorker::Result(reply)) {
            return closed(e);
        }
    }
}

/// Runs one function; the output lands in `output`, an error's text (ours, then the server's where
/// it gave some) in `message`. Returns the outcome, the execution time and the arena's peak.
fn invoke_one<'o>(
    invoke: &Invoke<'_>,
    net: &mut StackConnector<'_, '_>,
    output: &'o mut [u8],
    message: &'o mut ErrorText,
) -> (Outcome<'o>, u64, usize) {
    let start = clock::now_ns();
    let result = functions::find(invoke.function).and_then(|entry| {
        let mut ctx = Context::with_network(&clock::Monotonic, net, &invoke.services).with_unix_time(invoke.unix_time);
        (entry.run)(&mut ctx, invoke.args, output).inspect_err(|e| {
            message.clear();
            let _ = write!(message, "{}", ctx.describe(e));
        })
    });
    let exec_ns = clock::now_ns() - start;
    // The output was written to `output`; nothing allocated during the call is alive any more.
    let arena_peak = crate::arena::ARENA.reset();
    let outcome = match result {
        // Leave room for the Result's own fields, so the reply always fits one frame.
        Ok(len) if len <= MAX_FRAME - 64 => Outcome::Output(&output[..len]),
        Ok(_) => Outcome::Error(WireError { kind: ErrorKind::Failed, message: "output exceeds the frame size cap" }),
        Err(e) => Outcome::Error(WireError { kind: e.kind, message: message.as_str() }),
    };
    (outcome, exec_ns, arena_peak)
}

fn send(link: &mut Link<'_, '_>, frame: &mut [u8], msg: &FromWorker<'_>) -> Result<(), LinkError> {
    match wire::encode(msg, frame) {
        Ok(len) => link.send(&frame[..len]),
        // Unreachable given the output cap above; a worker that cannot reply must not hang.
        Err(_) => Err(LinkError::Closed),
    }
}

fn closed(e: LinkError) -> Exit {
    match e {
        LinkError::Oversize(n) => {
            error!("orchestrator sent a {n}-byte frame, over the {MAX_FRAME}-byte cap");
            Exit::Fault("oversize frame")
        }
        LinkError::Closed => Exit::Fault("connection to the orchestrator closed"),
        LinkError::Unreachable => Exit::Fault("orchestrator unreachable"),
    }
}
