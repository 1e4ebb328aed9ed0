//! A notification as the session sends it: the trap OID and the objects
//! that go with it, and the Notify varbind list built from them.

use std::time::Instant;

use crate::agentx::clock::MasterClock;
use crate::agentx::pdu::VarBind;
use crate::oid::Oid;
use crate::value::Value;

/// sysUpTime.0 (SNMPv2-MIB).
pub const SYS_UPTIME_0: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
/// snmpTrapOID.0 (SNMPv2-MIB).
pub const SNMP_TRAP_OID_0: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// One SNMP notification: which NOTIFICATION-TYPE (`trap_oid`) and the
/// varbinds of its OBJECTS clause, in order. The session puts sysUpTime.0
/// and snmpTrapOID.0 in front.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub trap_oid: Oid,
    pub varbinds: Vec<(Oid, Value)>,
}

/// The Notify varbinds (RFC 2741 §6.2.10): sysUpTime.0, snmpTrapOID.0, then
/// the notification's objects. net-snmp rejects a Notify in any other order.
///
/// sysUpTime.0 is the master's uptime at sending: a notification held back
/// during an outage is stamped when delivered, and its objects carry their
/// own event times.
pub fn notify_varbinds(n: &Notification, clock: &MasterClock, now: Instant) -> Vec<VarBind> {
    let mut vbs = Vec::with_capacity(n.varbinds.len() + 2);
    vbs.push(VarBind::new(
        Oid::from_slice(SYS_UPTIME_0),
        Value::TimeTicks(clock.uptime_ticks(now)),
    ));
    vbs.push(VarBind::new(
        Oid::from_slice(SNMP_TRAP_OID_0),
        Value::ObjectIdentifier(n.trap_oid.clone()),
    ));
    vbs.extend(
        n.varbinds
            .iter()
            .map(|(name, value)| VarBind::new(name.clone(), value.clone())),
    );
    vbs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varbinds_start_with_uptime_then_trap_oid() {
        let now = Instant::now();
        let clock = MasterClock::from_master_uptime(500, now);
        let n = Notification {
            trap_oid: Oid::new(vec![1, 3, 6, 1, 4, 1, 99, 0, 7]),
            varbinds: vec![(
                Oid::new(vec![1, 3, 6, 1, 4, 1, 99, 1, 7]),
                Value::Integer(7),
            )],
        };
        let vbs = notify_varbinds(&n, &clock, now);
        assert_eq!(vbs.len(), 3);
        assert_eq!(vbs[0].name.as_slice(), SYS_UPTIME_0);
        assert_eq!(vbs[0].value, Value::TimeTicks(500));
        assert_eq!(vbs[1].name.as_slice(), SNMP_TRAP_OID_0);
        assert_eq!(vbs[1].value, Value::ObjectIdentifier(n.trap_oid.clone()));
        assert_eq!(vbs[2].value, Value::Integer(7));
    }
}
