//! Which tunnel an SA belongs to. Placeholder until the collector branch's
//! mapping lands: every SA is reported as not attached (row 0).

use crate::model::{SecurityAssociation, Tunnel};

pub fn tunnel_of_sa(_tunnels: &[Tunnel], _sa: &SecurityAssociation) -> u32 {
    0
}
