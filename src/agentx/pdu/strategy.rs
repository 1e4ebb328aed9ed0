//! proptest strategies for arbitrary, encodable PDUs.

use std::num::NonZeroU8;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::oid::{Oid, MAX_OID_LEN};
use crate::value::Value;

/// OIDs biased towards the compressible 1.3.6.1.x form, including the edge
/// cases x = 0, x = 255, x = 256 and the bare prefix.
pub fn oid() -> impl Strategy<Value = Oid> {
    let plain = vec(any::<u32>(), 0..=MAX_OID_LEN);
    let internet = (
        prop_oneof![Just(0u32), Just(255), Just(256), 1u32..8, any::<u32>()],
        vec(any::<u32>(), 0..=MAX_OID_LEN - 5),
    )
        .prop_map(|(x, rest)| {
            let mut v = vec![1, 3, 6, 1, x];
            v.extend(rest);
            v
        });
    let short = vec(0u32..4, 0..6);
    prop_oneof![plain, internet, short].prop_map(Oid::new)
}

fn octets() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..40)
}

fn context() -> impl Strategy<Value = Context> {
    option::of(octets())
}

pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        octets().prop_map(Value::OctetString),
        Just(Value::Null),
        oid().prop_map(Value::ObjectIdentifier),
        any::<[u8; 4]>().prop_map(Value::IpAddress),
        any::<u32>().prop_map(Value::Counter32),
        any::<u32>().prop_map(Value::Gauge32),
        any::<u32>().prop_map(Value::TimeTicks),
        octets().prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn varbinds() -> impl Strategy<Value = Vec<VarBind>> {
    vec((oid(), value()).prop_map(|(n, v)| VarBind::new(n, v)), 0..6)
}

fn ranges() -> impl Strategy<Value = Vec<SearchRange>> {
    vec(
        (oid(), any::<bool>(), oid()).prop_map(|(start, include, end)| SearchRange {
            start,
            include,
            end,
        }),
        0..6,
    )
}

fn subid_range() -> impl Strategy<Value = Option<SubidRange>> {
    option::of(
        (1u8..=255, any::<u32>()).prop_map(|(s, upper_bound)| SubidRange {
            subid: NonZeroU8::new(s).expect("range starts at 1"),
            upper_bound,
        }),
    )
}

fn index_request() -> impl Strategy<Value = IndexRequest> {
    (context(), any::<bool>(), any::<bool>(), varbinds()).prop_map(
        |(context, new_index, any_index, varbinds)| IndexRequest {
            context,
            new_index,
            any_index,
            varbinds,
        },
    )
}

pub fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (any::<u8>(), oid(), octets()).prop_map(|(timeout, id, descr)| Body::Open(Open {
            timeout,
            id,
            descr
        })),
        any::<u8>().prop_map(|r| Body::Close {
            reason: CloseReason::from_code(r)
        }),
        (
            context(),
            any::<u8>(),
            any::<u8>(),
            oid(),
            subid_range(),
            any::<bool>()
        )
            .prop_map(|(context, timeout, priority, subtree, range, instance)| {
                Body::Register(Register {
                    context,
                    timeout,
                    priority,
                    subtree,
                    range,
                    instance,
                })
            }),
        (context(), any::<u8>(), oid(), subid_range()).prop_map(
            |(context, priority, subtree, range)| Body::Unregister(Unregister {
                context,
                priority,
                subtree,
                range,
            })
        ),
        (context(), ranges()).prop_map(|(context, ranges)| Body::Get { context, ranges }),
        (context(), ranges()).prop_map(|(context, ranges)| Body::GetNext { context, ranges }),
        (context(), any::<u16>(), any::<u16>(), ranges()).prop_map(
            |(context, non_repeaters, max_repetitions, ranges)| Body::GetBulk(GetBulk {
                context,
                non_repeaters,
                max_repetitions,
                ranges,
            })
        ),
        (context(), varbinds()).prop_map(|(context, varbinds)| Body::TestSet { context, varbinds }),
        Just(Body::CommitSet),
        Just(Body::UndoSet),
        Just(Body::CleanupSet),
        (context(), varbinds()).prop_map(|(context, varbinds)| Body::Notify { context, varbinds }),
        context().prop_map(|context| Body::Ping { context }),
        index_request().prop_map(Body::IndexAllocate),
        index_request().prop_map(Body::IndexDeallocate),
        (context(), oid(), octets())
            .prop_map(|(context, id, descr)| Body::AddAgentCaps(AgentCaps { context, id, descr })),
        (context(), oid()).prop_map(|(context, id)| Body::RemoveAgentCaps { context, id }),
        (any::<u32>(), any::<u16>(), any::<u16>(), varbinds()).prop_map(
            |(sys_uptime, error, index, varbinds)| Body::Response(Response {
                sys_uptime,
                error: ErrorStatus::from_code(error),
                index,
                varbinds,
            })
        ),
    ]
}

pub fn pdu() -> impl Strategy<Value = Pdu> {
    (any::<u32>(), any::<u32>(), any::<u32>(), body()).prop_map(
        |(session_id, transaction_id, packet_id, body)| Pdu {
            session_id,
            transaction_id,
            packet_id,
            body,
        },
    )
}
