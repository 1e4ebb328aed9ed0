//! vti-agentx: an AgentX subagent (RFC 2741) that classifies and diagnoses TX
//! errors on Linux IPsec tunnel interfaces.
//!
//! Data flows one way (see README, "Architecture"):
//! `collect` (netlink, a `model::Sample`) → `classify` (a `model::Snapshot`)
//! → `alarm` (alarm table, notifications) → `mib` (OID index) → `agentx`
//! (session with snmpd); `poller` wires them.

pub mod agent;
pub mod agentx;
pub mod alarm;
pub mod classify;
pub mod collect;
pub mod config;
pub mod heap;
pub mod logging;
pub mod mib;
pub mod model;
pub mod oid;
pub mod poller;
pub mod show;
pub mod systemd;
pub mod value;
pub mod vici;
