//! Reads the kernel: tunnel links, XFRM SAs and policies, /proc/net/xfrm_stat;
//! and, in `ike`, charon's IKE view over VICI.
//! The only module that talks netlink.
//!
//! - `links`: RTM_GETLINK dump on its own socket → `Tunnel`s (vti, vti6, xfrm),
//!   read in place from the receive buffer.
//! - `addrs`: RTM_GETADDR dump → this namespace's addresses (SA direction).
//! - `xfrm_msg`: key-free parsing of XFRM SA/policy dump entries.
//! - `xfrm`: the NETLINK_XFRM connection and its dumps.
//! - `codec`: the XFRM connection's netlink codec (never logs bytes).
//! - `xfrm_stat`: /proc/net/xfrm_stat.
//! - `kernel`: uname release and the version rules (≤5.10 xfrm counters).
//! - `route_lookup`: `ip route get` for the diagnosis.
//! - `collector`: `NetlinkCollector`, the `SampleSource` tying them together.
//! - `ike`: the IKE view from strongSwan's charon over VICI (not netlink).

pub mod addrs;
pub mod codec;
mod collector;
pub mod ike;
pub mod kernel;
pub mod links;
pub mod route_lookup;
pub mod xfrm;
pub mod xfrm_msg;
pub mod xfrm_stat;

pub use collector::{CollectorOptions, NetlinkCollector};
