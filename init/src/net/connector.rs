//! The functions' [`Connector`] on the worker: the stack's data socket, driven by the same event
//! loop as the orchestrator link ([`Stack::wait`]), so both stay served while a function waits.
//!
//! A pool of one socket: no function needs two connections at once. It is aborted after every
//! invocation ([`StackConnector::finish`]), so nothing leaks into the next one.
use core::net::SocketAddrV4;

use functions::net::{Conn, Connector, NetError};
use smoltcp::socket::tcp::State;

use super::Stack;
use crate::clock;

/// The only connection handle.
const DATA: Conn = Conn(0);

pub struct StackConnector<'s, 'b> {
    stack: &'s mut Stack<'b>,
    open: bool,
}

impl<'s, 'b> StackConnector<'s, 'b> {
    pub fn new(stack: &'s mut Stack<'b>) -> Self {
        StackConnector { stack, open: false }
    }

    /// Aborts whatever the function left open.
    pub fn finish(self) {
        self.stack.data().abort();
        // Let the RST leave now rather than with the next frame.
        self.stack.wait(0, |_| None::<()>);
    }

    fn check(&self, conn: Conn) -> Result<(), NetError> {
        if conn == DATA && self.open { Ok(()) } else { Err(NetError::Closed) }
    }
}

fn us(deadline_ns: u64) -> u64 {
    deadline_ns / 1_000
}

impl Connector for StackConnector<'_, '_> {
    fn now_ns(&self) -> u64 {
        clock::now_ns()
    }

    fn connect(&mut self, to: SocketAddrV4, deadline_ns: u64) -> Result<Conn, NetError> {
        if self.open {
            return Err(NetError::NoSocket);
        }
        self.stack.connect_data(to).map_err(|_| NetError::Unreachable)?;
        let state = self.stack.wait(us(deadline_ns), |s| match s.data().state() {
            State::SynSent | State::SynReceived => None,
            state => Some(state),
        });
        match state {
            Some(State::Established) => {
                self.open = true;
                Ok(DATA)
            }
            // A RST in answer to the SYN closes the socket: nothing listens there.
            Some(_) => Err(NetError::Refused),
            None => {
                self.stack.data().abort();
                Err(NetError::TimedOut)
            }
        }
    }

    fn read(&mut self, conn: Conn, buf: &mut [u8], deadline_ns: u64) -> Result<usize, NetError> {
        self.check(conn)?;
        if buf.is_empty() {
            return Ok(0);
        }
        let got = self.stack.wait(us(deadline_ns), |s| {
            let socket = s.data();
            if socket.can_recv() {
                Some(socket.recv_slice(buf).map_err(|_| NetError::Closed))
            } else if !socket.may_recv() {
                // FIN received (a clean end of stream) or reset (the socket is closed).
                Some(if socket.state() == State::Closed { Err(NetError::Closed) } else { Ok(0) })
            } else {
                None
            }
        });
        got.unwrap_or(Err(NetError::TimedOut))
    }

    fn write(&mut self, conn: Conn, buf: &[u8], deadline_ns: u64) -> Result<usize, NetError> {
        self.check(conn)?;
        let sent = self.stack.wait(us(deadline_ns), |s| {
            let socket = s.data();
            if !socket.may_send() {
                Some(Err(NetError::Closed))
            } else if socket.can_send() {
                Some(socket.send_slice(buf).map_err(|_| NetError::Closed))
            } else {
                None
            }
        });
        sent.unwrap_or(Err(NetError::TimedOut))
    }

    fn flush(&mut self, conn: Conn, deadline_ns: u64) -> Result<(), NetError> {
        self.check(conn)?;
        let done = self.stack.wait(us(deadline_ns), |s| {
            let socket = s.data();
            if socket.send_queue() == 0 {
                Some(Ok(()))
            } else if !socket.may_send() {
                Some(Err(NetError::Closed))
            } else {
                None
            }
        });
        done.unwrap_or(Err(NetError::TimedOut))
    }

    fn close(&mut self, conn: Conn) {
        if self.check(conn).is_ok() {
            // A FIN, sent with the next poll; `finish` aborts it if it is still closing then.
            self.stack.data().close();
            self.open = false;
        }
    }
}
