//! The TCP link to the orchestrator: connecting with retry and backoff, and whole frames in and
//! out of the socket.
use core::net::SocketAddrV4;

use functions::wire::{self, FrameError, HEADER_LEN};
use smoltcp::socket::tcp::State;

use crate::clock;
use crate::net::Stack;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// No connection could be made before the deadline.
    Unreachable,
    /// The orchestrator closed or reset the connection, or it timed out.
    Closed,
    /// The peer announced a frame larger than the cap.
    Oversize(usize),
}

/// First and largest pause between connection attempts.
const BACKOFF_MS: (u64, u64) = (10, 1_000);
/// How long one attempt may take (SYN lost, ARP unanswered).
const ATTEMPT_US: u64 = 1_000_000;

/// Connects to `remote`, retrying with exponential backoff until `give_up_us` (µs since boot).
pub fn connect(stack: &mut Stack<'_>, remote: SocketAddrV4, give_up_us: u64) -> Result<(), LinkError> {
    let mut backoff = BACKOFF_MS.0;
    for attempt in 0u16.. {
        if stack.connect(remote, attempt).is_err() {
            return Err(LinkError::Unreachable);
        }
        let deadline = (clock::now_us() + ATTEMPT_US).min(give_up_us);
        let established = stack.wait(deadline, |s| match s.tcp().state() {
            State::Established => Some(true),
            State::Closed | State::TimeWait => Some(false),
            _ => None,
        });
        if established == Some(true) {
            return Ok(());
        }
        if clock::now_us() + backoff * 1000 >= give_up_us {
            break;
        }
        log::debug!("connect attempt {attempt} to {remote} failed; retrying in {backoff} ms");
        stack.tcp().abort();
        stack.pause_ms(backoff);
        backoff = (backoff * 2).min(BACKOFF_MS.1);
    }
    Err(LinkError::Unreachable)
}

/// Frames over the connected socket. Received bytes accumulate in `inbuf` until a whole frame is
/// there; the frame stays borrowed until the next `recv`.
pub struct Link<'s, 'b> {
    stack: &'s mut Stack<'b>,
    inbuf: &'s mut [u8],
    filled: usize,
    consumed: usize,
}

impl<'s, 'b> Link<'s, 'b> {
    /// `inbuf` must hold a whole frame: `HEADER_LEN + MAX_FRAME` bytes.
    pub fn new(stack: &'s mut Stack<'b>, inbuf: &'s mut [u8]) -> Self {
        Link { stack, inbuf, filled: 0, consumed: 0 }
    }

    /// The next frame's body.
    pub fn recv(&mut self) -> Result<&[u8], LinkError> {
        self.recv_with_stack().map(|(body, _)| body)
    }

    /// The next frame's body, and the stack for the invocation it asks for (its connector).
    pub fn recv_with_stack(&mut self) -> Result<(&[u8], &mut Stack<'b>), LinkError> {
        self.inbuf.copy_within(self.consumed..self.filled, 0);
        self.filled -= self.consumed;
        self.consumed = 0;
        loop {
            match wire::split(&self.inbuf[..self.filled]) {
                Ok(Some((_, used))) => {
                    self.consumed = used;
                    return Ok((&self.inbuf[HEADER_LEN..used], &mut *self.stack));
                }
                Ok(None) => {}
                Err(FrameError::Oversize(n)) => return Err(LinkError::Oversize(n)),
                Err(_) => return Err(LinkError::Closed),
            }
            let room = &mut self.inbuf[self.filled..];
            let got = self.stack.wait(u64::MAX, |s| {
                let socket = s.tcp();
                if socket.can_recv() {
                    Some(socket.recv_slice(room).map_err(|_| LinkError::Closed))
                } else if !socket.may_recv() {
                    Some(Err(LinkError::Closed))
                } else {
                    None
                }
            });
            self.filled += got.unwrap_or(Err(LinkError::Closed))?;
        }
    }

    /// Queues all of `bytes` for sending; they leave with the next poll of the event loop.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let mut sent = 0;
        while sent < bytes.len() {
            let rest = &bytes[sent..];
            let n = self.stack.wait(u64::MAX, |s| {
                let socket = s.tcp();
                if !socket.may_send() {
                    Some(Err(LinkError::Closed))
                } else if socket.can_send() {
                    Some(socket.send_slice(rest).map_err(|_| LinkError::Closed))
                } else {
                    None
                }
            });
            sent += n.unwrap_or(Err(LinkError::Closed))?;
        }
        // Push the bytes out now rather than when the next frame is awaited.
        self.stack.wait(0, |_| None::<()>);
        Ok(())
    }
}
