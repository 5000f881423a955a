//! smoltcp's view of the NIC: whole Ethernet frames in and out of the packet socket.
use rustix::event::{PollFd, PollFlags, poll};
use rustix::net::{RecvFlags, SendFlags, recv, send};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::{Duration, Instant};

use super::Nic;

/// Largest Ethernet frame without FCS at the default MTU.
const FRAME: usize = 1514;

pub struct PacketDevice {
    nic: Nic,
    rx: [u8; FRAME],
}

impl PacketDevice {
    pub fn new(nic: Nic) -> PacketDevice {
        PacketDevice { nic, rx: [0; FRAME] }
    }

    pub fn mac(&self) -> [u8; 6] {
        self.nic.mac
    }

    /// Sleeps until a frame arrives or `timeout` passes (`None`: until a frame arrives).
    pub fn wait(&self, timeout: Option<Duration>) {
        let ts = timeout.map(|d| rustix::time::Timespec {
            tv_sec: (d.total_micros() / 1_000_000) as i64,
            tv_nsec: ((d.total_micros() % 1_000_000) * 1_000) as i64,
        });
        let mut fds = [PollFd::new(&self.nic, PollFlags::IN)];
        let _ = poll(&mut fds, ts.as_ref());
    }
}

impl phy::Device for PacketDevice {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        loop {
            let (len, _) = recv(&self.nic, &mut self.rx[..], RecvFlags::DONTWAIT).ok()?;
            // The packet socket also sees our own outgoing frames: skip what we sent.
            if len >= 12 && self.rx[6..12] == self.nic.mac {
                continue;
            }
            return Some((RxToken { frame: &self.rx[..len] }, TxToken { nic: &self.nic }));
        }
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken { nic: &self.nic })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = FRAME;
        caps
    }
}

pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

pub struct TxToken<'a> {
    nic: &'a Nic,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = [0u8; FRAME];
        let len = len.min(FRAME);
        let result = f(&mut frame[..len]);
        // A full socket buffer drops the frame; TCP retransmits it.
        let _ = send(self.nic, &frame[..len], SendFlags::DONTWAIT);
        result
    }
}
