//! IPSEC-VTI-MIB: the OID layout (`oids`), the snapshot → OID index
//! rendering, and the MIB text itself.

pub mod oids;
pub mod text;
