//! The AgentX protocol (RFC 2741): `pdu` is the wire codec, `transport`
//! connects to the master agent, `session` runs Open → Register → serve.

pub mod pdu;
pub mod session;
pub mod transport;
