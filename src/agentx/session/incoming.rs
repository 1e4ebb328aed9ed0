//! What comes back from the master on one connection: its Responses to our
//! PDUs ([`Reply`]), or why the connection ended ([`LinkError`]).

use std::io;
use std::time::Duration;

use crate::agentx::pdu::{CloseReason, DecodeError, EncodeError, ErrorStatus, Response};

/// Why a connection attempt or an established session ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("master closed the connection")]
    Eof,
    #[error("undecodable data from master: {0}")]
    Frame(DecodeError),
    #[error("no response to {0} within {1:?}")]
    NoResponse(&'static str, Duration),
    #[error("writing to master timed out after {0:?}")]
    WriteTimeout(Duration),
    #[error("master closed the session (reason {0:?})")]
    ClosedByMaster(CloseReason),
    #[error("master refused {what}: {status:?}")]
    Refused {
        what: &'static str,
        status: ErrorStatus,
    },
    #[error("cannot encode {what}: {err}")]
    Encode {
        what: &'static str,
        err: EncodeError,
    },
}

/// A Response from the master, with the header fields that identify it.
#[derive(Debug)]
pub struct Reply {
    pub packet_id: u32,
    /// The new session's ID when answering an Open.
    pub session_id: u32,
    pub res: Response,
}

/// What the runtime hears from the responder: a Response from the master,
/// or why the connection ended (the last message).
pub type Incoming = Result<Reply, LinkError>;
