use super::*;
use crate::agentx::session::objects::ObjectMap;

const ROOT: &str = "1.3.6.1.4.1.99";
const SESSION: u32 = 7;

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// `ROOT` + a relative dotted suffix.
fn r(suffix: &str) -> Oid {
    oid(&format!("{ROOT}.{suffix}"))
}

fn root() -> Oid {
    oid(ROOT)
}

/// Rows keyed 5 and 7, in that order.
fn column(col: u32) -> impl Iterator<Item = (Vec<u32>, Value)> {
    [5, 7]
        .into_iter()
        .enumerate()
        .map(move |(row, key)| (vec![key], Value::Gauge32(row as u32 * 100 + col)))
}

/// Objects, in walk order:
///   ROOT.1.1.0 = 1, ROOT.1.2.0 = "two",
///   ROOT.3.1.2.5, ROOT.3.1.2.7, ROOT.3.1.3.5, ROOT.3.1.3.7 (Gauge32 row*100+col),
/// plus a stray scalar outside ROOT (1.3.6.1.4.1.100.1.0) that must never be
/// served.
fn index() -> ObjectMap {
    ObjectMap::default()
        .scalar(r("1.1"), Value::Integer(1))
        .scalar(r("1.2"), Value::text("two"))
        .column(r("3.1.2"), column(2))
        .column(r("3.1.3"), column(3))
        .scalar(oid("1.3.6.1.4.1.100.1"), Value::Null)
}

fn request(body: Body) -> Pdu {
    Pdu {
        session_id: SESSION,
        transaction_id: 11,
        packet_id: 13,
        body,
    }
}

fn range(start: Oid, include: bool, end: Option<Oid>) -> SearchRange {
    SearchRange {
        start,
        include,
        end: end.unwrap_or_default(),
    }
}

fn ask(body: Body) -> Response {
    let reply = answer(&request(body), SESSION, &root(), &index()).expect("a reply");
    assert_eq!(
        (reply.session_id, reply.transaction_id, reply.packet_id),
        (SESSION, 11, 13),
        "reply carries the request's identifiers"
    );
    match reply.body {
        Body::Response(res) => res,
        other => panic!("not a response: {other:?}"),
    }
}

fn get_next_one(sr: SearchRange) -> VarBind {
    let res = ask(Body::GetNext {
        context: None,
        ranges: vec![sr],
    });
    assert_eq!(res.error, ErrorStatus::NoError);
    assert_eq!(res.varbinds.len(), 1);
    res.varbinds.into_iter().next().unwrap()
}

fn names_and_types(vbs: &[VarBind]) -> Vec<(String, u16)> {
    vbs.iter()
        .map(|vb| {
            let name = vb.name.to_string();
            let short = name
                .strip_prefix(&format!("{ROOT}."))
                .unwrap_or(&name)
                .to_owned();
            (short, vb.value.type_tag())
        })
        .collect()
}

const END: u16 = 130;
const GAUGE: u16 = 66;

#[test]
fn get_distinguishes_value_no_such_object_and_instance() {
    let res = ask(Body::Get {
        context: None,
        ranges: vec![
            range(r("1.1.0"), false, None),
            range(r("1.1.1"), false, None),
            range(r("9"), false, None),
            range(oid("1.2.3"), false, None),
            range(r("3.1.2.6"), false, None),
        ],
    });
    assert_eq!(res.error, ErrorStatus::NoError);
    let values: Vec<Value> = res.varbinds.iter().map(|vb| vb.value.clone()).collect();
    assert_eq!(
        values,
        [
            Value::Integer(1),
            Value::NoSuchInstance,
            Value::NoSuchObject,
            Value::NoSuchObject,
            Value::NoSuchInstance
        ]
    );
    assert_eq!(
        res.varbinds[3].name,
        oid("1.2.3"),
        "name is the requested OID"
    );
}

#[test]
fn get_next_honours_include() {
    assert_eq!(
        get_next_one(range(r("1.1.0"), false, None)).name,
        r("1.2.0")
    );
    assert_eq!(get_next_one(range(r("1.1.0"), true, None)).name, r("1.1.0"));
    assert_eq!(get_next_one(range(oid(ROOT), true, None)).name, r("1.1.0"));
    // A start before our subtree (the master's choice, §7.2.1.2) works too.
    assert_eq!(
        get_next_one(range(oid("1.3.6.1.4"), false, None)).name,
        r("1.1.0")
    );
}

#[test]
fn get_next_stops_before_a_non_empty_end() {
    // The next object (ROOT.1.2.0) is beyond the end: endOfMibView, named
    // by the starting OID.
    let vb = get_next_one(range(r("1.1.0"), false, Some(r("1.2"))));
    assert_eq!(vb, VarBind::new(r("1.1.0"), Value::EndOfMibView));
    // The end is exclusive: a result equal to it is out of range too.
    let vb = get_next_one(range(r("1.1.0"), false, Some(r("1.2.0"))));
    assert_eq!(vb.value, Value::EndOfMibView);
    // Just past it, the object is in range.
    let vb = get_next_one(range(r("1.1.0"), false, Some(r("1.2.0.0"))));
    assert_eq!(vb.name, r("1.2.0"));
    // An include start at the end's very edge.
    let vb = get_next_one(range(r("3.1.2.5"), true, Some(r("3.1.2.6"))));
    assert_eq!(vb.name, r("3.1.2.5"));
}

#[test]
fn get_next_never_leaves_our_subtree() {
    // The index holds an object past ROOT; it is not ours to serve.
    let vb = get_next_one(range(r("3.1.3.7"), false, None));
    assert_eq!(vb, VarBind::new(r("3.1.3.7"), Value::EndOfMibView));
    let vb = get_next_one(range(oid("1.3.6.1.4.1.100"), true, None));
    assert_eq!(vb.value, Value::EndOfMibView);
}

#[test]
fn get_next_with_several_ranges_answers_in_order() {
    let res = ask(Body::GetNext {
        context: None,
        ranges: vec![
            range(r("3.1.2.7"), false, None),
            range(r("1"), false, None),
            range(r("9"), false, None),
        ],
    });
    assert_eq!(
        names_and_types(&res.varbinds),
        [
            ("3.1.3.5".into(), GAUGE),
            ("1.1.0".into(), 2),
            ("9".into(), END)
        ]
    );
}

fn bulk(non_repeaters: u16, max_repetitions: u16, ranges: Vec<SearchRange>) -> Vec<VarBind> {
    let res = ask(Body::GetBulk(GetBulk {
        context: None,
        non_repeaters,
        max_repetitions,
        ranges,
    }));
    assert_eq!(res.error, ErrorStatus::NoError);
    res.varbinds
}

#[test]
fn get_bulk_repeats_and_pads_ended_ranges() {
    let vbs = bulk(
        1,
        3,
        vec![
            range(r("1.1"), false, None),
            range(r("3.1.2"), false, None),
            range(r("3.1.3.5"), false, None),
        ],
    );
    assert_eq!(
        names_and_types(&vbs),
        [
            ("1.1.0".into(), 2),
            // repetition 1
            ("3.1.2.5".into(), GAUGE),
            ("3.1.3.7".into(), GAUGE),
            // repetition 2: the second range has ended; its name repeats.
            ("3.1.2.7".into(), GAUGE),
            ("3.1.3.7".into(), END),
            // repetition 3
            ("3.1.3.5".into(), GAUGE),
            ("3.1.3.7".into(), END),
        ]
    );
}

#[test]
fn get_bulk_stops_once_every_range_has_ended() {
    let vbs = bulk(
        0,
        100,
        vec![
            range(r("3.1.2.7"), false, None),
            range(r("3.1.3"), false, None),
        ],
    );
    assert_eq!(
        names_and_types(&vbs),
        [
            ("3.1.3.5".into(), GAUGE),
            ("3.1.3.5".into(), GAUGE),
            ("3.1.3.7".into(), GAUGE),
            ("3.1.3.7".into(), GAUGE),
            ("3.1.3.7".into(), END),
            ("3.1.3.7".into(), END),
        ]
    );
}

#[test]
fn get_bulk_respects_range_ends_per_repetition() {
    let vbs = bulk(0, 5, vec![range(r("3.1.2"), false, Some(r("3.1.3")))]);
    assert_eq!(
        names_and_types(&vbs),
        [
            ("3.1.2.5".into(), GAUGE),
            ("3.1.2.7".into(), GAUGE),
            ("3.1.2.7".into(), END),
        ]
    );
}

#[test]
fn get_bulk_edge_counts() {
    let ranges = vec![range(r("1"), false, None), range(r("3"), false, None)];
    // More non-repeaters than ranges: all are non-repeaters.
    let vbs = bulk(5, 10, ranges.clone());
    assert_eq!(vbs.len(), 2);
    // max_repetitions 0: only the non-repeaters.
    let vbs = bulk(1, 0, ranges.clone());
    assert_eq!(names_and_types(&vbs), [("1.1.0".into(), 2)]);
    // No ranges at all.
    assert!(bulk(0, 10, Vec::new()).is_empty());
}

#[test]
fn get_bulk_stays_within_its_size_budget() {
    let rows: Vec<[u32; 1]> = (0..20_000).map(|i| [i]).collect();
    let big = ObjectMap::default().column(
        r("3.1.2"),
        rows.into_iter().map(|[i]| (vec![i], Value::Counter64(1))),
    );
    let req = request(Body::GetBulk(GetBulk {
        context: None,
        non_repeaters: 0,
        max_repetitions: u16::MAX,
        ranges: vec![range(oid(ROOT), false, None)],
    }));
    let reply = answer(&req, SESSION, &root(), &big).unwrap();
    let Body::Response(res) = &reply.body else {
        panic!()
    };
    let size: usize = res.varbinds.iter().map(VarBind::encoded_len).sum();
    assert!(res.varbinds.len() > 100, "answers many repetitions");
    assert!(res.varbinds.len() < 20_000, "but not all of them");
    assert!(size < BULK_BUDGET + 100, "{size}");
    assert!(reply.encode().is_ok());
}

#[test]
fn sets_are_refused_as_not_writable() {
    let res = ask(Body::TestSet {
        context: None,
        varbinds: vec![
            VarBind::new(r("1.1.0"), Value::Integer(5)),
            VarBind::new(r("1.2.0"), Value::text("x")),
        ],
    });
    assert_eq!((res.error, res.index), (ErrorStatus::NotWritable, 1));
    assert!(res.varbinds.is_empty(), "§7.2.4: no VarBindList");
    let res = ask(Body::TestSet {
        context: None,
        varbinds: vec![],
    });
    assert_eq!(res.error, ErrorStatus::NoError);
    assert_eq!(ask(Body::CommitSet).error, ErrorStatus::NoError);
    assert_eq!(ask(Body::UndoSet).error, ErrorStatus::NoError);
    assert!(answer(&request(Body::CleanupSet), SESSION, &root(), &index()).is_none());
}

#[test]
fn wrong_session_gets_not_open() {
    let mut req = request(Body::Get {
        context: None,
        ranges: vec![range(r("1.1.0"), false, None)],
    });
    req.session_id = SESSION + 1;
    let reply = answer(&req, SESSION, &root(), &index()).unwrap();
    assert_eq!(reply.session_id, SESSION + 1);
    let Body::Response(res) = reply.body else {
        panic!()
    };
    assert_eq!(res.error, ErrorStatus::NotOpen);
    assert!(res.varbinds.is_empty());
}

#[test]
fn non_default_context_is_empty() {
    let res = ask(Body::Get {
        context: Some(b"other".to_vec()),
        ranges: vec![range(r("1.1.0"), false, None)],
    });
    assert_eq!(res.varbinds[0].value, Value::NoSuchObject);
    let res = ask(Body::GetNext {
        context: Some(b"other".to_vec()),
        ranges: vec![range(oid(ROOT), false, None)],
    });
    assert_eq!(res.varbinds[0].value, Value::EndOfMibView);
}

#[test]
fn pings_are_answered_and_responses_closes_are_not() {
    assert_eq!(
        ask(Body::Ping { context: None }).error,
        ErrorStatus::NoError
    );
    let res = Body::Response(Response {
        sys_uptime: 0,
        error: ErrorStatus::NoError,
        index: 0,
        varbinds: vec![],
    });
    assert!(answer(&request(res), SESSION, &root(), &index()).is_none());
    let close = Body::Close {
        reason: crate::agentx::pdu::CloseReason::Shutdown,
    };
    assert!(answer(&request(close), SESSION, &root(), &index()).is_none());
    let notify = Body::Notify {
        context: None,
        varbinds: vec![],
    };
    assert_eq!(ask(notify).error, ErrorStatus::ProcessingError);
}

#[test]
fn unencodable_reply_degrades_to_too_big() {
    let reply = reply_to(
        &request(Body::Ping { context: None }),
        Response {
            sys_uptime: 0,
            error: ErrorStatus::NoError,
            index: 0,
            varbinds: vec![VarBind::new(
                r("1"),
                Value::OctetString(vec![0; crate::agentx::pdu::MAX_PAYLOAD_LEN as usize]),
            )],
        },
    );
    let bytes = encode_reply(&reply).unwrap();
    let Body::Response(res) = Pdu::decode(&bytes).unwrap().body else {
        panic!()
    };
    assert_eq!(res.error, ErrorStatus::TooBig);
    assert!(res.varbinds.is_empty());
}

mod properties {
    use proptest::collection::{btree_set, vec};
    use proptest::prelude::*;

    use super::*;

    /// A table under ROOT.3.1 with column 2 and the given row keys.
    fn table_index(keys: &std::collections::BTreeSet<Vec<u32>>) -> ObjectMap {
        ObjectMap::default().column(
            r("3.1.2"),
            keys.iter()
                .enumerate()
                .map(|(row, k)| (k.clone(), Value::Gauge32(row as u32))),
        )
    }

    /// Every object, by brute force.
    fn all_names(keys: &std::collections::BTreeSet<Vec<u32>>) -> Vec<Oid> {
        keys.iter().map(|k| r("3.1.2").child(k)).collect()
    }

    fn suffix() -> impl Strategy<Value = Vec<u32>> {
        vec(0u32..4, 0..4)
    }

    proptest! {
        /// GetNext returns exactly the first object after the start (or at
        /// it, with include) and before the end — else endOfMibView.
        #[test]
        fn get_next_is_the_closest_object_in_range(
            keys in btree_set(vec(0u32..4, 2), 0..12),
            start in suffix(),
            include in any::<bool>(),
            end in proptest::option::of(suffix()),
        ) {
            let index = table_index(&keys);
            let start = r("3.1.2").child(&start);
            let end = end.map(|e| r("3.1.2").child(&e)).unwrap_or_default();
            let sr = SearchRange { start: start.clone(), include, end: end.clone() };
            let got = get_next(&index, &root(), &sr);
            let want = all_names(&keys)
                .into_iter()
                .find(|n| (*n > start || (include && *n == start)) && (end.is_empty() || *n < end));
            match want {
                Some(name) => prop_assert_eq!(got.name, name),
                None => prop_assert_eq!(got, VarBind::new(start, Value::EndOfMibView)),
            }
        }

        /// A single-range GetBulk is the same walk as repeated GetNexts.
        #[test]
        fn get_bulk_equals_repeated_get_next(
            keys in btree_set(vec(0u32..4, 2), 0..12),
            start in suffix(),
            max_repetitions in 0u16..20,
        ) {
            let index = table_index(&keys);
            let start = r("3.1.2").child(&start);
            let bulk = GetBulk {
                context: None,
                non_repeaters: 0,
                max_repetitions,
                ranges: vec![SearchRange { start: start.clone(), include: false, end: Oid::default() }],
            };
            let got = get_bulk(&index, &root(), &bulk);
            let mut want = Vec::new();
            let mut cursor = start;
            for _ in 0..max_repetitions {
                let vb = get_next(&index, &root(), &SearchRange { start: cursor.clone(), include: false, end: Oid::default() });
                let ended = vb.value == Value::EndOfMibView;
                cursor = vb.name.clone();
                want.push(vb);
                if ended {
                    break;
                }
            }
            prop_assert_eq!(got, want);
        }
    }
}
