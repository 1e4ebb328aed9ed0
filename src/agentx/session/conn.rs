//! One transport connection to the master, as the async session sees it:
//! our own PDUs out, the master's Responses in, request/response matching.
//! The master's requests never come through here: the responder thread
//! answers them (see `responder`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{timeout, timeout_at, Instant};

use super::incoming::{Incoming, LinkError, Reply};
use super::objects::ObjectSource;
use super::responder::{self, Identity, Link};
use crate::agentx::clock::MasterClock;
use crate::agentx::pdu::{Body, Pdu};
use crate::agentx::transport::MasterAddr;
use crate::oid::Oid;

pub struct Conn {
    link: Arc<Link>,
    incoming: mpsc::Receiver<Incoming>,
    /// 0 until the master answers our Open.
    pub session_id: u32,
    /// The master's sysUpTime, anchored once per session (see `establish`).
    pub clock: MasterClock,
    next_packet_id: u32,
    io_timeout: Duration,
}

impl Conn {
    /// Connects and starts answering the master's requests under `root`
    /// from `objects`.
    pub async fn connect<S: ObjectSource>(
        addr: &MasterAddr,
        io_timeout: Duration,
        root: &Oid,
        objects: &Arc<S>,
    ) -> Result<Conn, LinkError> {
        let stream = timeout(io_timeout, addr.connect())
            .await
            .map_err(|_| LinkError::ConnectTimeout(io_timeout))?
            .map_err(LinkError::Connect)?;
        let (link, incoming) =
            responder::start(stream, io_timeout, root.clone(), Arc::clone(objects))?;
        Ok(Conn {
            link,
            incoming,
            session_id: 0,
            clock: MasterClock::local(),
            next_packet_id: 1,
            io_timeout,
        })
    }

    /// Records the session the master opened (its ID and sysUpTime anchor),
    /// for our PDUs and for the responder's.
    pub fn opened(&mut self, session_id: u32, clock: MasterClock) {
        self.session_id = session_id;
        self.clock = clock;
        self.link.set_identity(Identity { session_id, clock });
    }

    pub fn next_packet_id(&mut self) -> u32 {
        let id = self.next_packet_id;
        self.next_packet_id = self.next_packet_id.wrapping_add(1);
        id
    }

    /// Sends one of our own PDUs (not a reply) on this session.
    ///
    /// The write blocks the runtime thread only while the socket buffer is
    /// full — a master that stopped reading — and then for at most the I/O
    /// timeout, after which the session is given up anyway.
    pub fn send(
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
        self.link.write(&bytes)
    }

    /// The master's next Response, or why the connection ended.
    /// Cancel-safe: nothing is lost when the future is dropped.
    pub async fn next_reply(&mut self) -> Result<Reply, LinkError> {
        self.incoming.recv().await.unwrap_or(Err(LinkError::Eof))
    }

    /// Sends a request and waits for its Response (the responder keeps
    /// answering the master's own requests meanwhile: it may query us as
    /// soon as Register is done).
    pub async fn request(&mut self, body: Body, what: &'static str) -> Result<Reply, LinkError> {
        let packet_id = self.next_packet_id();
        self.send(packet_id, body, what)?;
        let deadline = Instant::now() + self.io_timeout;
        loop {
            let reply = timeout_at(deadline, self.next_reply())
                .await
                .map_err(|_| LinkError::NoResponse(what, self.io_timeout))??;
            if reply.packet_id == packet_id {
                return Ok(reply);
            }
            tracing::debug!("ignoring Response to unknown packet {}", reply.packet_id);
        }
    }
}

impl Drop for Conn {
    /// Stops the responder: it must not answer for a session we gave up.
    fn drop(&mut self) {
        self.link.close();
    }
}
