//! IPSEC-VTI-MIB: the OID layout (`oids`), the master's clock for TimeStamps
//! (`clock`), the lookup structure (`index`) and the snapshot → index
//! rendering (`render`).

pub mod clock;
pub mod index;
pub mod oids;
pub mod render;

pub use clock::MasterClock;
pub use index::{Lookup, MibIndex, SharedIndex};
