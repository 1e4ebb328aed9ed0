//! Sample → complete Snapshot (`Classifier`): maps SAs to tunnels
//! (`mapping`), keeps the per-interface state that needs more than one poll
//! (`builder`), classifies TX errors (`categories`) and explains them
//! (`diagnose`, with look-ups through `model::Lookups`) and joins the IKE
//! view to the tunnels (`ike`).

mod builder;
pub mod categories;
mod classifier;
pub mod diagnose;
pub mod ike;
pub mod mapping;

#[doc(hidden)]
pub mod testutil;

pub use classifier::Classifier;
