//! The NETLINK_XFRM connection: its two dumps (SAs, policies) and the
//! default-policy question.

use std::fmt;
use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_proto::sys::{protocols::NETLINK_XFRM, SocketAddr, TokioSocket};
use netlink_proto::ConnectionHandle;
use tokio::task::JoinHandle;

use super::codec::KeySafeCodec;
use super::xfrm_msg::{DefaultPolicies, DumpedSa, XfrmDumpMessage};
use crate::model::Policy;

/// Why a dump produced nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpError {
    /// EPERM/EACCES: XFRM netlink needs CAP_NET_ADMIN, even for reading.
    NotPermitted(i32),
    /// Any other error the kernel answered with (positive errno).
    Kernel(i32),
    /// The connection task is gone; reconnect.
    ConnectionClosed,
    /// No complete answer within the deadline; reconnect.
    Timeout,
}

impl DumpError {
    /// The connection is unusable and should be reopened.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DumpError::ConnectionClosed | DumpError::Timeout)
    }
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::NotPermitted(errno) => write!(
                f,
                "{}: reading XFRM SAs and policies needs CAP_NET_ADMIN",
                std::io::Error::from_raw_os_error(*errno)
            ),
            DumpError::Kernel(errno) => write!(
                f,
                "kernel refused the dump: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
            DumpError::ConnectionClosed => f.write_str("XFRM netlink connection closed"),
            DumpError::Timeout => f.write_str("XFRM netlink dump timed out"),
        }
    }
}

/// A NETLINK_XFRM socket kept open across polls; its I/O runs in a tokio
/// task that is aborted on drop. Uses `KeySafeCodec`, which never logs bytes.
pub struct XfrmConnection {
    handle: ConnectionHandle<XfrmDumpMessage>,
    task: JoinHandle<()>,
    // Kept so the connection never sees a closed unsolicited channel.
    _unsolicited: UnboundedReceiver<(NetlinkMessage<XfrmDumpMessage>, SocketAddr)>,
    timeout: Duration,
}

impl XfrmConnection {
    /// Opens the socket. Fails when the kernel has no XFRM netlink
    /// (EPROTONOSUPPORT). Must be called inside a tokio runtime.
    pub fn open(timeout: Duration) -> std::io::Result<XfrmConnection> {
        let (mut conn, handle, unsolicited) =
            netlink_proto::new_connection_with_codec::<XfrmDumpMessage, TokioSocket, KeySafeCodec>(
                NETLINK_XFRM,
            )?;
        // Deliver NLMSG_DONE so a complete dump can be told apart from a
        // connection that died half-way.
        conn.set_forward_done(true);
        let task = tokio::spawn(conn);
        Ok(XfrmConnection {
            handle,
            task,
            _unsolicited: unsolicited,
            timeout,
        })
    }

    /// One XFRM_MSG_GETSA dump. Directions are resolved by the caller.
    pub async fn dump_sas(&self) -> Result<Vec<DumpedSa>, DumpError> {
        let mut sas = Vec::new();
        for msg in self.dump(XfrmDumpMessage::DumpSas).await? {
            match msg {
                XfrmDumpMessage::Sa(sa) => sas.push(*sa),
                other => skipped(&other),
            }
        }
        Ok(sas)
    }

    /// One XFRM_MSG_GETPOLICY dump.
    pub async fn dump_policies(&self) -> Result<Vec<Policy>, DumpError> {
        let mut policies = Vec::new();
        for msg in self.dump(XfrmDumpMessage::DumpPolicies).await? {
            match msg {
                XfrmDumpMessage::Policy(p) => policies.push(*p),
                other => skipped(&other),
            }
        }
        Ok(policies)
    }

    /// XFRM_MSG_GETDEFAULT: what happens to traffic no policy matches.
    /// Kernels before 5.16 do not know the message (EINVAL).
    pub async fn default_policies(&self) -> Result<DefaultPolicies, DumpError> {
        let answers = self
            .exchange(XfrmDumpMessage::GetDefaults, NLM_F_REQUEST)
            .await?;
        answers
            .into_iter()
            .find_map(|msg| match msg {
                XfrmDumpMessage::Defaults(d) => Some(d),
                other => {
                    skipped(&other);
                    None
                }
            })
            // Answered, but not with the defaults: treat as not supported.
            .ok_or(DumpError::Kernel(libc::EINVAL))
    }

    async fn dump(&self, request: XfrmDumpMessage) -> Result<Vec<XfrmDumpMessage>, DumpError> {
        self.exchange(request, NLM_F_REQUEST | NLM_F_DUMP).await
    }

    /// Sends `request` and collects the answer: a dump up to NLMSG_DONE, or
    /// the single message a plain request gets.
    async fn exchange(
        &self,
        request: XfrmDumpMessage,
        flags: u16,
    ) -> Result<Vec<XfrmDumpMessage>, DumpError> {
        let dump = flags & NLM_F_DUMP != 0;
        let mut req = NetlinkMessage::from(request);
        req.header.flags = flags;
        req.finalize();
        let mut responses = self
            .handle
            .request(req, SocketAddr::new(0, 0))
            .map_err(|_| DumpError::ConnectionClosed)?;
        let collect = async {
            let mut out = Vec::new();
            while let Some(msg) = responses.next().await {
                match msg.payload {
                    NetlinkPayload::InnerMessage(m) if !dump => return Ok(vec![m]),
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Error(e) if e.code.is_some() => {
                        let errno = -e.raw_code();
                        return Err(if errno == libc::EPERM || errno == libc::EACCES {
                            DumpError::NotPermitted(errno)
                        } else {
                            DumpError::Kernel(errno)
                        });
                    }
                    NetlinkPayload::Done(_) => return Ok(out),
                    _ => {}
                }
            }
            // The stream ends after Done/Error; ending without either means
            // the connection went away mid-dump.
            Err(DumpError::ConnectionClosed)
        };
        tokio::time::timeout(self.timeout, collect)
            .await
            .map_err(|_| DumpError::Timeout)?
    }
}

impl Drop for XfrmConnection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn skipped(msg: &XfrmDumpMessage) {
    // Safe to print: XfrmDumpMessage never holds key material.
    tracing::debug!(?msg, "skipping unusable XFRM dump entry");
}
