//! One transport connection to the master: framed reads, timed writes,
//! request/response matching, and answering whatever the master asks.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{timeout, timeout_at, Instant};

use super::answer::{answer, encode_reply, reply_to_header};
use crate::agentx::pdu::{
    Body, CloseReason, DecodeError, EncodeError, ErrorStatus, FrameDecoder, Header, Pdu, PduType,
    Response,
};
use crate::agentx::transport::{BoxedStream, MasterAddr};
use crate::mib::clock::MasterClock;
use crate::mib::index::{RenderCtx, SharedIndex};

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

/// The read chunk size. Any size works (frames are reassembled); this one
/// takes a typical burst of requests in one read.
const READ_CHUNK: usize = 16 * 1024;

pub struct Conn {
    stream: BoxedStream,
    frames: FrameDecoder,
    chunk: Box<[u8]>,
    /// 0 until the master answers our Open.
    pub session_id: u32,
    /// The master's sysUpTime, anchored once per session (see `establish`).
    pub clock: MasterClock,
    next_packet_id: u32,
    io_timeout: Duration,
}

impl Conn {
    pub async fn connect(addr: &MasterAddr, io_timeout: Duration) -> Result<Conn, LinkError> {
        let stream = timeout(io_timeout, addr.connect())
            .await
            .map_err(|_| LinkError::ConnectTimeout(io_timeout))?
            .map_err(LinkError::Connect)?;
        Ok(Conn {
            stream,
            frames: FrameDecoder::new(),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            session_id: 0,
            clock: MasterClock::local(),
            next_packet_id: 1,
            io_timeout,
        })
    }

    pub fn next_packet_id(&mut self) -> u32 {
        let id = self.next_packet_id;
        self.next_packet_id = self.next_packet_id.wrapping_add(1);
        id
    }

    /// Sends one of our own PDUs (not a reply) on this session.
    pub async fn send(
        &mut self,
        packet_id: u32,
        body: Body,
        what: &'static str,
    ) -> Result<(), LinkError> {
        let pdu = Pdu {
            session_id: self.session_id,
            transaction_id: 0,
            packet_id,
            body,
        };
        let bytes = pdu
            .encode()
            .map_err(|err| LinkError::Encode { what, err })?;
        self.write(&bytes).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        timeout(self.io_timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| LinkError::WriteTimeout(self.io_timeout))??;
        Ok(())
    }

    /// The next complete PDU from the master. Cancel-safe: partial input
    /// stays buffered for the next call.
    pub async fn next_frame(&mut self) -> Result<Vec<u8>, LinkError> {
        loop {
            if let Some(frame) = self.frames.next_frame().map_err(LinkError::Frame)? {
                return Ok(frame);
            }
            match self.stream.read(&mut self.chunk).await? {
                0 => return Err(LinkError::Eof),
                n => self.frames.extend(&self.chunk[..n]),
            }
        }
    }

    /// Handles one PDU from the master: requests are answered from one
    /// snapshot of `index` at once; Responses are handed back to the caller.
    pub async fn process(
        &mut self,
        frame: &[u8],
        index: &SharedIndex,
    ) -> Result<Option<Reply>, LinkError> {
        let pdu = match Pdu::decode(frame) {
            Ok(pdu) => pdu,
            Err(e) => {
                self.reject_unparsable(frame, e).await?;
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
                // The snapshot guard is released before awaiting the write.
                let snapshot = index.load();
                answer(
                    &pdu,
                    self.session_id,
                    &snapshot,
                    &RenderCtx::now(self.clock),
                )
            }
        };
        if let Some(reply) = reply {
            let bytes = encode_reply(&reply).map_err(|err| LinkError::Encode {
                what: "a reply",
                err,
            })?;
            self.write(&bytes).await?;
        }
        Ok(None)
    }

    /// §7.2.2: a request whose header parsed but whose body did not gets a
    /// parseError Response; anything else unparsable is dropped.
    async fn reject_unparsable(&mut self, frame: &[u8], err: DecodeError) -> Result<(), LinkError> {
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
                self.write(&bytes).await
            }
            _ => {
                tracing::warn!("dropping unparsable PDU from master: {err}");
                Ok(())
            }
        }
    }

    /// Sends a request and waits for its Response, answering the master's
    /// own requests meanwhile (it may query us as soon as Register is done).
    pub async fn request(
        &mut self,
        body: Body,
        what: &'static str,
        index: &SharedIndex,
    ) -> Result<Reply, LinkError> {
        let packet_id = self.next_packet_id();
        self.send(packet_id, body, what).await?;
        let deadline = Instant::now() + self.io_timeout;
        loop {
            let frame = timeout_at(deadline, self.next_frame())
                .await
                .map_err(|_| LinkError::NoResponse(what, self.io_timeout))??;
            match self.process(&frame, index).await? {
                Some(reply) if reply.packet_id == packet_id => return Ok(reply),
                Some(other) => {
                    tracing::debug!("ignoring Response to unknown packet {}", other.packet_id)
                }
                None => {}
            }
        }
    }
}
