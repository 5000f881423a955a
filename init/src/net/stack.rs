//! smoltcp over the packet device: one interface, one TCP socket to the orchestrator and, when
//! asked for, a DHCPv4 client. The event loop is smoltcp's: poll the interface, let the caller
//! look at the sockets, sleep on the device until the next timer or frame.
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::{dhcpv4, tcp};
use smoltcp::time::Duration;
use smoltcp::wire::{EthernetAddress, IpCidr, Ipv4Cidr};

use super::PacketDevice;
use crate::clock;
use crate::config::Address;

/// TCP buffer sizes: a full frame in flight each way without stalling on the window.
pub const TCP_BUFFER: usize = 32 * 1024;
/// Buffer sizes of the functions' data socket: enough for a window of a service's replies.
pub const DATA_BUFFER: usize = 16 * 1024;

/// Memory smoltcp's sockets live in; owned by the caller's stack frame, no allocator.
pub struct Buffers<'a> {
    sockets: [SocketStorage<'a>; 3],
    tcp_rx: [u8; TCP_BUFFER],
    tcp_tx: [u8; TCP_BUFFER],
    data_rx: [u8; DATA_BUFFER],
    data_tx: [u8; DATA_BUFFER],
}

impl Buffers<'_> {
    pub const fn new() -> Self {
        Buffers {
            sockets: [SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY],
            tcp_rx: [0; TCP_BUFFER],
            tcp_tx: [0; TCP_BUFFER],
            data_rx: [0; DATA_BUFFER],
            data_tx: [0; DATA_BUFFER],
        }
    }
}

impl Default for Buffers<'_> {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Stack<'b> {
    iface: Interface,
    device: PacketDevice,
    sockets: SocketSet<'b>,
    tcp: SocketHandle,
    /// The functions' connection to a service (see [`super::StackConnector`]).
    data: SocketHandle,
    dhcp: Option<SocketHandle>,
    /// When the interface got its address (µs since boot).
    pub address_us: Option<u64>,
}

impl<'b> Stack<'b> {
    pub fn new(mut device: PacketDevice, address: Address, buffers: &'b mut Buffers<'b>) -> Stack<'b> {
        let mut config = IfaceConfig::new(EthernetAddress(device.mac()).into());
        // Seeds TCP initial sequence numbers and ports; boot time in ns and the MAC differ per boot
        // and per worker, which is all a worker on a trusted segment needs.
        let m = device.mac();
        config.random_seed = clock::now_ns() ^ u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]);
        let mut iface = Interface::new(config, &mut device, clock::instant());
        let Buffers { sockets, tcp_rx, tcp_tx, data_rx, data_tx } = buffers;
        let mut sockets = SocketSet::new(&mut sockets[..]);
        let mut socket =
            tcp::Socket::new(tcp::SocketBuffer::new(&mut tcp_rx[..]), tcp::SocketBuffer::new(&mut tcp_tx[..]));
        // Small request/response frames: send at once, acknowledge at once.
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        // A vanished orchestrator is noticed, and the worker reboots instead of waiting forever.
        socket.set_keep_alive(Some(Duration::from_secs(2)));
        socket.set_timeout(Some(Duration::from_secs(10)));
        let tcp = sockets.add(socket);
        let mut socket =
            tcp::Socket::new(tcp::SocketBuffer::new(&mut data_rx[..]), tcp::SocketBuffer::new(&mut data_tx[..]));
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        let data = sockets.add(socket);
        let mut address_us = None;
        let dhcp = match address {
            Address::Static { ip, prefix, gateway } => {
                iface.update_ip_addrs(|a| {
                    let _ = a.push(IpCidr::Ipv4(Ipv4Cidr::new(ip, prefix)));
                });
                if let Some(gw) = gateway {
                    let _ = iface.routes_mut().add_default_ipv4_route(gw);
                }
                address_us = Some(clock::now_us());
                None
            }
            Address::Dhcp => Some(sockets.add(dhcpv4::Socket::new())),
        };
        Stack { iface, device, sockets, tcp, data, dhcp, address_us }
    }

    /// Runs the event loop until `ready` returns a value or `deadline_us` (µs since boot) passes.
    pub fn wait<T>(&mut self, deadline_us: u64, mut ready: impl FnMut(&mut Self) -> Option<T>) -> Option<T> {
        loop {
            let now = clock::instant();
            self.iface.poll(now, &mut self.device, &mut self.sockets);
            self.apply_dhcp();
            if let Some(value) = ready(self) {
                return Some(value);
            }
            let now_us = clock::now_us();
            if now_us >= deadline_us {
                return None;
            }
            let left = Duration::from_micros(deadline_us - now_us);
            let delay = self.iface.poll_delay(now, &self.sockets).map_or(left, |d| d.min(left));
            self.device.wait(Some(delay));
        }
    }

    /// Sleeps `ms` while still answering ARP and TCP timers.
    pub fn pause_ms(&mut self, ms: u64) {
        let until = clock::now_us() + ms * 1000;
        self.wait(until, |_| None::<()>);
    }

    pub fn tcp(&mut self) -> &mut tcp::Socket<'b> {
        self.sockets.get_mut::<tcp::Socket>(self.tcp)
    }

    /// Starts a TCP connection from a fresh ephemeral port.
    pub fn connect(&mut self, remote: core::net::SocketAddrV4, attempt: u16) -> Result<(), tcp::ConnectError> {
        let port = 49152 + ((clock::now_ns() as u16).wrapping_add(attempt.wrapping_mul(7919)) % 16384);
        let socket = self.sockets.get_mut::<tcp::Socket>(self.tcp);
        socket.abort();
        socket.connect(self.iface.context(), (*remote.ip(), remote.port()), port)
    }

    /// The functions' data socket.
    pub fn data(&mut self) -> &mut tcp::Socket<'b> {
        self.sockets.get_mut::<tcp::Socket>(self.data)
    }

    /// Starts the data socket's connection from a fresh ephemeral port (below the orchestrator
    /// link's range, so the two never collide), dropping whatever it held.
    pub fn connect_data(&mut self, remote: core::net::SocketAddrV4) -> Result<(), tcp::ConnectError> {
        let port = 32768 + (clock::now_ns() as u16 % 16384);
        let socket = self.sockets.get_mut::<tcp::Socket>(self.data);
        socket.abort();
        socket.connect(self.iface.context(), (*remote.ip(), remote.port()), port)
    }

    fn apply_dhcp(&mut self) {
        let Some(handle) = self.dhcp else { return };
        match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            Some(dhcpv4::Event::Configured(lease)) => {
                log::info!("dhcp: address {} router {:?}", lease.address, lease.router);
                self.iface.update_ip_addrs(|a| {
                    a.clear();
                    let _ = a.push(IpCidr::Ipv4(lease.address));
                });
                match lease.router {
                    Some(router) => drop(self.iface.routes_mut().add_default_ipv4_route(router)),
                    None => self.iface.routes_mut().remove_default_ipv4_route().map_or((), drop),
                }
                self.address_us.get_or_insert_with(clock::now_us);
            }
            Some(dhcpv4::Event::Deconfigured) => {
                log::warn!("dhcp: lease lost");
                self.iface.update_ip_addrs(|a| a.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
            }
            None => {}
        }
    }
}
