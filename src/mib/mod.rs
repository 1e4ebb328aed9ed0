//! IPSEC-VTI-MIB: the OID layout (`oids`), each object described once
//! (`columns`), the master's clock for TimeStamps (`clock`), the lookup
//! structure (`index`), the snapshot → index rendering (`render`) and the
//! MIB module text (`text`).

pub use crate::agentx::clock;
pub mod columns;
pub mod index;
pub mod oids;
pub mod render;
pub mod text;

pub use clock::MasterClock;
pub use index::{Lookup, MibIndex, SharedIndex};
