//! The IKE view from strongSwan's charon over VICI, part of the collect
//! stage: what `swanctl --list-conns` / `--list-sas` show, plus the last
//! failure reason per connection captured from charon's event stream.
//! Knows nothing of classification, the MIB or AgentX.
//!
//! - `sample`: the plain-data result (`IkeSample`, `TermReason`, …).
//! - `parse`: VICI messages → sample types.
//! - `reason`: charon log line → failure signal; message sanitising.
//! - `failures`: events → last failure per connection (pure).
//! - `state_file`: the running agent's last failures, for `show`.
//! - `source`: `IkeSource`, the two VICI connections, timeouts, backoff.

pub mod failures;
pub mod parse;
pub mod reason;
pub mod sample;
mod source;
pub mod state_file;

pub use sample::{
    ChildBinding, ChildConfig, ChildSa, IkeConnection, IkeFailure, IkeSa, IkeSample, Mark,
    TermReason,
};
pub use source::{IkeOptions, IkeSource, EVENTS};
