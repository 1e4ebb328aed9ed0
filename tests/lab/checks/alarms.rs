//! Host-side check of the `alarms` lab part (`tests/lab/scenarios/alarms.sh`, issue 5
//! "Lab test"): what a real snmptrapd received through snmpd's trap2sink when an XFRM
//! tunnel carrying a steady ping lost its outbound SA and got it back.
//!
//! - While the SA was gone (log `alarms.traps.down`): exactly one vtiTxErrorRising
//!   (category carrier(1), delta ≥ 1, threshold 1, interval 2, a diagnosis naming the
//!   missing SA: its peer and the tunnel's if_id) and exactly one vtiSaDown
//!   (vtiIfOutSaCount 0), nothing else of ours.
//! - After the restore (whole log `alarms.traps`): additionally exactly one
//!   vtiTxErrorFalling (carrier, delta 0, threshold 0, interval 2, the diagnosis of
//!   the errors that stopped: the missing SA) and one vtiSaUp
//!   (vtiIfOutSaCount 1); no vtiSaExpiring.
//! - Every notification starts with sysUpTime.0 then snmpTrapOID.0, and its varbinds
//!   are the MIB's OBJECTS, in order, with the MIB's types.

use vti_agentx::mib::oids::{alarm_col, if_col, ALARM_TABLE, IF_TABLE, OBJECTS};

use crate::common::Sections;
use std::fmt::Write as _;

fn section<'a>(sections: &'a Sections, name: &str) -> Option<(&'a str, i32)> {
    sections.get(name).map(|s| (s.body.as_str(), s.rc))
}

const ROOT: &str = ".1.3.6.1.4.1.8072.9999.9999.2741";
const SYS_UPTIME: &str = ".1.3.6.1.2.1.1.3.0";
const TRAP_OID: &str = ".1.3.6.1.6.3.1.1.4.1.0";
const CARRIER: u32 = 1;
const TUNNEL: &str = "xfrm1";
const IF_ID: u32 = 31;
const PEER: &str = "192.0.2.6";

/// One varbind as snmptrapd printed it: OID, type ("STRING", "Gauge32", ...), value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vb {
    pub oid: String,
    pub ty: String,
    pub value: String,
}

/// One received notification.
#[derive(Clone, Debug)]
pub struct Trap {
    pub oid: String,
    pub varbinds: Vec<Vb>,
}

/// "TRAP vb\tvb\t..." lines (snmptrapd -F 'TRAP %v\n').
pub fn traps(log: &str) -> Result<Vec<Trap>, String> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("TRAP ") else {
            continue;
        };
        let mut vbs = Vec::new();
        for vb in rest.split('\t') {
            let (oid, val) = vb
                .split_once(" = ")
                .ok_or_else(|| format!("varbind without ' = ': {vb:?}"))?;
            let (ty, value) = val.split_once(": ").unwrap_or((val, ""));
            vbs.push(Vb {
                oid: oid.to_string(),
                ty: ty.to_string(),
                value: value.trim_matches('"').to_string(),
            });
        }
        if vbs.len() < 2 || vbs[0].oid != SYS_UPTIME || vbs[1].oid != TRAP_OID {
            return Err(format!(
                "notification does not start with sysUpTime.0, snmpTrapOID.0: {line}"
            ));
        }
        out.push(Trap {
            oid: vbs[1].value.clone(),
            varbinds: vbs.split_off(2),
        });
    }
    Ok(out)
}

fn name(trap_oid: &str) -> String {
    match trap_oid.strip_prefix(ROOT) {
        Some(".0.1") => "vtiTxErrorRising".into(),
        Some(".0.2") => "vtiTxErrorFalling".into(),
        Some(".0.3") => "vtiSaDown".into(),
        Some(".0.4") => "vtiSaUp".into(),
        Some(".0.5") => "vtiSaExpiring".into(),
        _ => trap_oid.to_string(),
    }
}

fn count(traps: &[Trap], n: u32) -> usize {
    let oid = format!("{ROOT}.0.{n}");
    traps.iter().filter(|t| t.oid == oid).count()
}

/// (OID, type, value check) expected for each varbind of a notification.
type Want = Vec<(String, &'static str, Box<dyn Fn(&str) -> bool>)>;

/// A vtiIfTable cell's OID.
fn if_obj(col: u32, idx: u32) -> String {
    format!("{ROOT}.{OBJECTS}.{IF_TABLE}.1.{col}.{idx}")
}

fn want_tx_error(idx: u32, rising: bool) -> Want {
    let alarm = |col: u32| format!("{ROOT}.{OBJECTS}.{ALARM_TABLE}.1.{col}.{idx}.{CARRIER}");
    let threshold_col = if rising {
        alarm_col::RISING_THRESHOLD
    } else {
        alarm_col::FALLING_THRESHOLD
    };
    let threshold = if rising { "1" } else { "0" };
    vec![
        (
            if_obj(if_col::NAME, idx),
            "STRING",
            Box::new(|v| v == TUNNEL),
        ),
        (
            alarm(alarm_col::EVENT_CATEGORY),
            "INTEGER",
            Box::new(|v| v == "1"),
        ),
        (
            alarm(alarm_col::LAST_DELTA),
            "Counter64",
            Box::new(move |v| {
                let d: u64 = v.parse().unwrap_or(u64::MAX);
                if rising {
                    (1..u64::MAX).contains(&d)
                } else {
                    d == 0
                }
            }),
        ),
        (
            alarm(threshold_col),
            "Gauge32",
            Box::new(move |v| v == threshold),
        ),
        (
            alarm(alarm_col::INTERVAL),
            "Gauge32",
            Box::new(|v| v == "2"),
        ),
        (
            if_obj(if_col::DIAGNOSIS, idx),
            "STRING",
            // Falling too: the cause of the errors that stopped.
            Box::new(names_missing_sa),
        ),
    ]
}

/// The diagnosis of "no SA" on xfrm1: says the SA is missing and names its peer and
/// the interface's if_id.
fn names_missing_sa(text: &str) -> bool {
    text.contains("no outbound SA")
        && text.contains(PEER)
        && text.contains(&format!("if_id {IF_ID}"))
}

fn want_sa(idx: u32, up: bool) -> Want {
    let mut w: Want = vec![
        (
            if_obj(if_col::NAME, idx),
            "STRING",
            Box::new(|v| v == TUNNEL),
        ),
        (
            if_obj(if_col::OUT_SA_COUNT, idx),
            "Gauge32",
            Box::new(move |v| v == if up { "1" } else { "0" }),
        ),
    ];
    if !up {
        // The diagnosis at the moment the SA went away (may still be empty: the SA can
        // vanish a poll before the first packet fails).
        w.push((if_obj(if_col::DIAGNOSIS, idx), "STRING", Box::new(|_| true)));
    }
    w
}

fn check_varbinds(trap: &Trap, want: &Want, errs: &mut Vec<String>) {
    let got: Vec<String> = trap
        .varbinds
        .iter()
        .map(|v| format!("{} = {}: {}", v.oid, v.ty, v.value))
        .collect();
    if trap.varbinds.len() != want.len() {
        errs.push(format!(
            "{}: {} varbinds after snmpTrapOID.0, expected {}: {got:?}",
            name(&trap.oid),
            trap.varbinds.len(),
            want.len()
        ));
        return;
    }
    for (vb, (oid, ty, ok)) in trap.varbinds.iter().zip(want) {
        if vb.oid != *oid || vb.ty != *ty || !ok(&vb.value) {
            errs.push(format!(
                "{}: varbind {} = {}: {:?}, expected {oid} of type {ty} (all: {got:?})",
                name(&trap.oid),
                vb.oid,
                vb.ty,
                vb.value
            ));
        }
    }
}

/// Problems found in the alarms part of one kernel's run (empty = pass). Prints what
/// snmptrapd received to stderr.
pub fn check(sections: &Sections, kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    for s in [
        "alarms.snmptrapd",
        "alarms.snmpd",
        "alarms.agent_up",
        "alarms.ping.healthy",
        "alarms.inject",
        "alarms.restore",
    ] {
        match section(sections, s) {
            Some((_, 0)) => {}
            Some((body, rc)) => errs.push(format!("{s} failed (rc={rc}): {body}")),
            None => errs.push(format!("{s}: section missing")),
        }
    }
    let idx: Option<u32> = section(sections, "alarms.ifindex")
        .and_then(|(b, _)| b.split_whitespace().nth(1)?.parse().ok());
    let Some(idx) = idx else {
        errs.push("alarms.ifindex missing".into());
        return prefix(kernel, errs);
    };
    let parse = |s: &str| -> Result<Vec<Trap>, String> {
        let (body, _) = section(sections, s).ok_or_else(|| format!("{s}: section missing"))?;
        traps(body)
    };
    let (down, all) = match (parse("alarms.traps.down"), parse("alarms.traps")) {
        (Ok(d), Ok(a)) => (d, a),
        (Err(e), _) | (_, Err(e)) => {
            errs.push(e);
            return prefix(kernel, errs);
        }
    };
    let ours = |ts: &[Trap]| -> Vec<Trap> {
        ts.iter()
            .filter(|t| t.oid.starts_with(&format!("{ROOT}.0.")))
            .cloned()
            .collect()
    };
    let (down, all_ours) = (ours(&down), ours(&all));
    let mut report = format!("\nalarms [{kernel}] snmptrapd received (ours):\n");
    for t in &all_ours {
        let vbs: Vec<String> = t
            .varbinds
            .iter()
            .map(|v| format!("{}: {}", v.ty, v.value))
            .collect();
        let _ = writeln!(report, "  {:<18} {}", name(&t.oid), vbs.join(" | "));
    }
    let _ = writeln!(
        report,
        "  (+ {} notification(s) of snmpd itself, e.g. coldStart)",
        all.len() - all_ours.len()
    );
    if let Some((a, b)) = section(sections, "alarms.elapsed")
        .and_then(|(body, _)| body.strip_prefix("guest uptime "))
        .and_then(|r| r.trim().split_once(" -> "))
    {
        if let (Ok(a), Ok(b)) = (a.parse::<f64>(), b.parse::<f64>()) {
            let _ = writeln!(report, "  ({:.0} s in the guest)", b - a);
        }
    }
    eprint!("{report}");

    // While the SA was gone: rising + SaDown only.
    for (n, want) in [(1, 1), (2, 0), (3, 1), (4, 0), (5, 0)] {
        let c = count(&down, n);
        if c != want {
            errs.push(format!(
                "before the restore: {c} × {}, expected {want}",
                name(&format!("{ROOT}.0.{n}"))
            ));
        }
    }
    // In all: one of each, no SaExpiring.
    for (n, want) in [(1, 1), (2, 1), (3, 1), (4, 1), (5, 0)] {
        let c = count(&all_ours, n);
        if c != want {
            errs.push(format!(
                "in the whole run: {c} × {}, expected {want}",
                name(&format!("{ROOT}.0.{n}"))
            ));
        }
    }
    // The log only grows: the first part is what was received before the restore.
    if all_ours.len() < down.len()
        || all_ours[..down.len()]
            .iter()
            .zip(&down)
            .any(|(a, b)| a.oid != b.oid)
    {
        errs.push("the whole log does not start with the pre-restore log".into());
    }
    for t in &all_ours {
        let want = match t.oid.strip_prefix(ROOT) {
            Some(".0.1") => want_tx_error(idx, true),
            Some(".0.2") => want_tx_error(idx, false),
            Some(".0.3") => want_sa(idx, false),
            Some(".0.4") => want_sa(idx, true),
            _ => continue,
        };
        check_varbinds(t, &want, &mut errs);
    }
    prefix(kernel, errs)
}

fn prefix(kernel: &str, errs: Vec<String>) -> Vec<String> {
    errs.into_iter()
        .map(|e| format!("[{kernel}] alarms: {e}"))
        .collect()
}
