//! Sample → Snapshot, pure logic: maps SAs to tunnels (`mapping`), keeps
//! the per-interface state that needs more than one poll (`builder`),
//! classifies TX errors (`categories`) and explains them (`diagnose`).

pub mod builder;
pub mod categories;
pub mod diagnose;
pub mod mapping;

#[doc(hidden)]
pub mod testutil;
