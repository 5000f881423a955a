//! The network interface seen through an AF_PACKET socket: its index, hardware address and flags.
//! The interface ioctls work on a packet socket, so no IPv4 socket (and no `CONFIG_INET`) is needed.
use core::mem::{MaybeUninit, size_of};

use linux_raw_sys::if_ether::ETH_P_ALL;
use linux_raw_sys::if_packet::sockaddr_ll;
use linux_raw_sys::ioctl::{SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCSIFFLAGS};
use linux_raw_sys::net::{ifreq, net_device_flags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io;
use rustix::ioctl::{Opcode, Updater, ioctl};
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::{AddressFamily, Protocol, SocketFlags, SocketType};

/// A raw packet socket bound to one interface.
pub struct Nic {
    fd: OwnedFd,
    name: [u8; 16],
    pub mac: [u8; 6],
}

/// ETH_P_ALL in network byte order, as the socket and the address want it.
const ALL_PROTOCOLS_BE: u16 = (ETH_P_ALL as u16).to_be();

impl Nic {
    /// Opens `name` (e.g. `eth0`): a non-blocking raw packet socket bound to it.
    pub fn open(name: &str) -> io::Result<Nic> {
        let protocol =
            Protocol::from_raw(core::num::NonZeroU32::new(u32::from(ALL_PROTOCOLS_BE)).ok_or(io::Errno::INVAL)?);
        let fd = rustix::net::socket_with(
            AddressFamily::PACKET,
            SocketType::RAW,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            Some(protocol),
        )?;
        let mut ifname = [0u8; 16];
        if name.len() >= ifname.len() {
            return Err(io::Errno::NAMETOOLONG);
        }
        ifname[..name.len()].copy_from_slice(name.as_bytes());
        let index = rustix::net::netdevice::name_to_index(&fd, name)?;
        let mut nic = Nic { fd, name: ifname, mac: [0; 6] };
        rustix::net::bind(
            &nic.fd,
            &LinkAddr(sockaddr_ll {
                sll_family: linux_raw_sys::net::AF_PACKET as u16,
                sll_protocol: ALL_PROTOCOLS_BE,
                sll_ifindex: index as i32,
                sll_hatype: 0,
                sll_pkttype: 0,
                sll_halen: 0,
                sll_addr: [0; 8],
            }),
        )?;
        let mut req = nic.request();
        nic.ioctl::<{ SIOCGIFHWADDR as Opcode }>(&mut req)?;
        // SAFETY: SIOCGIFHWADDR filled the hardware-address member of the union: a sockaddr whose
        // first two bytes are the family and whose next six are the MAC.
        let hw: *const u8 = (&raw const req.ifr_ifru.ifru_hwaddr).cast();
        for (i, byte) in nic.mac.iter_mut().enumerate() {
            *byte = unsafe { *hw.add(2 + i) };
        }
        Ok(nic)
    }

    /// Sets IFF_UP.
    pub fn set_up(&self) -> io::Result<()> {
        let mut req = self.request();
        self.ioctl::<{ SIOCGIFFLAGS as Opcode }>(&mut req)?;
        // SAFETY: SIOCGIFFLAGS filled the flags member.
        unsafe { req.ifr_ifru.ifru_flags |= net_device_flags::IFF_UP as i16 };
        self.ioctl::<{ SIOCSIFFLAGS as Opcode }>(&mut req)
    }

    /// True once the link has carrier (IFF_RUNNING).
    pub fn is_running(&self) -> io::Result<bool> {
        let mut req = self.request();
        self.ioctl::<{ SIOCGIFFLAGS as Opcode }>(&mut req)?;
        // SAFETY: SIOCGIFFLAGS filled the flags member.
        Ok(unsafe { req.ifr_ifru.ifru_flags } & net_device_flags::IFF_RUNNING as i16 != 0)
    }

    fn request(&self) -> ifreq {
        // SAFETY: ifreq is plain data; all-zero is a valid value.
        let mut req: ifreq = unsafe { MaybeUninit::zeroed().assume_init() };
        for (dst, src) in unsafe { req.ifr_ifrn.ifrn_name.iter_mut() }.zip(self.name) {
            *dst = src as _;
        }
        req
    }

    fn ioctl<const OPCODE: Opcode>(&self, req: &mut ifreq) -> io::Result<()> {
        // SAFETY: each opcode used here takes a `struct ifreq` naming the interface.
        unsafe { ioctl(&self.fd, Updater::<OPCODE, ifreq>::new(req)) }
    }
}

impl AsFd for Nic {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A `sockaddr_ll` for bind(2); rustix has no packet address type of its own.
struct LinkAddr(sockaddr_ll);

// SAFETY: the pointer and length describe a complete, initialised sockaddr_ll.
unsafe impl SocketAddrArg for LinkAddr {
    unsafe fn with_sockaddr<R>(&self, f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R) -> R {
        f((&self.0 as *const sockaddr_ll).cast(), size_of::<sockaddr_ll>() as SocketAddrLen)
    }
}
