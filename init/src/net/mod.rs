//! The worker's network: eth0 through an AF_PACKET socket, and smoltcp's TCP/IP on top, so the
//! kernel needs no IPv4 stack.
mod connector;
mod device;
mod nic;
mod stack;

pub use connector::StackConnector;
pub use device::PacketDevice;
pub use nic::Nic;
pub use stack::{Buffers, Stack};
