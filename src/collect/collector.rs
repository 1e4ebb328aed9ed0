//! `NetlinkCollector`: one `Sample` per poll from a NETLINK_ROUTE and a
//! NETLINK_XFRM connection kept open across polls, plus /proc/net/xfrm_stat.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use futures::channel::mpsc::UnboundedReceiver;
use netlink_packet_core::NetlinkMessage;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_proto::sys::SocketAddr;
use tokio::task::JoinHandle;

use super::kernel::{kernel_release, KernelVersion};
use super::links::LinkDumper;
use super::xfrm::{DumpError, SaDump, XfrmConnection};
use super::{addrs, route_lookup, xfrm_stat};
use crate::model::{Availability, Lookups, Policy, RouteAnswer, Sample, SampleSource};

/// Collector settings.
#[derive(Clone, Debug)]
pub struct CollectorOptions {
    /// Where the per-namespace XFRM counters are read from.
    pub xfrm_stat_path: PathBuf,
    /// Deadline for each netlink dump; a connection that misses it is
    /// reopened on the next poll.
    pub netlink_timeout: Duration,
}

impl Default for CollectorOptions {
    fn default() -> Self {
        CollectorOptions {
            xfrm_stat_path: PathBuf::from(xfrm_stat::XFRM_STAT_PATH),
            netlink_timeout: Duration::from_secs(10),
        }
    }
}

/// Reads the kernel through netlink. Sockets are opened on the first poll
/// (so `new` needs no runtime; `collect` must run inside a tokio runtime)
/// and reopened after a connection failure.
///
/// Per poll: one RTM_GETLINK dump, one XFRM_MSG_GETSA and one
/// XFRM_MSG_GETPOLICY dump, one RTM_GETADDR dump (only when some SA lacks
/// XFRMA_SA_DIR), one read of /proc/net/xfrm_stat.
///
/// Without CAP_NET_ADMIN the XFRM dumps fail with EPERM: SAs and policies
/// are `Unavailable` (the reason says CAP_NET_ADMIN is needed), link data is
/// still collected, and one warning is logged — again only if the reason
/// changes, plus one note when the dumps work again.
pub struct NetlinkCollector {
    options: CollectorOptions,
    kernel_release: String,
    kernel_version: Option<KernelVersion>,
    route: Option<RouteConnection>,
    xfrm: Option<XfrmConnection>,
    /// The XFRM problem last logged (`None`: dumps working).
    xfrm_problem: Option<String>,
}

impl NetlinkCollector {
    pub fn new(options: CollectorOptions) -> NetlinkCollector {
        let kernel_release = kernel_release();
        let kernel_version = KernelVersion::parse(&kernel_release);
        if kernel_version.is_none() {
            tracing::warn!(%kernel_release, "cannot parse the kernel release; assuming a current kernel");
        }
        NetlinkCollector {
            options,
            kernel_release,
            kernel_version,
            route: None,
            xfrm: None,
            xfrm_problem: None,
        }
    }

    pub fn kernel_release(&self) -> &str {
        &self.kernel_release
    }

    async fn poll(&mut self) -> anyhow::Result<Sample> {
        let timeout = self.options.netlink_timeout;
        let mut route = match self.route.take() {
            Some(r) => r,
            None => RouteConnection::open().context("opening the NETLINK_ROUTE socket")?,
        };

        let taken_at = Instant::now();
        let wall_time = SystemTime::now();
        // A failed link dump fails the poll; the connection is dropped and
        // reopened next time.
        let tunnels = tokio::time::timeout(timeout, route.links.dump_tunnels(self.kernel_version))
            .await
            .context("RTM_GETLINK dump timed out")?
            .context("RTM_GETLINK dump failed")?;

        let (sas, policies) = self.xfrm_dumps().await;

        // Settle SA directions; the address dump is needed only for SAs
        // without XFRMA_SA_DIR (all SAs before 6.10; after, those added
        // without a direction, which is still most).
        let sas = match sas {
            Ok(dumped) => {
                let local = if dumped.needs_local_addresses() {
                    tokio::time::timeout(timeout, addrs::dump_local_addresses(&route.handle))
                        .await
                        .context("RTM_GETADDR dump timed out")?
                        .context("RTM_GETADDR dump failed")?
                } else {
                    HashSet::new()
                };
                Availability::Available(dumped.resolve(|ip| local.contains(ip)))
            }
            Err(reason) => Availability::Unavailable(reason),
        };
        let policies = match policies {
            Ok(p) => Availability::Available(p),
            Err(reason) => Availability::Unavailable(reason),
        };
        self.route = Some(route);

        Ok(Sample {
            taken_at,
            wall_time,
            kernel_release: self.kernel_release.clone(),
            tunnels,
            sas,
            policies,
            xfrm_stat: xfrm_stat::read(&self.options.xfrm_stat_path),
            // Polled by the poller alongside (`collect::ike`).
            ike: None,
        })
    }

    /// The SA and policy dumps, each either data or the reason it is
    /// unavailable. Logs state changes once.
    async fn xfrm_dumps(&mut self) -> (Result<SaDump, String>, Result<Vec<Policy>, String>) {
        let conn = match self.xfrm.take() {
            Some(c) => c,
            None => match XfrmConnection::open(self.options.netlink_timeout) {
                Ok(c) => c,
                Err(e) => {
                    let reason = format!("cannot open the NETLINK_XFRM socket: {e}");
                    self.note_xfrm_problem(Some(&reason));
                    return (Err(reason.clone()), Err(reason));
                }
            },
        };
        let sas = conn.dump_sas().await;
        let policies = match &sas {
            // Same answer for the policy dump; don't ask twice.
            Err(e @ DumpError::NotPermitted(_)) => Err(e.clone()),
            _ => conn.dump_policies().await,
        };
        let fatal = sas.as_ref().err().is_some_and(DumpError::is_fatal)
            || policies.as_ref().err().is_some_and(DumpError::is_fatal);
        if !fatal {
            self.xfrm = Some(conn);
        }
        let sas = sas.map_err(|e| format!("XFRM SA dump unavailable: {e}"));
        let policies = policies.map_err(|e| format!("XFRM policy dump unavailable: {e}"));
        let problem = sas.as_ref().err().or(policies.as_ref().err()).cloned();
        self.note_xfrm_problem(problem.as_deref());
        (sas, policies)
    }

    fn note_xfrm_problem(&mut self, problem: Option<&str>) {
        match (problem, self.xfrm_problem.as_deref()) {
            (Some(now), Some(before)) if now == before => {}
            (Some(now), _) => {
                tracing::warn!(
                    "{now}; SA and policy data will be reported as unavailable \
                     (interface counters are still collected)"
                );
                self.xfrm_problem = Some(now.to_owned());
            }
            (None, Some(_)) => {
                tracing::info!("XFRM SA and policy dumps work again");
                self.xfrm_problem = None;
            }
            (None, None) => {}
        }
    }
}

impl SampleSource for NetlinkCollector {
    async fn collect(&mut self) -> anyhow::Result<Sample> {
        self.poll().await
    }
}

impl Lookups for NetlinkCollector {
    async fn route_to(
        &mut self,
        dst: IpAddr,
        src: Option<IpAddr>,
        mark: u32,
    ) -> Option<RouteAnswer> {
        if self.route.is_none() {
            self.route = RouteConnection::open().ok();
        }
        let handle = &self.route.as_ref()?.handle;
        route_lookup::route_to(handle, dst, src, mark).await
    }

    /// Asked only while diagnosing (rate-limited), on the connection the
    /// dumps use. `None` before Linux 5.16 (no XFRM_MSG_GETDEFAULT: every
    /// default is accept there, but saying so would be a guess) and without
    /// CAP_NET_ADMIN; the diagnosis then names the missing policy.
    async fn default_out_blocks(&mut self) -> Option<bool> {
        let conn = self.xfrm.as_ref()?;
        match conn.default_policies().await {
            Ok(defaults) => Some(defaults.outbound_blocks()),
            Err(e) => {
                tracing::debug!("XFRM default policy unknown: {e}");
                None
            }
        }
    }
}

/// The NETLINK_ROUTE side: the link dump's own socket, and the rtnetlink
/// connection for the address dump and route lookups (its task is aborted
/// on drop).
struct RouteConnection {
    links: LinkDumper,
    handle: rtnetlink::Handle,
    task: JoinHandle<()>,
    _unsolicited: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
}

impl RouteConnection {
    fn open() -> std::io::Result<RouteConnection> {
        let links = LinkDumper::open()?;
        let (conn, handle, unsolicited) = rtnetlink::new_connection()?;
        Ok(RouteConnection {
            links,
            handle,
            task: tokio::spawn(conn),
            _unsolicited: unsolicited,
        })
    }
}

impl Drop for RouteConnection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xfrm_problems_are_noted_once_per_change() {
        let mut c = NetlinkCollector::new(CollectorOptions::default());
        assert!(!c.kernel_release().is_empty());
        c.note_xfrm_problem(None);
        assert_eq!(c.xfrm_problem, None);
        c.note_xfrm_problem(Some("EPERM"));
        assert_eq!(c.xfrm_problem.as_deref(), Some("EPERM"));
        c.note_xfrm_problem(Some("EPERM"));
        assert_eq!(c.xfrm_problem.as_deref(), Some("EPERM"));
        c.note_xfrm_problem(Some("timeout"));
        assert_eq!(c.xfrm_problem.as_deref(), Some("timeout"));
        c.note_xfrm_problem(None);
        assert_eq!(c.xfrm_problem, None);
    }
}
