//! Events → IPSEC-VTI-MIB notifications, in the AgentX session's neutral
//! form: the trap OID and the varbinds of each NOTIFICATION-TYPE's OBJECTS
//! clause, in that order. The session puts sysUpTime.0 and snmpTrapOID.0 in
//! front.

use super::engine::Event;
pub use crate::agentx::session::Notification;
use crate::mib::columns::MibEnum;
use crate::mib::oids::{self, alarm_col, if_col, ike_col, notification};
use crate::oid::Oid;
use crate::value::Value;

pub fn notification(root: &Oid, event: &Event) -> Notification {
    let if_entry = root.child(&[oids::OBJECTS, oids::IF_TABLE, 1]);
    let alarm_entry = root.child(&[oids::OBJECTS, oids::ALARM_TABLE, 1]);
    let if_obj = |col: u32, ifindex: u32| if_entry.child(&[col, ifindex]);
    let ike_entry = root.child(&[oids::OBJECTS, oids::IKE_TABLE, 1]);
    let ike_obj = |col: u32, index: u32| ike_entry.child(&[col, index]);
    let trap = |n: u32| root.child(&[oids::NOTIFICATIONS, n]);
    match event {
        Event::TxError {
            rising,
            ifindex,
            name,
            category,
            delta,
            threshold,
            interval_secs,
            diagnosis,
        } => {
            let cat = *category as u32;
            let alarm_obj = |col: u32| alarm_entry.child(&[col, *ifindex, cat]);
            let (n, threshold_col) = if *rising {
                (notification::TX_ERROR_RISING, alarm_col::RISING_THRESHOLD)
            } else {
                (notification::TX_ERROR_FALLING, alarm_col::FALLING_THRESHOLD)
            };
            Notification {
                trap_oid: trap(n),
                varbinds: vec![
                    (if_obj(if_col::NAME, *ifindex), Value::text(name)),
                    (
                        alarm_obj(alarm_col::EVENT_CATEGORY),
                        Value::Integer(cat as i32),
                    ),
                    (alarm_obj(alarm_col::LAST_DELTA), Value::Counter64(*delta)),
                    (alarm_obj(threshold_col), Value::Gauge32(*threshold)),
                    (
                        alarm_obj(alarm_col::INTERVAL),
                        Value::Gauge32(*interval_secs),
                    ),
                    (
                        if_obj(if_col::DIAGNOSIS, *ifindex),
                        Value::display_string(diagnosis),
                    ),
                ],
            }
        }
        Event::SaDown {
            ifindex,
            name,
            diagnosis,
        } => Notification {
            trap_oid: trap(notification::SA_DOWN),
            varbinds: vec![
                (if_obj(if_col::NAME, *ifindex), Value::text(name)),
                (if_obj(if_col::OUT_SA_COUNT, *ifindex), Value::Gauge32(0)),
                (
                    if_obj(if_col::DIAGNOSIS, *ifindex),
                    Value::display_string(diagnosis),
                ),
            ],
        },
        Event::SaUp {
            ifindex,
            name,
            outbound,
        } => Notification {
            trap_oid: trap(notification::SA_UP),
            varbinds: vec![
                (if_obj(if_col::NAME, *ifindex), Value::text(name)),
                (
                    if_obj(if_col::OUT_SA_COUNT, *ifindex),
                    Value::Gauge32(*outbound),
                ),
            ],
        },
        Event::SaExpiring {
            ifindex,
            name,
            seconds,
        } => Notification {
            trap_oid: trap(notification::SA_EXPIRING),
            varbinds: vec![
                (if_obj(if_col::NAME, *ifindex), Value::text(name)),
                (
                    if_obj(if_col::SECONDS_TO_HARD_EXPIRY, *ifindex),
                    Value::Integer(i32::try_from(*seconds).unwrap_or(i32::MAX)),
                ),
            ],
        },
        Event::Tunnel {
            up,
            ifindex,
            name,
            admin_up,
            oper,
            cause,
            diagnosis,
        } => {
            let mut varbinds = vec![
                (if_obj(if_col::NAME, *ifindex), Value::text(name)),
                (
                    if_obj(if_col::ADMIN_STATUS, *ifindex),
                    Value::Integer(if *admin_up { 1 } else { 2 }),
                ),
                (
                    if_obj(if_col::OPER_STATUS, *ifindex),
                    Value::Integer(oper.mib_number()),
                ),
            ];
            let n = if *up {
                notification::TUNNEL_UP
            } else {
                varbinds.push((
                    if_obj(if_col::CAUSE, *ifindex),
                    Value::Integer(cause.mib_number()),
                ));
                varbinds.push((
                    if_obj(if_col::DIAGNOSIS, *ifindex),
                    Value::display_string(diagnosis),
                ));
                notification::TUNNEL_DOWN
            };
            Notification {
                trap_oid: trap(n),
                varbinds,
            }
        }
        Event::Ike {
            up,
            index,
            conn,
            child,
            ike_state,
            child_state,
            ifindex,
            reason,
            text,
        } => {
            let mut varbinds = vec![
                (
                    ike_obj(ike_col::CONN_NAME, *index),
                    Value::display_string(conn),
                ),
                (
                    ike_obj(ike_col::CHILD_NAME, *index),
                    Value::display_string(child),
                ),
                (
                    ike_obj(ike_col::STATE, *index),
                    Value::Integer(ike_state.mib_number()),
                ),
                (
                    ike_obj(ike_col::CHILD_STATE, *index),
                    Value::Integer(child_state.mib_number()),
                ),
                (
                    ike_obj(ike_col::IF_INDEX, *index),
                    Value::Integer(i32::try_from(*ifindex).unwrap_or(0)),
                ),
            ];
            let n = if *up {
                notification::IKE_UP
            } else {
                varbinds.push((
                    ike_obj(ike_col::LAST_FAIL_REASON, *index),
                    Value::Integer(reason.map_or(1, |r| r.mib_number())),
                ));
                varbinds.push((
                    ike_obj(ike_col::LAST_FAIL_TEXT, *index),
                    Value::display_string(text),
                ));
                notification::IKE_DOWN
            };
            Notification {
                trap_oid: trap(n),
                varbinds,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCategory;

    #[test]
    fn a_long_diagnosis_is_cut_to_a_display_string() {
        let root = Oid::from_slice(oids::DEFAULT_ROOT);
        let diagnosis = "é".repeat(200); // 400 octets
        let event = Event::TxError {
            rising: true,
            ifindex: 7,
            name: "vti7".into(),
            category: ErrorCategory::Carrier,
            delta: 3,
            threshold: 1,
            interval_secs: 60,
            diagnosis: diagnosis.clone(),
        };
        let n = notification(&root, &event);
        let Value::OctetString(text) = &n.varbinds.last().unwrap().1 else {
            panic!("{n:?}");
        };
        assert_eq!(text.len(), 254, "255 octets, cut at a character boundary");
        assert!(std::str::from_utf8(text).is_ok());
        let down = notification(
            &root,
            &Event::SaDown {
                ifindex: 7,
                name: "vti7".into(),
                diagnosis,
            },
        );
        let Value::OctetString(text) = &down.varbinds[2].1 else {
            panic!("{down:?}");
        };
        assert_eq!(text.len(), 254);
    }
}
