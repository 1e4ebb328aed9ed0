//! Sample → Snapshot: maps SAs to tunnels and keeps the per-interface state
//! that needs more than one poll.

pub mod builder;
pub mod categories;
pub mod diagnose;
pub mod mapping;

#[cfg(test)]
pub(crate) mod testutil;
