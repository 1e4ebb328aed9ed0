//! The AgentX protocol (RFC 2741), as a subagent speaks it: `pdu` is the
//! wire codec, `transport` connects to the master agent, `clock` follows the
//! master's sysUpTime, and `session` runs Open → Register → serve.
//!
//! Nothing here knows the application: the session serves whatever
//! implements [`session::ObjectSource`] and sends whatever
//! [`session::Notification`]s it is handed, with a [`session::SessionConfig`]
//! of its own.

pub mod clock;
pub mod pdu;
pub mod session;
pub mod transport;
