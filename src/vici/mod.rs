//! The VICI protocol (strongSwan's Versatile IKE Control Interface, see
//! `src/libcharon/plugins/vici/README.md` in strongSwan): `message` is the
//! key/section/list encoding, `packet` the framing and packet types,
//! `client` a connection to charon over a Unix or TCP stream.
//!
//! Nothing here knows about IKE: the IKE view is built on top of it in
//! `collect::ike`. Every decoder returns errors instead of panicking and
//! bounds what it accepts (packet size, nesting depth), because the bytes
//! come from another process.

pub mod client;
pub mod message;
pub mod packet;

pub use client::{Client, ClientError, Endpoint};
pub use message::{Element, Message, MessageError};
pub use packet::{FrameDecoder, Packet, PacketError, PacketKind, MAX_PACKET_LEN};
