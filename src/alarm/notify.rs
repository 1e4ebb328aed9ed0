//! Events → IPSEC-VTI-MIB notifications, in the AgentX session's neutral
//! form: the trap OID and the varbinds of each NOTIFICATION-TYPE's OBJECTS
//! clause, in that order. The session puts sysUpTime.0 and snmpTrapOID.0 in
//! front.

use super::event::{Detail, Event, EventKind};
pub use crate::agentx::session::Notification;
use crate::mib::columns::{event_global, inet_addr, inet_type, MibEnum};
use crate::mib::oids::{self, alarm_col, if_col, ike_col, notification};
use crate::oid::Oid;
use crate::value::Value;

/// The notification of `event`, recorded in the event history as row
/// `index`. Each NOTIFICATION-TYPE's OBJECTS are its own objects, then
/// those every one of ours ends with: vtiIfCause, vtiIfPeerAddrType,
/// vtiIfPeerAddr and vtiEventLastIndex (the event's vtiEventTable row, so
/// a manager that sees a gap knows to read the table).
pub fn notification(root: &Oid, event: &Event, index: u32) -> Notification {
    let if_entry = root.child(&[oids::OBJECTS, oids::IF_TABLE, 1]);
    let ifindex = event.ifindex;
    let if_obj = |col: u32| if_entry.child(&[col, ifindex]);
    let name = (if_obj(if_col::NAME), Value::text(&event.name));
    let text = || {
        (
            if_obj(if_col::DIAGNOSIS),
            Value::display_string(&event.text),
        )
    };
    // The detail says which notification; the kind, which of a pair.
    let (n, mut varbinds) = match event.detail.clone() {
        Detail::Threshold {
            category,
            delta,
            threshold,
            interval_secs,
        } => {
            let cat = category.mib_number();
            let alarm_obj = |col: u32| {
                root.child(&[
                    oids::OBJECTS,
                    oids::ALARM_TABLE,
                    1,
                    col,
                    ifindex,
                    cat as u32,
                ])
            };
            let (n, threshold_col) = if event.kind == EventKind::TxErrorFalling {
                (notification::TX_ERROR_FALLING, alarm_col::FALLING_THRESHOLD)
            } else {
                (notification::TX_ERROR_RISING, alarm_col::RISING_THRESHOLD)
            };
            (
                n,
                vec![
                    name,
                    (alarm_obj(alarm_col::EVENT_CATEGORY), Value::Integer(cat)),
                    (alarm_obj(alarm_col::LAST_DELTA), Value::Counter64(delta)),
                    (alarm_obj(threshold_col), Value::Gauge32(threshold)),
                    (
                        alarm_obj(alarm_col::INTERVAL),
                        Value::Gauge32(interval_secs),
                    ),
                    text(),
                ],
            )
        }
        Detail::OutboundSas(outbound) if event.kind == EventKind::SaUp => (
            notification::SA_UP,
            vec![
                name,
                (if_obj(if_col::OUT_SA_COUNT), Value::Gauge32(outbound)),
            ],
        ),
        Detail::OutboundSas(outbound) => (
            notification::SA_DOWN,
            vec![
                name,
                (if_obj(if_col::OUT_SA_COUNT), Value::Gauge32(outbound)),
                text(),
            ],
        ),
        Detail::Link { admin_up, oper } => {
            let mut objects = vec![
                name,
                (
                    if_obj(if_col::ADMIN_STATUS),
                    Value::Integer(if admin_up { 1 } else { 2 }),
                ),
                (
                    if_obj(if_col::OPER_STATUS),
                    Value::Integer(oper.mib_number()),
                ),
            ];
            if event.kind == EventKind::TunnelUp {
                (notification::TUNNEL_UP, objects)
            } else {
                objects.push(text());
                (notification::TUNNEL_DOWN, objects)
            }
        }
        Detail::Ike {
            index,
            conn,
            child,
            ike_state,
            child_state,
            reason,
            message,
        } => {
            let ike_obj = |col: u32| root.child(&[oids::OBJECTS, oids::IKE_TABLE, 1, col, index]);
            let mut objects = vec![
                (ike_obj(ike_col::CONN_NAME), Value::display_string(&conn)),
                (ike_obj(ike_col::CHILD_NAME), Value::display_string(&child)),
                (
                    ike_obj(ike_col::STATE),
                    Value::Integer(ike_state.mib_number()),
                ),
                (
                    ike_obj(ike_col::CHILD_STATE),
                    Value::Integer(child_state.mib_number()),
                ),
                (
                    ike_obj(ike_col::IF_INDEX),
                    Value::Integer(i32::try_from(ifindex).unwrap_or(0)),
                ),
            ];
            if event.kind == EventKind::IkeUp {
                (notification::IKE_UP, objects)
            } else {
                objects.push((
                    ike_obj(ike_col::LAST_FAIL_REASON),
                    Value::Integer(reason.map_or(1, |r| r.mib_number())),
                ));
                objects.push((
                    ike_obj(ike_col::LAST_FAIL_TEXT),
                    Value::display_string(&message),
                ));
                (notification::IKE_DOWN, objects)
            }
        }
        Detail::SecondsToHardExpiry(seconds) => (
            notification::SA_EXPIRING,
            vec![
                name,
                (
                    if_obj(if_col::SECONDS_TO_HARD_EXPIRY),
                    Value::Integer(i32::try_from(seconds.max(0)).unwrap_or(i32::MAX)),
                ),
            ],
        ),
    };
    varbinds.extend([
        (
            if_obj(if_col::CAUSE),
            Value::Integer(event.cause.mib_number()),
        ),
        (if_obj(if_col::PEER_ADDR_TYPE), inet_type(event.peer.addr)),
        (if_obj(if_col::PEER_ADDR), inet_addr(event.peer.addr)),
        (
            root.child(&[oids::OBJECTS, oids::GLOBAL, event_global::LAST_INDEX, 0]),
            Value::Gauge32(index),
        ),
    ]);
    Notification {
        trap_oid: root.child(&[oids::NOTIFICATIONS, n]),
        varbinds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::event::Notified;
    use crate::model::{Cause, ErrorCategory, Peer, PeerSource};

    fn event(detail: Detail, kind: EventKind, text: String) -> Event {
        Event {
            kind,
            ifindex: 7,
            name: "xfrm7".into(),
            cause: Cause::NoOutboundSa,
            peer: Peer {
                addr: Some("2001:db8::7".parse().unwrap()),
                source: PeerSource::OutboundSa,
            },
            text,
            detail,
            notified: Notified::Sent,
        }
    }

    #[test]
    fn a_long_diagnosis_is_cut_to_a_display_string() {
        let root = Oid::from_slice(oids::DEFAULT_ROOT);
        let diagnosis = "é".repeat(200); // 400 octets
        let threshold = Detail::Threshold {
            category: ErrorCategory::Carrier,
            delta: 3,
            threshold: 1,
            interval_secs: 60,
        };
        let n = notification(
            &root,
            &event(threshold, EventKind::TxErrorRising, diagnosis.clone()),
            1,
        );
        let Value::OctetString(text) = &n.varbinds[5].1 else {
            panic!("{n:?}");
        };
        assert_eq!(text.len(), 254, "255 octets, cut at a character boundary");
        assert!(std::str::from_utf8(text).is_ok());
        let down = notification(
            &root,
            &event(Detail::OutboundSas(0), EventKind::SaDown, diagnosis),
            2,
        );
        let Value::OctetString(text) = &down.varbinds[2].1 else {
            panic!("{down:?}");
        };
        assert_eq!(text.len(), 254);
    }

    /// Every notification ends with the cause, the peer and the event's
    /// row in vtiEventTable.
    #[test]
    fn every_notification_ends_with_cause_peer_and_event_index() {
        let root = Oid::from_slice(oids::DEFAULT_ROOT);
        let details = [
            (
                EventKind::TxErrorFalling,
                Detail::Threshold {
                    category: ErrorCategory::Loop,
                    delta: 0,
                    threshold: 0,
                    interval_secs: 60,
                },
            ),
            (EventKind::SaDown, Detail::OutboundSas(0)),
            (EventKind::SaUp, Detail::OutboundSas(1)),
            (EventKind::SaExpiring, Detail::SecondsToHardExpiry(30)),
        ];
        let if_obj = |col: u32| root.child(&[oids::OBJECTS, oids::IF_TABLE, 1, col, 7]);
        for (i, (kind, detail)) in details.into_iter().enumerate() {
            let n = notification(&root, &event(detail, kind, "x".into()), 40 + i as u32);
            let want = oids::notification::TX_ERROR_FALLING + i as u32;
            assert_eq!(n.trap_oid, root.child(&[oids::NOTIFICATIONS, want]));
            let tail = &n.varbinds[n.varbinds.len() - 4..];
            assert_eq!(tail[0], (if_obj(if_col::CAUSE), Value::Integer(5)));
            assert_eq!(tail[1], (if_obj(if_col::PEER_ADDR_TYPE), Value::Integer(2)));
            let addr: std::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
            assert_eq!(
                tail[2],
                (
                    if_obj(if_col::PEER_ADDR),
                    Value::OctetString(addr.octets().to_vec())
                )
            );
            assert_eq!(tail[3].1, Value::Gauge32(40 + i as u32));
        }
    }
}
