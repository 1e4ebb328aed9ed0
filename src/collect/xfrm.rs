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
use std::net::IpAddr;

use super::xfrm_msg::{DefaultPolicies, DumpedSa, XfrmDumpMessage};
use crate::model::{Policy, SaDirection, SecurityAssociation};

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

    /// One XFRM_MSG_GETSA dump, kept as it arrives. Directions the kernel
    /// did not give are settled by the caller (`SaDump::resolve`).
    pub async fn dump_sas(&self) -> Result<SaDump, DumpError> {
        let mut sas = SaDump::default();
        self.dump(XfrmDumpMessage::DumpSas, |msg| match msg {
            XfrmDumpMessage::Sa(sa) => sas.push(*sa),
            other => skipped(&other),
        })
        .await?;
        Ok(sas)
    }

    /// One XFRM_MSG_GETPOLICY dump.
    pub async fn dump_policies(&self) -> Result<Vec<Policy>, DumpError> {
        let mut policies = Vec::new();
        self.dump(XfrmDumpMessage::DumpPolicies, |msg| match msg {
            XfrmDumpMessage::Policy(p) => policies.push(*p),
            other => skipped(&other),
        })
        .await?;
        Ok(policies)
    }

    /// XFRM_MSG_GETDEFAULT: what happens to traffic no policy matches.
    /// Kernels before 5.16 do not know the message (EINVAL).
    pub async fn default_policies(&self) -> Result<DefaultPolicies, DumpError> {
        let mut defaults = None;
        self.exchange(
            XfrmDumpMessage::GetDefaults,
            NLM_F_REQUEST,
            |msg| match msg {
                XfrmDumpMessage::Defaults(d) => defaults = Some(d),
                other => skipped(&other),
            },
        )
        .await?;
        // Answered, but not with the defaults: treat as not supported.
        defaults.ok_or(DumpError::Kernel(libc::EINVAL))
    }

    async fn dump(
        &self,
        request: XfrmDumpMessage,
        each: impl FnMut(XfrmDumpMessage) + Send,
    ) -> Result<(), DumpError> {
        self.exchange(request, NLM_F_REQUEST | NLM_F_DUMP, each)
            .await
    }

    /// Sends `request` and hands each message of the answer to `each` as it
    /// arrives — a dump up to NLMSG_DONE, or the single message a plain
    /// request gets. Nothing is collected here: at 40,000 SAs a list of
    /// decoded messages was one more copy of the whole dump at the poll's
    /// peak.
    async fn exchange(
        &self,
        request: XfrmDumpMessage,
        flags: u16,
        mut each: impl FnMut(XfrmDumpMessage) + Send,
    ) -> Result<(), DumpError> {
        let dump = flags & NLM_F_DUMP != 0;
        let mut req = NetlinkMessage::from(request);
        req.header.flags = flags;
        req.finalize();
        let mut responses = self
            .handle
            .request(req, SocketAddr::new(0, 0))
            .map_err(|_| DumpError::ConnectionClosed)?;
        let collect = async {
            while let Some(msg) = responses.next().await {
                match msg.payload {
                    NetlinkPayload::InnerMessage(m) => {
                        each(m);
                        if !dump {
                            return Ok(());
                        }
                    }
                    NetlinkPayload::Error(e) if e.code.is_some() => {
                        let errno = -e.raw_code();
                        return Err(if errno == libc::EPERM || errno == libc::EACCES {
                            DumpError::NotPermitted(errno)
                        } else {
                            DumpError::Kernel(errno)
                        });
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
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

/// The SA dump as it arrived: the SAs in kernel order, and which of them
/// the kernel gave no direction (no XFRMA_SA_DIR: all SAs before Linux 6.10,
/// most after), to be settled from the namespace's addresses.
#[derive(Debug, Default)]
pub struct SaDump {
    sas: Vec<SecurityAssociation>,
    undirected: Vec<usize>,
}

impl SaDump {
    fn push(&mut self, dumped: DumpedSa) {
        let DumpedSa {
            mut sa,
            kernel_direction,
        } = dumped;
        match kernel_direction {
            Some(direction) => sa.direction = direction,
            None => self.undirected.push(self.sas.len()),
        }
        self.sas.push(sa);
    }

    /// Whether `resolve` will ask about local addresses.
    pub fn needs_local_addresses(&self) -> bool {
        !self.undirected.is_empty()
    }

    /// The SAs with every direction settled, in place: an SA the kernel gave
    /// no direction is inbound when its destination is one of our addresses.
    pub fn resolve(mut self, is_local: impl Fn(&IpAddr) -> bool) -> Vec<SecurityAssociation> {
        for &i in &self.undirected {
            let sa = &mut self.sas[i];
            sa.direction = if is_local(&sa.dst) {
                SaDirection::In
            } else {
                SaDirection::Out
            };
        }
        self.sas
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::xfrm_msg::{parse_sa, tests::keyed_sa_payload};

    #[test]
    fn directions_from_the_kernel_else_from_local_addresses() {
        // keyed_sa_payload is 192.0.2.1 -> 192.0.2.2, without XFRMA_SA_DIR.
        let undirected = parse_sa(&keyed_sa_payload()).unwrap();
        assert_eq!(undirected.kernel_direction, None);
        let mut told = undirected.clone();
        told.kernel_direction = Some(SaDirection::Out);
        let dump = |sas: &[DumpedSa]| {
            let mut dump = SaDump::default();
            for sa in sas {
                dump.push(sa.clone());
            }
            dump
        };
        let local: IpAddr = "192.0.2.2".parse().unwrap();

        let both = dump(&[told.clone(), undirected.clone()]);
        assert!(both.needs_local_addresses());
        let sas = both.resolve(|ip| *ip == local);
        // The kernel's word wins over the address heuristic.
        assert_eq!(sas[0].direction, SaDirection::Out);
        assert_eq!(sas[1].direction, SaDirection::In);

        let sas = dump(&[undirected]).resolve(|_| false);
        assert_eq!(sas[0].direction, SaDirection::Out);
        assert!(!dump(&[told]).needs_local_addresses());
    }
}
