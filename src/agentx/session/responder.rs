//! Answers the master's requests on a thread of its own, with blocking I/O.
//!
//! net-snmp 5.9 forwards every repetition of a GETBULK as its own AgentX
//! GetNext, so a walk is one master↔subagent round trip per varbind and the
//! hand-off is most of what a request costs us. On the async runtime each
//! request would also pay an `epoll_wait` and the runtime's timer and waker
//! bookkeeping, a large share of the cost of one varbind. A thread
//! blocked in `read` answers with one read and one write and nothing in
//! between. Everything else — Open, Register, Ping, Notify, reconnecting —
//! stays on the runtime, which gets the master's Responses from here.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use super::answer::{answer, encode_reply, reply_to_header};
use super::incoming::{Incoming, LinkError, Reply};
use super::objects::ObjectSource;
use crate::agentx::clock::MasterClock;
use crate::agentx::pdu::{
    Body, DecodeError, ErrorStatus, FrameDecoder, Header, Pdu, PduType, Response,
};
use crate::agentx::transport::MasterStream;
use crate::oid::Oid;

/// The read chunk size. Any size works (frames are reassembled); this one
/// takes a typical burst of requests in one read.
const READ_CHUNK: usize = 16 * 1024;

/// Responses waiting for the runtime, at most; past that the thread waits,
/// which stops reading from a master that floods us.
const INCOMING_CAPACITY: usize = 64;

/// Who we are on this connection, fixed once the master answers Open.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    pub session_id: u32,
    pub clock: MasterClock,
}

/// The connection as the runtime and the responder thread share it.
pub struct Link {
    /// Replies (responder) and our own PDUs (runtime) are whole PDUs each,
    /// so writes are serialised.
    writer: Mutex<MasterStream>,
    /// For ending the connection without waiting for a writer stuck on a
    /// master that stopped reading.
    control: MasterStream,
    identity: OnceLock<Identity>,
    write_timeout: Duration,
}

impl Link {
    /// Writes one whole PDU. Blocks for at most the write timeout, which a
    /// master that reads its socket never comes near.
    pub fn write(&self, bytes: &[u8]) -> Result<(), LinkError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.write_all(bytes).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                LinkError::WriteTimeout(self.write_timeout)
            }
            _ => LinkError::Io(e),
        })
    }

    /// Records the session the master opened for us. Requests can arrive
    /// only after our Register, which is sent after this.
    pub fn set_identity(&self, identity: Identity) {
        let _ = self.identity.set(identity);
    }

    fn identity(&self) -> Identity {
        self.identity.get().copied().unwrap_or(Identity {
            session_id: 0,
            clock: MasterClock::local(),
        })
    }

    /// Ends the connection; the responder wakes to EOF and stops.
    pub fn close(&self) {
        // Already closed by the peer is fine: either way it is over.
        let _ = self.control.shutdown();
    }
}

/// Starts answering requests on `stream` for the objects of `source` under
/// `root`; Responses and the final error come out of the returned receiver.
pub fn start<S: ObjectSource>(
    stream: MasterStream,
    write_timeout: Duration,
    root: Oid,
    source: Arc<S>,
) -> io::Result<(Arc<Link>, mpsc::Receiver<Incoming>)> {
    stream.set_write_timeout(write_timeout)?;
    let reader = stream.try_clone()?;
    let control = stream.try_clone()?;
    let link = Arc::new(Link {
        writer: Mutex::new(stream),
        control,
        identity: OnceLock::new(),
        write_timeout,
    });
    let (tx, rx) = mpsc::channel(INCOMING_CAPACITY);
    let shared = Arc::clone(&link);
    std::thread::Builder::new()
        .name("agentx-responder".into())
        .spawn(move || {
            let served = Served { root, source };
            let end = serve_requests(&shared, reader, &served, &tx);
            // Nobody listening means the runtime already dropped the link.
            let _ = tx.blocking_send(Err(end));
        })?;
    Ok((link, rx))
}

/// The registered subtree and where its objects come from.
struct Served<S> {
    root: Oid,
    source: Arc<S>,
}

/// Reads and answers until the connection ends; returns why it did.
fn serve_requests<S: ObjectSource>(
    link: &Link,
    mut reader: MasterStream,
    served: &Served<S>,
    tx: &mpsc::Sender<Incoming>,
) -> LinkError {
    let mut frames = FrameDecoder::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        loop {
            let frame = match frames.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return LinkError::Frame(e),
            };
            match handle(link, &frame, served) {
                Ok(None) => {}
                Ok(Some(reply)) => {
                    if tx.blocking_send(Ok(reply)).is_err() {
                        return LinkError::Eof;
                    }
                }
                Err(e) => return e,
            }
        }
        match reader.read(&mut chunk) {
            Ok(0) => return LinkError::Eof,
            Ok(n) => frames.extend(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return LinkError::Io(e),
        }
    }
}

/// Handles one PDU from the master: requests are answered from one view of
/// the objects; Responses are handed back.
fn handle<S: ObjectSource>(
    link: &Link,
    frame: &[u8],
    served: &Served<S>,
) -> Result<Option<Reply>, LinkError> {
    let pdu = match Pdu::decode(frame) {
        Ok(pdu) => pdu,
        Err(e) => {
            reject_unparsable(link, frame, e)?;
            return Ok(None);
        }
    };
    let reply = match pdu.body {
        Body::Response(res) => {
            return Ok(Some(Reply {
                packet_id: pdu.packet_id,
                session_id: pdu.session_id,
                res,
            }))
        }
        Body::Close { reason } => return Err(LinkError::ClosedByMaster(reason)),
        _ => {
            let identity = link.identity();
            answer(
                &pdu,
                identity.session_id,
                &served.root,
                &served.source.view(identity.clock),
            )
        }
    };
    if let Some(reply) = reply {
        let bytes = encode_reply(&reply).map_err(|err| LinkError::Encode {
            what: "a reply",
            err,
        })?;
        link.write(&bytes)?;
    }
    Ok(None)
}

/// §7.2.2: a request whose header parsed but whose body did not gets a
/// parseError Response; anything else unparsable is dropped.
fn reject_unparsable(link: &Link, frame: &[u8], err: DecodeError) -> Result<(), LinkError> {
    match Header::decode(frame) {
        Ok(h) if h.pdu_type != PduType::Response => {
            tracing::warn!(
                "unparsable {:?} PDU from master ({err}); answering parseError",
                h.pdu_type
            );
            let reply = reply_to_header(
                h.session_id,
                h.transaction_id,
                h.packet_id,
                Response {
                    sys_uptime: 0,
                    error: ErrorStatus::ParseError,
                    index: 0,
                    varbinds: Vec::new(),
                },
            );
            let bytes = encode_reply(&reply).map_err(|err| LinkError::Encode {
                what: "a parseError reply",
                err,
            })?;
            link.write(&bytes)
        }
        _ => {
            tracing::warn!("dropping unparsable PDU from master: {err}");
            Ok(())
        }
    }
}
