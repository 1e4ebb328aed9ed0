//! Threshold alarms and notifications end to end (issue 5): the agent runs
//! in-process with a fixture data source and a 1 s poll, registers with a
//! private real `snmpd`, and snmpd forwards our AgentX Notify PDUs to a
//! private real `snmptrapd` (`trap2sink`), whose log the tests read. One test
//! also decodes the trap PDU itself with `snmp-parser` from a UDP sink.
//!
//! Fixture tunnels (tests/common/fixture.rs): vti1 (ifIndex 11), vti6x (12),
//! xfrm1 (13), each with one outbound and one inbound SA.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::agent::InProcessAgent;
use common::fixture::{out_policies, three_tunnels, FixtureData, FixtureSource};
use common::trapd::{parse_log, Snmptrapd, Trap, SNMP_TRAP_OID_0, SYS_UPTIME_0};
use common::*;
use vti_agentx::alarm::config::{Startup, Threshold};
use vti_agentx::alarm::AlarmConfig;
use vti_agentx::config::Config;
use vti_agentx::mib::oids::{self, alarm_col, event_col, event_global, if_col, notification};

const VTI1: u32 = 11;
const VTI6: u32 = 12;
const XFRM: u32 = 13;
/// VtiErrorCategory carrier(1), dropped(5).
const CARRIER: u32 = 1;
const DROPPED: u32 = 5;
/// vtiAlarmState.
const ARMED_RISING: &str = "1";
const ARMED_FALLING: &str = "2";
const DISABLED: &str = "3";
/// snmpd's own coldStart, sent to every trap sink when it starts.
const COLD_START: &str = "1.3.6.1.6.3.1.1.5.1";

fn trap_oid(n: u32) -> String {
    format!("{ROOT}.{}.{n}", oids::NOTIFICATIONS)
}

fn rising() -> String {
    trap_oid(notification::TX_ERROR_RISING)
}

fn falling() -> String {
    trap_oid(notification::TX_ERROR_FALLING)
}

fn sa_down() -> String {
    trap_oid(notification::SA_DOWN)
}

fn sa_up() -> String {
    trap_oid(notification::SA_UP)
}

fn if_obj(col: u32, ifindex: u32) -> String {
    format!(
        "{ROOT}.{}.{}.1.{col}.{ifindex}",
        oids::OBJECTS,
        oids::IF_TABLE
    )
}

fn alarm_obj(col: u32, ifindex: u32, category: u32) -> String {
    format!(
        "{ROOT}.{}.{}.1.{col}.{ifindex}.{category}",
        oids::OBJECTS,
        oids::ALARM_TABLE
    )
}

/// A threshold for fast tests.
fn threshold(interval_secs: u32, rising: u32, falling: u32) -> Threshold {
    Threshold {
        enabled: true,
        interval_secs,
        rising,
        falling,
    }
}

/// snmptrapd ← snmpd ← in-process agent ← fixture.
struct Rig {
    trapd: Snmptrapd,
    snmpd: Snmpd,
    source: FixtureSource,
    agent: InProcessAgent,
}

impl Rig {
    fn start(alarms: impl FnOnce(&mut AlarmConfig)) -> Rig {
        Self::start_full(three_tunnels(), |_| {}, &[], alarms)
    }

    /// `prepare` runs before the agent's first poll (e.g. to install a
    /// collect hook); `extra_sinks` are more snmpd.conf lines.
    fn start_full(
        data: FixtureData,
        prepare: impl FnOnce(&FixtureSource),
        extra_sinks: &[String],
        alarms: impl FnOnce(&mut AlarmConfig),
    ) -> Rig {
        Self::start_config(data, prepare, extra_sinks, |cfg| alarms(&mut cfg.alarms))
    }

    /// `start_full` with the whole configuration to set.
    fn start_config(
        data: FixtureData,
        prepare: impl FnOnce(&FixtureSource),
        extra_sinks: &[String],
        config: impl FnOnce(&mut Config),
    ) -> Rig {
        let trapd = Snmptrapd::start();
        let mut conf = vec![trapd.sink_line()];
        conf.extend_from_slice(extra_sinks);
        let snmpd = Snmpd::start_with(AgentxListen::Unix, &conf);
        let source = FixtureSource::new(data);
        prepare(&source);
        let agent = InProcessAgent::start_with(&snmpd.master, source.clone(), |cfg| {
            // Quick by default; each test sets what it is about.
            cfg.alarms.hold_down_secs = 0;
            config(cfg);
        });
        let rig = Rig {
            trapd,
            snmpd,
            source,
            agent,
        };
        rig.wait_registered();
        rig
    }

    fn wait_registered(&self) {
        let under = format!("{ROOT}.");
        let ok = wait_until(Duration::from_secs(10), || {
            parse(&self.snmpd.get(&[&format!("{ROOT}.1.1.1.0")]))
                .iter()
                .any(|v| v.oid.starts_with(&under) && v.kind == "Gauge32")
        });
        assert!(
            ok,
            "agent did not register within 10 s; agent log:\n{}",
            self.agent.log()
        );
    }

    /// Waits until the agent has polled `n` more times.
    fn wait_polls(&self, n: u64) {
        let target = self.source.collects() + n;
        let ok = wait_until(Duration::from_secs(n * 2 + 5), || {
            self.source.collects() >= target
        });
        assert!(ok, "the agent stopped polling");
    }

    /// Our notifications (snmpTrapOID under ROOT.0) received so far.
    fn ours(&self) -> Vec<Trap> {
        let prefix = format!("{ROOT}.{}.", oids::NOTIFICATIONS);
        self.trapd
            .traps()
            .into_iter()
            .filter(|t| t.trap_oid().starts_with(&prefix))
            .collect()
    }

    fn count(&self, trap: &str) -> usize {
        self.trapd.with_oid(trap).len()
    }

    /// The alarm table, `oid → value`.
    fn alarm_table(&self) -> HashMap<String, VarBind> {
        let base = format!("{ROOT}.{}.{}", oids::OBJECTS, oids::ALARM_TABLE);
        parse(&self.snmpd.walk(&base))
            .into_iter()
            .map(|v| (v.oid.clone(), v))
            .collect()
    }

    fn alarm_value(&self, col: u32, ifindex: u32, category: u32) -> Option<String> {
        self.alarm_table()
            .get(&alarm_obj(col, ifindex, category))
            .map(|v| v.value.clone())
    }

    fn wait_alarm_value(&self, col: u32, ifindex: u32, category: u32, want: &str) {
        let ok = wait_until(Duration::from_secs(10), || {
            self.alarm_value(col, ifindex, category).as_deref() == Some(want)
        });
        assert!(
            ok,
            "{} never became {want} (is {:?}); agent log:\n{}",
            alarm_obj(col, ifindex, category),
            self.alarm_value(col, ifindex, category),
            self.agent.log()
        );
    }

    /// vtiEventTable: index → column → value, and the two scalars
    /// (vtiEventLastIndex, vtiEventTableSize).
    fn event_table(&self) -> (EventRows, u32, u32) {
        let base = format!("{ROOT}.{}.{}.1.", oids::OBJECTS, oids::EVENT_TABLE);
        let mut rows = EventRows::new();
        for v in parse(&self.snmpd.walk(&base[..base.len() - 1])) {
            let key = oid_key(&v.oid[base.len()..]);
            rows.entry(key[1]).or_default().insert(key[0], v);
        }
        let global = |id: u32| -> u32 {
            let oid = format!("{ROOT}.{}.{}.{id}.0", oids::OBJECTS, oids::GLOBAL);
            let got = parse(&self.snmpd.get(&[&oid]));
            got[0]
                .value
                .parse()
                .unwrap_or_else(|_| panic!("{oid} = {got:?}"))
        };
        (
            rows,
            global(event_global::LAST_INDEX),
            global(event_global::TABLE_SIZE),
        )
    }

    /// Waits until vtiEventTable has a row of `kind` on `ifindex`; returns
    /// its index and cells.
    fn wait_event(&self, kind: &str, ifindex: u32) -> (u32, BTreeMap<u32, VarBind>) {
        let mut found = None;
        let ok = wait_until(Duration::from_secs(10), || {
            found = self.event_table().0.into_iter().find(|(_, row)| {
                cell(row, event_col::KIND) == kind
                    && cell(row, event_col::IF_INDEX) == ifindex.to_string()
            });
            found.is_some()
        });
        assert!(ok, "no event {kind} on {ifindex}: {}", self.context());
        found.unwrap()
    }

    fn context(&self) -> String {
        format!(
            "\n--- snmptrapd log:\n{}\n--- agent log:\n{}",
            self.trapd.log(),
            self.agent.log()
        )
    }
}

/// vtiEventTable rows by index: column → value.
type EventRows = BTreeMap<u32, BTreeMap<u32, VarBind>>;

/// A cell's value as the client printed it, quotes stripped.
fn cell(row: &BTreeMap<u32, VarBind>, col: u32) -> String {
    row.get(&col)
        .map(|v| v.value.trim_matches('"').to_string())
        .unwrap_or_default()
}

/// The walk of vtiEventTable, one line per cell, for the logs.
fn dump(rows: &EventRows) -> String {
    rows.values()
        .flat_map(|row| row.values())
        .map(|v| format!(".{} = {}: {}\n", v.oid, v.kind, v.value))
        .collect()
}

/// vtiEventKind, vtiEventNotification.
const SA_DOWN_KIND: &str = "3";
const SA_UP_KIND: &str = "4";
const SENT: &str = "1";
const NOTIFICATION_DISABLED: &str = "2";

/// The trap's varbind OIDs after sysUpTime.0 and snmpTrapOID.0.
fn objects(t: &Trap) -> Vec<&str> {
    t.varbinds.iter().skip(2).map(|v| v.oid.as_str()).collect()
}

/// (type, value) of a varbind as snmptrapd printed it.
fn typed<'a>(t: &'a Trap, oid: &str) -> (&'a str, &'a str) {
    let v = t.get(oid).unwrap_or_else(|| panic!("no {oid} in {t:#?}"));
    (v.kind.as_str(), v.value.trim_matches('"'))
}

fn tx_error_objects(ifindex: u32, category: u32, threshold_col: u32) -> Vec<String> {
    with_tail(
        ifindex,
        vec![
            if_obj(if_col::NAME, ifindex),
            alarm_obj(alarm_col::EVENT_CATEGORY, ifindex, category),
            alarm_obj(alarm_col::LAST_DELTA, ifindex, category),
            alarm_obj(threshold_col, ifindex, category),
            alarm_obj(alarm_col::INTERVAL, ifindex, category),
            if_obj(if_col::DIAGNOSIS, ifindex),
        ],
    )
}

/// vtiEventLastIndex.0.
fn last_index_oid() -> String {
    format!(
        "{ROOT}.{}.{}.{}.0",
        oids::OBJECTS,
        oids::GLOBAL,
        event_global::LAST_INDEX
    )
}

/// A notification's own objects followed by those every one ends with:
/// the cause, the peer and the event's vtiEventTable row.
fn with_tail(ifindex: u32, mut objects: Vec<String>) -> Vec<String> {
    objects.extend([
        if_obj(if_col::CAUSE, ifindex),
        if_obj(if_col::PEER_ADDR_TYPE, ifindex),
        if_obj(if_col::PEER_ADDR, ifindex),
        last_index_oid(),
    ]);
    objects
}

/// The event index a notification carries.
fn event_index(t: &Trap) -> u32 {
    let (kind, v) = typed(t, &last_index_oid());
    assert_eq!(kind, "Gauge32", "{t:#?}");
    v.parse().unwrap()
}

/// InetAddress as snmptrapd prints it without MIBs: "C6 33 64 07 ".
fn hex(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(a) => a.octets().iter().map(|b| format!("{b:02X} ")).collect(),
        std::net::IpAddr::V6(a) => a.octets().iter().map(|b| format!("{b:02X} ")).collect(),
    }
}

/// The cause and the peer the trap carries: (vtiIfCause, type, address).
fn cause_and_peer(t: &Trap, ifindex: u32) -> (String, String, String) {
    let (k, cause) = typed(t, &if_obj(if_col::CAUSE, ifindex));
    assert_eq!(k, "INTEGER");
    let (k, kind) = typed(t, &if_obj(if_col::PEER_ADDR_TYPE, ifindex));
    assert_eq!(k, "INTEGER");
    let (_, addr) = typed(t, &if_obj(if_col::PEER_ADDR, ifindex));
    (cause.into(), kind.into(), format!("{} ", addr.trim()))
}

#[test]
fn rising_carrier_errors_send_exactly_one_vti_tx_error_rising() {
    let rig = Rig::start(|a| a.categories.carrier = threshold(3, 5, 0));
    rig.wait_polls(1);
    rig.source.update(|d| d.add_carrier_errors(VTI1, 6));

    let got = rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    // The 6 errors stay in the 3 s window for ~3 polls: still one event.
    rig.wait_polls(2);
    let got_after = rig.trapd.with_oid(&rising());
    assert_eq!(got_after.len(), 1, "{}", rig.context());
    let t = &got[0];
    assert_eq!(t.varbinds[0].oid, SYS_UPTIME_0);
    assert_eq!(t.varbinds[0].kind, "Timeticks");
    assert_eq!(t.varbinds[1].oid, SNMP_TRAP_OID_0);
    assert_eq!(
        objects(t),
        tx_error_objects(VTI1, CARRIER, alarm_col::RISING_THRESHOLD),
        "{t:#?}"
    );
    assert_eq!(typed(t, &if_obj(if_col::NAME, VTI1)), ("STRING", "vti1"));
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::EVENT_CATEGORY, VTI1, CARRIER)),
        ("INTEGER", "1")
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::LAST_DELTA, VTI1, CARRIER)),
        ("Counter64", "6")
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::RISING_THRESHOLD, VTI1, CARRIER)),
        ("Gauge32", "5")
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::INTERVAL, VTI1, CARRIER)),
        ("Gauge32", "3")
    );
    // The cause as the enum the row serves, the peer (vti1's remote) and
    // the event's row.
    let (cause, peer_type, peer) = cause_and_peer(t, VTI1);
    let served = parse(&rig.snmpd.get(&[&if_obj(if_col::CAUSE, VTI1)]));
    assert_eq!(cause, served[0].value, "{t:#?}");
    assert_eq!((peer_type.as_str(), peer), ("1", hex("198.51.100.7")));
    assert_eq!(event_index(t), 1, "the first event since the agent started");
    // Nothing else: no other tunnel, category or SA event.
    let ours = rig.ours();
    assert_eq!(ours.len(), 1, "{}", rig.context());
}

#[test]
fn errors_stopping_send_exactly_one_vti_tx_error_falling() {
    let rig = Rig::start(|a| a.categories.carrier = threshold(2, 1, 0));
    rig.wait_polls(1);
    // Failing for 3 polls, then quiet.
    rig.source.on_collect(|d, _| d.add_carrier_errors(VTI1, 2));
    rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    rig.wait_polls(2);
    rig.source.clear_hook();
    let got = rig.trapd.wait_for(&falling(), 1, Duration::from_secs(10));
    rig.wait_polls(3);
    let ours = rig.ours();
    let kinds: Vec<&str> = ours.iter().map(Trap::trap_oid).collect();
    assert_eq!(kinds, [rising(), falling()], "{}", rig.context());

    let t = &got[0];
    assert_eq!(
        objects(t),
        tx_error_objects(VTI1, CARRIER, alarm_col::FALLING_THRESHOLD)
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::LAST_DELTA, VTI1, CARRIER)),
        ("Counter64", "0")
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::FALLING_THRESHOLD, VTI1, CARRIER)),
        ("Gauge32", "0")
    );
    assert_eq!(
        typed(t, &alarm_obj(alarm_col::EVENT_CATEGORY, VTI1, CARRIER)),
        ("INTEGER", "1")
    );
}

#[test]
fn noise_around_the_threshold_gives_one_rising_and_no_falling() {
    // Rising 5, falling 1, delta per 1 s poll. First 4 polls of noise that
    // never reaches 5 in one interval (4, 3, …: two polls together would),
    // then noise across the rising threshold that never falls to 1.
    const QUIET: [u64; 4] = [4, 3, 4, 3];
    const NOISE: [u64; 6] = [5, 4, 6, 3, 2, 5];
    let switch_at = Arc::new(Mutex::new(None::<u64>));
    let seen = switch_at.clone();
    let rig = Rig::start_full(
        three_tunnels(),
        move |src| {
            src.on_collect(move |d, n| {
                // Collect 1 is the baseline.
                let i = n.saturating_sub(2) as usize;
                let add = match n {
                    1 => 0,
                    _ if i < QUIET.len() => QUIET[i],
                    _ => {
                        seen.lock().unwrap().get_or_insert(n);
                        NOISE[(i - QUIET.len()) % NOISE.len()]
                    }
                };
                d.add_carrier_errors(VTI1, add);
            })
        },
        &[],
        |a| a.categories.carrier = threshold(1, 5, 1),
    );
    let got = rig.trapd.wait_for(&rising(), 1, Duration::from_secs(20));
    assert!(
        switch_at.lock().unwrap().is_some(),
        "rising during the sub-threshold noise: {}",
        rig.context()
    );
    // The first noise delta is 5: exactly one poll's increase.
    assert_eq!(
        typed(&got[0], &alarm_obj(alarm_col::LAST_DELTA, VTI1, CARRIER)),
        ("Counter64", "5"),
        "{}",
        rig.context()
    );
    rig.wait_polls(7);
    let kinds: Vec<String> = rig.ours().iter().map(|t| t.trap_oid().into()).collect();
    assert_eq!(kinds, [rising()], "{}", rig.context());
    // Still armed for falling: the noise never fell to 1.
    assert_eq!(
        rig.alarm_value(alarm_col::STATE, VTI1, CARRIER).as_deref(),
        Some(ARMED_FALLING)
    );
}

#[test]
fn hold_down_suppresses_a_flapping_category_and_counts_it() {
    let rig = Rig::start(|a| {
        a.categories.carrier = threshold(1, 1, 0);
        a.hold_down_secs = 60;
    });
    rig.wait_polls(1);
    // Errors on every other poll: crossing up and down each second.
    rig.source.on_collect(|d, n| {
        if n % 2 == 0 {
            d.add_carrier_errors(VTI1, 2);
        }
    });
    rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    rig.wait_polls(6);
    let kinds: Vec<String> = rig.ours().iter().map(|t| t.trap_oid().into()).collect();
    assert_eq!(kinds, [rising()], "{}", rig.context());
    let table = rig.alarm_table();
    let value = |col| table[&alarm_obj(col, VTI1, CARRIER)].clone();
    assert_eq!(value(alarm_col::EVENTS_SENT).value, "1");
    let suppressed: u64 = value(alarm_col::EVENTS_SUPPRESSED).value.parse().unwrap();
    assert!(
        suppressed >= 2,
        "vtiAlarmEventsSuppressed = {suppressed}; {}",
        rig.context()
    );
    assert_eq!(value(alarm_col::EVENTS_SUPPRESSED).kind, "Counter64");
}

#[test]
fn disabled_notification_kinds_are_not_sent() {
    let rig = Rig::start(|a| {
        a.categories.carrier = threshold(1, 1, 0);
        a.notifications.tx_error_rising = false;
        a.notifications.sa_down = false;
    });
    rig.wait_polls(1);
    rig.source.update(|d| {
        d.add_carrier_errors(VTI1, 3);
        d.sas.retain(|s| s.spi != 0x3001); // xfrm1's outbound SA
    });
    // The errors stop at once: the falling notification is enabled.
    rig.trapd.wait_for(&falling(), 1, Duration::from_secs(10));
    rig.source.update(|d| {
        d.sas = three_tunnels().sas;
    });
    let up = rig.trapd.wait_for(&sa_up(), 1, Duration::from_secs(10));
    assert_eq!(
        typed(&up[0], &if_obj(if_col::NAME, XFRM)),
        ("STRING", "xfrm1")
    );
    rig.wait_polls(1);
    let kinds: Vec<String> = rig.ours().iter().map(|t| t.trap_oid().into()).collect();
    assert_eq!(kinds, [falling(), sa_up()], "{}", rig.context());
    // Sent counts what went out; the rising crossing was suppressed.
    let table = rig.alarm_table();
    let value = |col| table[&alarm_obj(col, VTI1, CARRIER)].value.clone();
    assert_eq!(
        (
            value(alarm_col::EVENTS_SENT),
            value(alarm_col::EVENTS_SUPPRESSED)
        ),
        ("1".to_string(), "1".to_string()),
        "{}",
        rig.context()
    );
    // The events not sent are in the history all the same, marked so.
    let (rows, _, _) = rig.event_table();
    let notified: Vec<(String, String, String)> = rows
        .values()
        .map(|r| {
            (
                cell(r, event_col::KIND),
                cell(r, event_col::IF_NAME),
                cell(r, event_col::NOTIFICATION),
            )
        })
        .collect();
    for (kind, name, how) in [
        ("1", "vti1", NOTIFICATION_DISABLED),
        ("2", "vti1", SENT),
        (SA_DOWN_KIND, "xfrm1", NOTIFICATION_DISABLED),
        (SA_UP_KIND, "xfrm1", SENT),
    ] {
        assert!(
            notified.contains(&(kind.into(), name.into(), how.into())),
            "no ({kind}, {name}, {how}) in {notified:?}"
        );
    }
}

#[test]
fn alarms_disabled_globally_send_nothing() {
    let rig = Rig::start(|a| {
        a.categories.carrier = threshold(1, 1, 0);
        a.enabled = false;
    });
    rig.wait_polls(1);
    rig.source.on_collect(|d, _| d.add_carrier_errors(VTI1, 3));
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x1001));
    // The engine still evaluates (the table says a rising alarm is out) …
    rig.wait_alarm_value(alarm_col::STATE, VTI1, CARRIER, ARMED_FALLING);
    rig.source.clear_hook();
    rig.source.update(|d| d.sas = three_tunnels().sas);
    rig.wait_polls(3);
    // … but nothing reaches snmptrapd, which did hear snmpd's coldStart.
    assert_eq!(rig.count(COLD_START), 1, "{}", rig.context());
    assert!(rig.ours().is_empty(), "{}", rig.context());
    assert_eq!(
        rig.alarm_value(alarm_col::EVENTS_SENT, VTI1, CARRIER)
            .as_deref(),
        Some("0")
    );
}

/// vti1 failing from the very first poll; vti6x has no outbound SA.
fn failing_at_start(startup: Startup) -> Rig {
    let mut data = three_tunnels();
    data.sas.retain(|s| s.spi != 0x2001);
    Rig::start_full(
        data,
        |src| src.on_collect(|d, _| d.add_carrier_errors(VTI1, 3)),
        &[],
        |a| {
            a.categories.carrier = threshold(2, 1, 0);
            a.startup = startup;
        },
    )
}

#[test]
fn startup_rising_reports_a_tunnel_already_failing() {
    let rig = failing_at_start(Startup::Rising);
    let got = rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    assert_eq!(typed(&got[0], &if_obj(if_col::NAME, VTI1)).1, "vti1");
    let down = rig.trapd.wait_for(&sa_down(), 1, Duration::from_secs(10));
    assert_eq!(typed(&down[0], &if_obj(if_col::NAME, VTI6)).1, "vti6x");
    rig.wait_polls(2);
    let ours = rig.ours();
    assert_eq!(ours.len(), 2, "{}", rig.context());
    assert_eq!(rig.count(&falling()), 0);
}

#[test]
fn startup_falling_does_not_report_a_tunnel_already_failing() {
    let rig = failing_at_start(Startup::Falling);
    // The quiet rows do get their startup falling event (RFC 2819).
    let quiet = rig.trapd.wait_for(&falling(), 1, Duration::from_secs(10));
    assert!(!quiet.is_empty());
    rig.wait_polls(3);
    let ours = rig.ours();
    assert_eq!(rig.count(&rising()), 0, "{}", rig.context());
    assert_eq!(rig.count(&sa_down()), 0, "{}", rig.context());
    let vti1_carrier = alarm_obj(alarm_col::EVENT_CATEGORY, VTI1, CARRIER);
    assert!(
        ours.iter().all(|t| t.get(&vti1_carrier).is_none()),
        "an event for vti1's carrier alarm: {}",
        rig.context()
    );
    // Armed for falling: the failure is the baseline.
    assert_eq!(
        rig.alarm_value(alarm_col::STATE, VTI1, CARRIER).as_deref(),
        Some(ARMED_FALLING)
    );
}

#[test]
fn losing_and_regaining_the_outbound_sa_sends_sa_down_and_sa_up() {
    let mut data = three_tunnels();
    data.policies = out_policies(&data.tunnels);
    let rig = Rig::start_full(
        data,
        |_| {},
        &[],
        |a| a.categories.carrier = threshold(1, 1, 0),
    );
    rig.wait_polls(1);
    // The IKE daemon deletes vti1's outbound SA: traffic fails with carrier
    // errors (noOutboundSa).
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x1001));
    rig.source.on_collect(|d, _| d.add_carrier_errors(VTI1, 2));
    let down = rig.trapd.wait_for(&sa_down(), 1, Duration::from_secs(10));
    let up_rising = rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    let t = &down[0];
    assert_eq!(
        objects(t),
        with_tail(
            VTI1,
            vec![
                if_obj(if_col::NAME, VTI1),
                if_obj(if_col::OUT_SA_COUNT, VTI1),
                if_obj(if_col::DIAGNOSIS, VTI1)
            ]
        )
    );
    // noOutboundSa(5), towards vti1's remote.
    assert_eq!(
        cause_and_peer(t, VTI1),
        ("5".into(), "1".into(), hex("198.51.100.7"))
    );
    assert_eq!(typed(t, &if_obj(if_col::NAME, VTI1)), ("STRING", "vti1"));
    assert_eq!(
        typed(t, &if_obj(if_col::OUT_SA_COUNT, VTI1)),
        ("Gauge32", "0")
    );
    let diagnosis = typed(t, &if_obj(if_col::DIAGNOSIS, VTI1)).1.to_string();
    assert!(
        diagnosis.contains("no outbound SA"),
        "diagnosis does not name the missing SA: {diagnosis:?}"
    );
    assert_eq!(
        typed(
            &up_rising[0],
            &alarm_obj(alarm_col::EVENT_CATEGORY, VTI1, CARRIER)
        ),
        ("INTEGER", "1")
    );

    // Rekeyed: the SA is back and the errors stop.
    rig.source.clear_hook();
    rig.source.update(|d| d.sas = three_tunnels().sas);
    let up = rig.trapd.wait_for(&sa_up(), 1, Duration::from_secs(10));
    rig.trapd.wait_for(&falling(), 1, Duration::from_secs(10));
    let t = &up[0];
    assert_eq!(
        objects(t),
        with_tail(
            VTI1,
            vec![
                if_obj(if_col::NAME, VTI1),
                if_obj(if_col::OUT_SA_COUNT, VTI1)
            ]
        )
    );
    assert_eq!(cause_and_peer(t, VTI1).2, hex("198.51.100.7"));
    assert_eq!(
        typed(t, &if_obj(if_col::OUT_SA_COUNT, VTI1)),
        ("Gauge32", "1")
    );
    rig.wait_polls(2);
    let mut kinds: Vec<String> = rig.ours().iter().map(|t| t.trap_oid().into()).collect();
    kinds.sort();
    let mut want = vec![rising(), falling(), sa_down(), sa_up()];
    want.sort();
    assert_eq!(kinds, want, "{}", rig.context());
    eprintln!("vtiSaDown diagnosis: {diagnosis}");
}

#[test]
fn an_sa_near_its_hard_expiry_sends_one_vti_sa_expiring() {
    // vti1's only outbound SA hard-expires in ~100 s (added 3500 s ago,
    // hard lifetime 3600 s); the others have ~3500 s left.
    let mut data = three_tunnels();
    for sa in data.sas.iter_mut().filter(|s| s.spi == 0x1001) {
        sa.current.add_time -= 3400;
    }
    let rig = Rig::start_full(data, |_| {}, &[], |a| a.sa_expiring_margin_secs = 300);
    let got = rig.trapd.wait_for(
        &trap_oid(notification::SA_EXPIRING),
        1,
        Duration::from_secs(10),
    );
    let t = &got[0];
    assert_eq!(
        objects(t),
        with_tail(
            VTI1,
            vec![
                if_obj(if_col::NAME, VTI1),
                if_obj(if_col::SECONDS_TO_HARD_EXPIRY, VTI1)
            ]
        )
    );
    assert_eq!(typed(t, &if_obj(if_col::NAME, VTI1)), ("STRING", "vti1"));
    let (kind, secs) = typed(t, &if_obj(if_col::SECONDS_TO_HARD_EXPIRY, VTI1));
    let secs: i64 = secs.parse().unwrap();
    assert_eq!(kind, "INTEGER");
    assert!((80..=100).contains(&secs), "{secs}");
    // Warned once per SA lifetime; a rekey (a newer outbound SA) is quiet.
    rig.wait_polls(2);
    rig.source.update(|d| {
        let mut fresh = d.sas.iter().find(|s| s.spi == 0x1001).unwrap().clone();
        fresh.spi = 0x1003;
        fresh.current.add_time += 3400;
        d.sas.push(fresh);
    });
    rig.wait_polls(2);
    let kinds: Vec<String> = rig.ours().iter().map(|t| t.trap_oid().into()).collect();
    assert_eq!(
        kinds,
        [trap_oid(notification::SA_EXPIRING)],
        "{}",
        rig.context()
    );
}

#[test]
fn a_notification_raised_while_snmpd_is_down_arrives_after_it_restarts() {
    let mut rig = Rig::start(|a| a.categories.carrier = threshold(1, 1, 0));
    rig.wait_polls(1);
    rig.snmpd.kill();
    let lost = wait_until(Duration::from_secs(10), || {
        rig.agent.log().contains("lost session")
    });
    assert!(lost, "{}", rig.context());
    rig.source.update(|d| d.add_carrier_errors(VTI1, 4));
    // The poller raised it (and handed it to the session's queue) …
    let raised = wait_until(Duration::from_secs(10), || {
        rig.agent.log().contains("kind: TxErrorRising")
    });
    assert!(raised, "{}", rig.context());
    rig.wait_polls(2);
    assert_eq!(rig.count(&rising()), 0);
    // … and it goes out once snmpd is back and we have registered again.
    rig.snmpd.start_again();
    let got = rig.trapd.wait_for(&rising(), 1, Duration::from_secs(15));
    assert_eq!(
        typed(&got[0], &alarm_obj(alarm_col::LAST_DELTA, VTI1, CARRIER)),
        ("Counter64", "4")
    );
    // Delivered through the new snmpd: after its coldStart.
    let traps = rig.trapd.traps();
    let second_cold = traps
        .iter()
        .enumerate()
        .filter(|(_, t)| t.trap_oid() == COLD_START)
        .map(|(i, _)| i)
        .nth(1)
        .unwrap_or_else(|| panic!("no second coldStart: {}", rig.context()));
    let rising_at = traps.iter().position(|t| t.trap_oid() == rising()).unwrap();
    assert!(rising_at > second_cold, "{}", rig.context());
    let log = rig.agent.log();
    assert!(log.contains("again (session"), "{log}");
    assert!(log.contains("queued while the master was away"), "{log}");
    // The falling event (delta back to 0 while snmpd was down) is queued
    // behind it and follows.
    rig.trapd.wait_for(&falling(), 1, Duration::from_secs(10));
    assert_eq!(rig.count(&rising()), 1, "{}", rig.context());
}

#[test]
fn alarm_table_shows_thresholds_state_delta_and_events() {
    let rig = Rig::start(|a| {
        // A long interval: the walk below sees the rising alarm's delta.
        a.categories.carrier = threshold(6, 4, 1);
        a.overrides = toml::from_str::<AlarmConfig>(
            "[[override]]\ntunnels = \"vti6*\"\ncategory = \"carrier\"\nrising = 9\n\
             falling = 3\ninterval_secs = 8\n",
        )
        .unwrap()
        .overrides;
    });
    rig.wait_polls(1);
    rig.source.update(|d| d.add_carrier_errors(VTI1, 6));
    rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));
    let table = rig.alarm_table();
    let get = |col, ifindex, cat| -> (String, String) {
        let v = table
            .get(&alarm_obj(col, ifindex, cat))
            .unwrap_or_else(|| panic!("no {}", alarm_obj(col, ifindex, cat)));
        (v.kind.clone(), v.value.clone())
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    let expect_cells = |cells: &[(u32, u32, u32, &str, &str)]| {
        for &(col, ifindex, cat, kind, value) in cells {
            assert_eq!(
                get(col, ifindex, cat),
                pair(kind, value),
                "{}",
                alarm_obj(col, ifindex, cat)
            );
        }
    };
    // vti1 carrier: the category's thresholds, a rising alarm outstanding.
    expect_cells(&[
        (alarm_col::INTERVAL, VTI1, CARRIER, "Gauge32", "6"),
        (alarm_col::RISING_THRESHOLD, VTI1, CARRIER, "Gauge32", "4"),
        (alarm_col::FALLING_THRESHOLD, VTI1, CARRIER, "Gauge32", "1"),
        (alarm_col::STATE, VTI1, CARRIER, "INTEGER", ARMED_FALLING),
        (alarm_col::LAST_DELTA, VTI1, CARRIER, "Counter64", "6"),
        (alarm_col::EVENTS_SENT, VTI1, CARRIER, "Counter64", "1"),
        (
            alarm_col::EVENTS_SUPPRESSED,
            VTI1,
            CARRIER,
            "Counter64",
            "0",
        ),
    ]);
    let (kind, ticks) = get(alarm_col::LAST_EVENT_TIME, VTI1, CARRIER);
    assert_eq!(kind, "Timeticks");
    assert!(!ticks.starts_with("(0)"), "{ticks}");
    // vti6x carrier: the glob override; quiet, armed for rising.
    expect_cells(&[
        (alarm_col::INTERVAL, VTI6, CARRIER, "Gauge32", "8"),
        (alarm_col::RISING_THRESHOLD, VTI6, CARRIER, "Gauge32", "9"),
        (alarm_col::FALLING_THRESHOLD, VTI6, CARRIER, "Gauge32", "3"),
        (alarm_col::STATE, VTI6, CARRIER, "INTEGER", ARMED_RISING),
        (alarm_col::EVENTS_SENT, VTI6, CARRIER, "Counter64", "0"),
        // dropped is off by default.
        (alarm_col::STATE, XFRM, DROPPED, "INTEGER", DISABLED),
    ]);
    // Six categories per tunnel, and the notify-only column is not served.
    let states = table
        .keys()
        .filter(|k| k.starts_with(&format!("{ROOT}.1.5.1.{}.", alarm_col::STATE)))
        .count();
    assert_eq!(states, 3 * 6);
    assert!(!table
        .keys()
        .any(|k| k.starts_with(&format!("{ROOT}.1.5.1.{}.", alarm_col::EVENT_CATEGORY))));
}

/// A trap sink in this process: collects every datagram sent to it.
struct UdpSink {
    port: u16,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl UdpSink {
    fn start() -> UdpSink {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let weak = Arc::downgrade(&got);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            // Ends when the test drops the sink.
            while let Some(got) = weak.upgrade() {
                if let Ok(n) = sock.recv(&mut buf) {
                    got.lock().unwrap().push(buf[..n].to_vec());
                }
            }
        });
        UdpSink { port, got }
    }
}

#[test]
fn the_trap_pdu_carries_typed_varbinds_in_mib_order() {
    use snmp_parser::{ObjectSyntax, PduType, VarBindValue};

    let sink = UdpSink::start();
    let rig = Rig::start_full(
        three_tunnels(),
        |_| {},
        &[format!("trap2sink 127.0.0.1:{} public", sink.port)],
        |a| a.categories.carrier = threshold(3, 2, 0),
    );
    rig.wait_polls(1);
    rig.source.update(|d| d.add_carrier_errors(VTI1, 7));
    rig.trapd.wait_for(&rising(), 1, Duration::from_secs(10));

    let want_trap = rising();
    let find = || -> Option<Vec<u8>> {
        sink.got.lock().unwrap().iter().find_map(|d| {
            let (_, msg) = snmp_parser::parse_snmp_v2c(d).ok()?;
            let oid = msg.vars_iter().nth(1).and_then(|v| match &v.val {
                VarBindValue::Value(ObjectSyntax::Object(o)) => Some(o.to_id_string()),
                _ => None,
            })?;
            (oid == want_trap).then(|| d.clone())
        })
    };
    assert!(
        wait_until(Duration::from_secs(5), || find().is_some()),
        "the UDP sink got no vtiTxErrorRising ({} datagrams)",
        sink.got.lock().unwrap().len()
    );
    let datagram = find().unwrap();
    let (rest, msg) = snmp_parser::parse_snmp_v2c(&datagram).unwrap();
    assert!(rest.is_empty());
    assert_eq!(msg.version, 1, "SNMPv2c");
    assert_eq!(msg.community, "public");
    assert_eq!(msg.pdu_type(), PduType::TrapV2);

    let decoded: Vec<(String, &ObjectSyntax)> = msg
        .vars_iter()
        .map(|v| match &v.val {
            VarBindValue::Value(s) => (v.oid.to_id_string(), s),
            other => panic!("{} has no value: {other:?}", v.oid.to_id_string()),
        })
        .collect();
    for (oid, value) in &decoded {
        eprintln!("{oid} = {value:?}");
    }
    let oids_got: Vec<&str> = decoded.iter().map(|(o, _)| o.as_str()).collect();
    let mut oids_want = vec![SYS_UPTIME_0.to_string(), SNMP_TRAP_OID_0.to_string()];
    oids_want.extend(tx_error_objects(VTI1, CARRIER, alarm_col::RISING_THRESHOLD));
    assert_eq!(oids_got, oids_want);

    assert!(matches!(decoded[0].1, ObjectSyntax::TimeTicks(_)));
    match decoded[1].1 {
        ObjectSyntax::Object(o) => assert_eq!(o.to_id_string(), rising()),
        other => panic!("snmpTrapOID.0 = {other:?}"),
    }
    assert!(matches!(decoded[2].1, ObjectSyntax::String(b"vti1")));
    assert!(matches!(decoded[3].1, ObjectSyntax::Number(1)));
    assert!(matches!(decoded[4].1, ObjectSyntax::Counter64(7)));
    // Unsigned32 and Gauge32 share a tag ([APPLICATION 2]).
    assert!(matches!(
        decoded[5].1,
        ObjectSyntax::Gauge32(2) | ObjectSyntax::UInteger32(2)
    ));
    assert!(matches!(
        decoded[6].1,
        ObjectSyntax::Gauge32(3) | ObjectSyntax::UInteger32(3)
    ));
    assert!(matches!(decoded[7].1, ObjectSyntax::String(_)));
    // The tail: the cause as a number, the peer, the event's row.
    assert!(matches!(decoded[8].1, ObjectSyntax::Number(1..=15)));
    assert!(matches!(decoded[9].1, ObjectSyntax::Number(1)), "ipv4");
    assert!(matches!(
        decoded[10].1,
        ObjectSyntax::String(&[198, 51, 100, 7])
    ));
    assert!(matches!(
        decoded[11].1,
        ObjectSyntax::Gauge32(1..) | ObjectSyntax::UInteger32(1..)
    ));
}

#[test]
fn snmptrapd_log_parser_handles_multiline_values() {
    let log = "NET-SNMP version 5.9.3\n\
        TRAP\t.1.3.6.1.2.1.1.3.0 = Timeticks: (5) 0:00:00.05\t\
        .1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.99.0.1\t\
        .1.3.6.1.4.1.99.1.2 = STRING: \"a\tb\nc\"\n\
        TRAP\t.1.3.6.1.2.1.1.3.0 = Timeticks: (6) 0:00:00.06\n";
    let t = parse_log(log);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].trap_oid(), "1.3.6.1.4.1.99.0.1");
    assert_eq!(t[0].value("1.3.6.1.4.1.99.1.2"), Some("a\tb\nc"));
    assert_eq!(t[1].varbinds.len(), 1);
}

/// An xfrm tunnel has no remote: the peer its notifications and its row
/// carry is its outbound SA's destination, and once the SA is gone its
/// outbound policy's template destination.
#[test]
fn xfrm_notifications_carry_the_peer_from_the_sa_or_the_policy() {
    let mut data = three_tunnels();
    data.policies = out_policies(&data.tunnels);
    let rig = Rig::start_full(data, |_| {}, &[], |_| {});
    rig.wait_polls(1);
    let source = || {
        parse(&rig.snmpd.get(&[&if_obj(if_col::PEER_ADDR_SOURCE, XFRM)]))[0]
            .value
            .clone()
    };
    assert_eq!(source(), "2", "outboundSa");
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x3001));
    let down = rig.trapd.wait_for(&sa_down(), 1, Duration::from_secs(10));
    let (_, peer_type, peer) = cause_and_peer(&down[0], XFRM);
    assert_eq!((peer_type.as_str(), peer), ("1", hex("203.0.113.9")));
    assert_eq!(source(), "3", "policyTemplate");
    let row = parse(
        &rig.snmpd
            .walk(&format!("{ROOT}.{}.{}.1", oids::OBJECTS, oids::IF_TABLE)),
    );
    let value = |col: u32| {
        row.iter()
            .find(|v| v.oid == if_obj(col, XFRM))
            .map(|v| v.value.trim().to_string())
    };
    assert_eq!(value(if_col::PEER_ADDR_TYPE).as_deref(), Some("1"));
    assert_eq!(
        value(if_col::PEER_ADDR),
        Some(hex("203.0.113.9").trim().to_string())
    );
}

/// The point of the event history: a trap lost on the way (snmptrapd down)
/// is read back from vtiEventTable, and the next trap's event index shows
/// the gap.
#[test]
fn an_event_whose_trap_was_dropped_is_read_back_from_the_event_table() {
    let mut data = three_tunnels();
    data.policies = out_policies(&data.tunnels);
    let mut rig = Rig::start_full(data, |_| {}, &[], |_| {});
    rig.wait_polls(1);
    // One event delivered, to know where the manager stands.
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x1001));
    let first = rig.trapd.wait_for(&sa_down(), 1, Duration::from_secs(10));
    let seen = event_index(&first[0]);

    // snmptrapd goes away; xfrm1 loses its SA: the trap is sent into the
    // void.
    rig.trapd.stop();
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x3001));
    let (dropped, row) = rig.wait_event(SA_DOWN_KIND, XFRM);
    rig.wait_polls(2);
    let (rows, last, size) = rig.event_table();
    eprintln!(
        "vtiEventTable after the dropped trap (vtiEventLastIndex {last}, \
         vtiEventTableSize {size}):\n{}",
        dump(&rows)
    );
    assert_eq!(dropped, seen + 1);
    assert_eq!(cell(&row, event_col::IF_NAME), "xfrm1");
    // The tunnel's vtiIfCause: none(1), no packet has failed yet (the
    // text says what happened).
    assert_eq!(cell(&row, event_col::CAUSE), "1");
    assert_eq!(cell(&row, event_col::PEER_ADDR_TYPE), "1");
    assert_eq!(
        format!("{} ", cell(&row, event_col::PEER_ADDR).trim()),
        hex("203.0.113.9")
    );
    assert_eq!(cell(&row, event_col::NOTIFICATION), SENT);
    assert!(
        cell(&row, event_col::TEXT).contains("no outbound SA"),
        "{row:?}"
    );
    assert_eq!(row[&event_col::TIME].kind, "Timeticks");
    assert_eq!(row[&event_col::DATE_AND_TIME].kind, "Hex-STRING");
    assert!(!row.contains_key(&event_col::CATEGORY), "not a threshold");
    assert_eq!((last, size), (dropped, 256));

    // snmptrapd is back; the next trap says event dropped + 1: the
    // manager sees the gap and reads the missing row above.
    rig.trapd.start_again();
    rig.source.update(|d| d.sas = three_tunnels().sas);
    let ups = rig.trapd.wait_for(&sa_up(), 1, Duration::from_secs(10));
    let indexes: Vec<u32> = ups.iter().map(event_index).collect();
    assert!(indexes.iter().all(|&i| i > dropped), "{indexes:?}");
    assert_eq!(
        rig.trapd.with_oid(&sa_down()).len(),
        1,
        "the second vtiSaDown never arrived: {}",
        rig.context()
    );
}

/// A history of 3 rows: indexes keep increasing, the oldest go, and the
/// rows outlive a restart of snmpd (the agent keeps them).
#[test]
fn the_event_window_slides_and_survives_an_snmpd_restart() {
    let mut rig = Rig::start_config(
        three_tunnels(),
        |_| {},
        &[],
        |cfg| {
            cfg.events.history_size = 3;
        },
    );
    rig.wait_polls(1);
    // vti1 loses and regains its SA three times: six events.
    for _ in 0..3 {
        rig.source.update(|d| d.sas.retain(|s| s.spi != 0x1001));
        rig.wait_polls(2);
        rig.source.update(|d| d.sas = three_tunnels().sas);
        rig.wait_polls(2);
    }
    let ok = wait_until(Duration::from_secs(10), || rig.event_table().1 >= 6);
    assert!(ok, "{}", rig.context());
    let (rows, last, size) = rig.event_table();
    assert_eq!((last, size), (6, 3), "{}", dump(&rows));
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), [4, 5, 6]);
    let kinds: Vec<String> = rows.values().map(|r| cell(r, event_col::KIND)).collect();
    assert_eq!(kinds, [SA_UP_KIND, SA_DOWN_KIND, SA_UP_KIND]);

    rig.snmpd.restart();
    rig.wait_registered();
    let (after, last_after, _) = rig.event_table();
    assert_eq!(last_after, 6);
    assert_eq!(after.keys().copied().collect::<Vec<_>>(), [4, 5, 6]);
    for (i, row) in &after {
        for col in [event_col::KIND, event_col::TEXT, event_col::DATE_AND_TIME] {
            assert_eq!(
                cell(row, col),
                cell(&rows[i], col),
                "row {i} column {col} after the restart"
            );
        }
        // Before the new snmpd's sysUpTime began: 0, as RFC 2579 says.
        assert!(cell(row, event_col::TIME).starts_with("(0)"), "{row:?}");
    }
    eprintln!("vtiEventTable after the snmpd restart:\n{}", dump(&after));
    // The next event is 7, and 4 goes.
    rig.source.update(|d| d.sas.retain(|s| s.spi != 0x1001));
    let ok = wait_until(Duration::from_secs(10), || rig.event_table().1 == 7);
    assert!(ok, "{}", rig.context());
    let (rows, _, _) = rig.event_table();
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), [5, 6, 7]);
    let row = &rows[&7];
    assert_eq!(cell(row, event_col::KIND), SA_DOWN_KIND);
    assert!(!cell(row, event_col::TIME).starts_with("(0)"), "{row:?}");
}
