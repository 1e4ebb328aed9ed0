//! The MIB file against the tools and against `src/mib/oids.rs`.
//!
//! - `smilint -l 6` on `mibs/IPSEC-VTI-MIB.txt` and on a re-rooted copy:
//!   error-level messages (severity 0..=3) fail, all output is printed;
//! - `snmptranslate -On` of every name the MIB defines must equal the OID
//!   the Rust constants give, and every name must be in the table below
//!   (so a MIB object the code doesn't know, or the reverse, fails too);
//! - each object's SYNTAX and MAX-ACCESS are those `src/mib/columns.rs`
//!   describes;
//! - every notification `alarm::notify` builds carries exactly its
//!   NOTIFICATION-TYPE's OBJECTS, in order, under its `::=` trap OID.
//!
//! Needs the IETF base MIBs (IF-MIB, INET-ADDRESS-MIB, HCNUM-TC, ...) and
//! NET-SNMP-MIB. Without them the tests print a warning and pass; without
//! `smilint` / `snmptranslate` (packages smitools, snmp) they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vti_agentx::alarm::notify;
use vti_agentx::alarm::{Detail, Event, EventKind, Notified};
use vti_agentx::mib::columns::{self, Access, Column, Syntax};
use vti_agentx::mib::oids::{self, *};
use vti_agentx::mib::text::{rerooted, MIB_TEXT};
use vti_agentx::model::{
    Cause, ChildSaState, ErrorCategory, IkeSaState, OperStatus, Peer, PeerSource, TermReason,
};
use vti_agentx::oid::Oid;

const MODULE: &str = "IPSEC-VTI-MIB";

/// Directories that may hold the base MIBs, in search order.
fn candidate_dirs() -> Vec<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("VTI_IETF_MIB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(manifest.join("../shared/mibs/ietf"));
    // A git worktree one level further down (e.g. wt/<name>).
    dirs.push(manifest.join("../../shared/mibs/ietf"));
    dirs.push("/usr/share/snmp/mibs".into());
    dirs.push("/usr/share/snmp/mibs/ietf".into());
    dirs.push("/usr/share/mibs/ietf".into());
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

fn has_module(dir: &Path, module: &str) -> bool {
    ["", ".txt", ".my", ".mib"]
        .iter()
        .any(|ext| dir.join(format!("{module}{ext}")).is_file())
}

/// The base MIB search path, or `None` (after a loud warning) when no
/// IF-MIB can be found.
fn base_mib_path() -> Option<String> {
    let dirs = candidate_dirs();
    if !dirs.iter().any(|d| has_module(d, "IF-MIB")) {
        eprintln!(
            "\n\
             ##################################################################\n\
             ##  WARNING: IF-MIB not found: IPSEC-VTI-MIB was NOT checked.   ##\n\
             ##  Looked in $CARGO_MANIFEST_DIR/../shared/mibs/ietf,           ##\n\
             ##  /usr/share/snmp/mibs, /usr/share/snmp/mibs/ietf,            ##\n\
             ##  /usr/share/mibs/ietf (and $VTI_IETF_MIB_DIR if set).        ##\n\
             ##  Install snmp-mibs-downloader or point VTI_IETF_MIB_DIR at   ##\n\
             ##  a directory with the IETF MIBs.                             ##\n\
             ##################################################################\n"
        );
        return None;
    }
    let joined: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Some(joined.join(":"))
}

/// Runs a tool, failing clearly if it is not installed.
fn run(cmd: &mut Command, package: &str) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{program}` is not installed: the MIB cannot be checked \
             (apt-get install -y {package})"
        ),
        Err(e) => panic!("cannot run `{program}`: {e}"),
    }
}

fn mib_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mibs")
}

/// `smilint -l 6 -s`; panics on any message of severity 0..=3 (errors).
fn lint(file: &Path, base: &str) {
    let out = run(
        Command::new("smilint")
            .args(["-l", "6", "-s"])
            .arg(file)
            .env("SMIPATH", base),
        "smitools",
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "smilint -l 6 {} ({} line(s)):\n{text}",
        file.display(),
        text.lines().count()
    );
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| severity(l).is_some_and(|s| s <= 3))
        .collect();
    assert!(
        errors.is_empty(),
        "smilint reported errors for {}:\n{}",
        file.display(),
        errors.join("\n")
    );
    // Messages whose severity we cannot read are errors too: better a
    // loud failure than a silently ignored complaint.
    let unparsed: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && severity(l).is_none())
        .collect();
    assert!(
        unparsed.is_empty(),
        "unexpected smilint output:\n{}",
        unparsed.join("\n")
    );
}

/// `file:line: [N] ...` → N.
fn severity(line: &str) -> Option<u8> {
    let open = line.find(": [")? + 3;
    let close = open + line[open..].find(']')?;
    line[open..close].parse().ok()
}

/// Names defined at the top level of the MIB text (column 0, lower-case
/// descriptor, followed by a defining macro).
fn defined_names(text: &str) -> Vec<String> {
    const MACROS: &[&str] = &[
        "OBJECT-TYPE",
        "OBJECT IDENTIFIER",
        "NOTIFICATION-TYPE",
        "MODULE-IDENTITY",
        "OBJECT-GROUP",
        "NOTIFICATION-GROUP",
        "MODULE-COMPLIANCE",
    ];
    let mut names = Vec::new();
    for line in text.lines() {
        if !line.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        let Some((name, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        if MACROS.iter().any(|m| rest.starts_with(m)) {
            names.push(name.to_string());
        }
    }
    names
}

/// An object's description (`src/mib/columns.rs`) without its reader.
struct Described {
    id: u32,
    name: &'static str,
    syntax: Syntax,
    access: Access,
}

fn described<R, S>(columns: &[Column<R, S>]) -> Vec<Described> {
    columns
        .iter()
        .map(|c| Described {
            id: c.id,
            name: c.name,
            syntax: c.syntax,
            access: c.access,
        })
        .collect()
}

/// (table, entry, sub-id under vtiObjects, columns).
fn tables() -> Vec<(&'static str, &'static str, u32, Vec<Described>)> {
    vec![
        (
            "vtiXfrmStatTable",
            "vtiXfrmStatEntry",
            XFRM_STAT_TABLE,
            described(columns::xfrm_stat::COLUMNS),
        ),
        (
            "vtiIfTable",
            "vtiIfEntry",
            IF_TABLE,
            described(columns::if_col::COLUMNS),
        ),
        (
            "vtiSaTable",
            "vtiSaEntry",
            SA_TABLE,
            described(columns::sa_col::COLUMNS),
        ),
        (
            "vtiAlarmTable",
            "vtiAlarmEntry",
            ALARM_TABLE,
            described(columns::alarm_col::COLUMNS),
        ),
        (
            "vtiIkeTable",
            "vtiIkeEntry",
            IKE_TABLE,
            described(columns::ike_col::COLUMNS),
        ),
        (
            "vtiEventTable",
            "vtiEventEntry",
            EVENT_TABLE,
            described(columns::event_col::COLUMNS),
        ),
    ]
}

/// Every name of the MIB and its OID relative to the module root, from
/// `src/mib/oids.rs` and the object descriptions of `src/mib/columns.rs`.
fn expected() -> BTreeMap<&'static str, Vec<u32>> {
    let mut m: BTreeMap<&'static str, Vec<u32>> = BTreeMap::new();
    let mut add = |name: &'static str, tail: &[u32]| {
        assert!(m.insert(name, tail.to_vec()).is_none(), "{name} twice");
    };
    add("vtiMIB", &[]);
    add("vtiNotifications", &[NOTIFICATIONS]);
    add("vtiObjects", &[OBJECTS]);
    add("vtiConformance", &[CONFORMANCE]);

    {
        use oids::notification::*;
        let n = |x| [NOTIFICATIONS, x];
        add("vtiTxErrorRising", &n(TX_ERROR_RISING));
        add("vtiTxErrorFalling", &n(TX_ERROR_FALLING));
        add("vtiSaDown", &n(SA_DOWN));
        add("vtiSaUp", &n(SA_UP));
        add("vtiSaExpiring", &n(SA_EXPIRING));
        add("vtiIkeDown", &n(IKE_DOWN));
        add("vtiIkeUp", &n(IKE_UP));
        add("vtiTunnelDown", &n(TUNNEL_DOWN));
        add("vtiTunnelUp", &n(TUNNEL_UP));
    }

    // Every object under vtiObjects, from its description.
    add("vtiGlobal", &[OBJECTS, GLOBAL]);
    for c in described(columns::global::COLUMNS)
        .into_iter()
        .chain(described(columns::event_global::COLUMNS))
    {
        add(c.name, &[OBJECTS, GLOBAL, c.id]);
    }
    for (table, entry, n, columns) in tables() {
        add(table, &[OBJECTS, n]);
        add(entry, &[OBJECTS, n, 1]);
        for c in columns {
            add(c.name, &[OBJECTS, n, 1, c.id]);
        }
    }

    {
        use oids::conformance::*;
        add("vtiGroups", &[CONFORMANCE, GROUPS]);
        add("vtiCompliances", &[CONFORMANCE, COMPLIANCES]);
        add("vtiCompliance", &[CONFORMANCE, COMPLIANCES, COMPLIANCE]);
        let g = |x| [CONFORMANCE, GROUPS, x];
        add("vtiGlobalGroup", &g(GLOBAL_GROUP));
        add("vtiXfrmStatGroup", &g(XFRM_STAT_GROUP));
        add("vtiIfGroup", &g(IF_GROUP));
        add("vtiSaGroup", &g(SA_GROUP));
        add("vtiAlarmGroup", &g(ALARM_GROUP));
        add("vtiNotificationGroup", &g(NOTIFICATION_GROUP));
        add("vtiIkeGroup", &g(IKE_GROUP));
        add("vtiIkeNotificationGroup", &g(IKE_NOTIFICATION_GROUP));
        add("vtiEventGroup", &g(EVENT_GROUP));
    }
    m
}

/// Translates every name defined in `mib_file` (which must be the only
/// IPSEC-VTI-MIB in its directory) and compares with `root` + [`expected`].
fn check_oids(mib_file: &Path, base: &str, root: &Oid) {
    let text = std::fs::read_to_string(mib_file).unwrap();
    let names = defined_names(&text);
    let want = expected();

    let defined: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(defined.len(), names.len(), "a name is defined twice");
    let known: BTreeSet<&str> = want.keys().copied().collect();
    let not_in_rust: Vec<_> = defined.difference(&known).collect();
    let not_in_mib: Vec<_> = known.difference(&defined).collect();
    assert!(
        not_in_rust.is_empty() && not_in_mib.is_empty(),
        "MIB and src/mib/oids.rs disagree on the set of objects:\n  \
         defined in the MIB but not expected from oids.rs: {not_in_rust:?}\n  \
         expected from oids.rs but not defined in the MIB: {not_in_mib:?}"
    );

    let dir = mib_file.parent().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let translate = |names: &[&str]| -> (Vec<String>, String) {
        let out = run(
            Command::new("snmptranslate")
                .arg("-M")
                .arg(format!("{base}:{}", dir.display()))
                .args(["-m", MODULE, "-On"])
                .args(names.iter().map(|n| format!("{MODULE}::{n}")))
                // Keep the user's and the system's snmp.conf out of it.
                .env("SNMPCONFPATH", conf.path())
                .env_remove("MIBS")
                .env_remove("MIBDIRS"),
            "snmp",
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines = stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        (lines, String::from_utf8_lossy(&out.stderr).into_owned())
    };

    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let (lines, stderr) = translate(&all);
    // One line per name; if snmptranslate skipped any, ask one at a time
    // to say which.
    let got: Vec<String> = if lines.len() == all.len() {
        lines
    } else {
        eprintln!("snmptranslate stderr:\n{stderr}");
        all.iter()
            .map(|n| {
                let (l, err) = translate(&[n]);
                assert_eq!(
                    l.len(),
                    1,
                    "snmptranslate cannot resolve {MODULE}::{n}:\n{err}"
                );
                l[0].clone()
            })
            .collect()
    };

    let mut mismatches = Vec::new();
    for (name, oid) in all.iter().zip(&got) {
        let want_oid = format!(".{}", root.child(&want[name]));
        eprintln!("{MODULE}::{name:<32} {oid}");
        if *oid != want_oid {
            mismatches.push(format!("{name}: MIB {oid}, oids.rs {want_oid}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "MIB and src/mib/oids.rs disagree:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn mib_text_is_the_file() {
    let on_disk = std::fs::read_to_string(mib_dir().join("IPSEC-VTI-MIB.txt")).unwrap();
    assert_eq!(on_disk, MIB_TEXT);
}

#[test]
fn mib_lints_clean() {
    let Some(base) = base_mib_path() else { return };
    lint(&mib_dir().join("IPSEC-VTI-MIB.txt"), &base);
}

#[test]
fn mib_oids_match_the_rust_constants() {
    let Some(base) = base_mib_path() else { return };
    check_oids(
        &mib_dir().join("IPSEC-VTI-MIB.txt"),
        &base,
        &Oid::from_slice(DEFAULT_ROOT),
    );
}

#[test]
fn rerooted_mib_lints_clean_and_resolves() {
    let Some(base) = base_mib_path() else { return };
    for root in [
        "1.3.6.1.4.1.99999.1",
        "1.2.840.10000.7",
        "1.3.6.1.4.1.8072.9999.9999.42",
    ] {
        let root: Oid = root.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("IPSEC-VTI-MIB.txt");
        std::fs::write(&file, rerooted(&root).unwrap()).unwrap();
        lint(&file, &base);
        check_oids(&file, &base, &root);
    }
}

/// `name OBJECT-TYPE SYNTAX x … MAX-ACCESS y` of the MIB text: name → (the
/// first word of x, y).
fn object_types(text: &str) -> BTreeMap<String, (String, String)> {
    let mut found = BTreeMap::new();
    let mut current: Option<(String, Option<String>)> = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with(|c: char| c.is_ascii_lowercase())
            && words.get(1) == Some(&"OBJECT-TYPE")
        {
            current = Some((words[0].to_string(), None));
            continue;
        }
        let Some((name, syntax)) = &mut current else {
            continue;
        };
        match words.as_slice() {
            ["SYNTAX", first, ..] if syntax.is_none() => *syntax = Some(first.to_string()),
            ["MAX-ACCESS", access] => {
                let syntax = syntax.take().unwrap_or_default();
                found.insert(std::mem::take(name), (syntax, access.to_string()));
                current = None;
            }
            _ => {}
        }
    }
    found
}

/// Each described object's SYNTAX and MAX-ACCESS are the MIB's.
#[test]
fn mib_syntax_and_access_match_the_descriptions() {
    let types = object_types(MIB_TEXT);
    let mut all = described(columns::global::COLUMNS);
    all.extend(described(columns::event_global::COLUMNS));
    for (_, _, _, columns) in tables() {
        all.extend(columns);
    }
    let mut mismatches = Vec::new();
    for c in &all {
        let access = match c.access {
            Access::Index => "not-accessible",
            Access::ReadOnly => "read-only",
            Access::Notify => "accessible-for-notify",
        };
        let want = (c.syntax.mib_name().to_string(), access.to_string());
        match types.get(c.name) {
            Some(got) if *got == want => {}
            got => mismatches.push(format!("{}: MIB {got:?}, described {want:?}", c.name)),
        }
    }
    assert!(
        mismatches.is_empty(),
        "mibs/IPSEC-VTI-MIB.txt and src/mib/columns.rs disagree:\n{}",
        mismatches.join("\n")
    );
    // The parse found the objects at all (a test that cannot fail is none).
    assert!(types.len() > all.len(), "{} OBJECT-TYPEs", types.len());
}

/// `name NOTIFICATION-TYPE OBJECTS { a, b, … } … ::= { parent n }` of the
/// MIB text: name → (the OBJECTS in order, parent, n).
fn notification_types(text: &str) -> BTreeMap<String, (Vec<String>, String, u32)> {
    let mut found = BTreeMap::new();
    // The notification being read and its text so far.
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with(|c: char| c.is_ascii_lowercase())
            && words.get(1) == Some(&"NOTIFICATION-TYPE")
        {
            current = Some((words[0].to_string(), String::new()));
            continue;
        }
        let Some((name, body)) = &mut current else {
            continue;
        };
        let Some(assignment) = line.trim_start().strip_prefix("::=") else {
            body.push_str(line);
            body.push('\n');
            continue;
        };
        let objects = body
            .split_once("OBJECTS")
            .and_then(|(_, rest)| rest.split_once('{'))
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(list, _)| list.split(',').map(|o| o.trim().to_string()).collect())
            .unwrap_or_default();
        let value: Vec<&str> = assignment
            .split(|c: char| c.is_whitespace() || c == '{' || c == '}')
            .filter(|w| !w.is_empty())
            .collect();
        let (parent, n) = match value.as_slice() {
            [parent, n] => (parent.to_string(), n.parse().unwrap_or(0)),
            _ => (assignment.trim().to_string(), 0),
        };
        found.insert(std::mem::take(name), (objects, parent, n));
        current = None;
    }
    found
}

/// Sub-id of a table (or vtiGlobal) under vtiObjects → the instance its
/// objects carry in a notification.
type Instances = BTreeMap<u32, Vec<u32>>;

/// One event of each kind of notification, named by its NOTIFICATION-TYPE,
/// and the instances their objects must carry: vtiIfTable by ifindex,
/// vtiAlarmTable by ifindex and category, vtiIkeTable by its own index,
/// scalars by 0.
fn one_event_of_each_kind() -> (Vec<(&'static str, Event)>, Instances) {
    const IFINDEX: u32 = 12;
    const IKE_INDEX: u32 = 4;
    let category = ErrorCategory::TooBig;
    let threshold = |threshold| Detail::Threshold {
        category,
        delta: 9,
        threshold,
        interval_secs: 60,
    };
    let ike = |reason| Detail::Ike {
        index: IKE_INDEX,
        conn: "gw".into(),
        child: "net".into(),
        ike_state: IkeSaState::Connecting,
        child_state: ChildSaState::None,
        reason,
        message: "received AUTHENTICATION_FAILED notify".into(),
    };
    let link = |up: bool| Detail::Link {
        admin_up: true,
        oper: if up {
            OperStatus::Up
        } else {
            OperStatus::LowerLayerDown
        },
    };
    let event = |kind, detail| Event {
        kind,
        ifindex: IFINDEX,
        name: "vti12".into(),
        cause: Cause::NoOutboundSa,
        peer: Peer {
            addr: Some("192.0.2.7".parse().unwrap()),
            source: PeerSource::TunnelConfig,
        },
        text: "no outbound SA".into(),
        detail,
        notified: Notified::Sent,
    };
    let instances = Instances::from([
        (GLOBAL, vec![0]),
        (IF_TABLE, vec![IFINDEX]),
        (ALARM_TABLE, vec![IFINDEX, category as u32]),
        (IKE_TABLE, vec![IKE_INDEX]),
    ]);
    let events = [
        ("vtiTxErrorRising", EventKind::TxErrorRising, threshold(5)),
        ("vtiTxErrorFalling", EventKind::TxErrorFalling, threshold(1)),
        ("vtiSaDown", EventKind::SaDown, Detail::OutboundSas(0)),
        ("vtiSaUp", EventKind::SaUp, Detail::OutboundSas(1)),
        (
            "vtiSaExpiring",
            EventKind::SaExpiring,
            Detail::SecondsToHardExpiry(30),
        ),
        (
            "vtiIkeDown",
            EventKind::IkeDown,
            ike(Some(TermReason::AuthFailed)),
        ),
        ("vtiIkeUp", EventKind::IkeUp, ike(None)),
        ("vtiTunnelDown", EventKind::TunnelDown, link(false)),
        ("vtiTunnelUp", EventKind::TunnelUp, link(true)),
    ]
    .map(|(name, kind, detail)| (name, event(kind, detail)));
    (events.into_iter().collect(), instances)
}

/// Every notification the agent sends (`alarm::notify`) carries exactly
/// the OBJECTS of its NOTIFICATION-TYPE, in order, each at the instance of
/// the event's row, under the trap OID `::= { vtiNotifications n }`. A
/// varbind's object is named through [`expected`] (the column
/// descriptions and `oids.rs`).
#[test]
fn notifications_carry_the_objects_of_their_notification_type() {
    let root = Oid::from_slice(DEFAULT_ROOT);
    let mib = notification_types(MIB_TEXT);
    let names: BTreeMap<Vec<u32>, &str> = expected()
        .into_iter()
        .map(|(name, tail)| (tail, name))
        .collect();
    let (events, instances) = one_event_of_each_kind();

    let sent: BTreeSet<&str> = events.iter().map(|(name, _)| *name).collect();
    let defined: BTreeSet<&str> = mib.keys().map(String::as_str).collect();
    assert_eq!(sent, defined, "notifications sent vs. defined in the MIB");

    let mut mismatches = Vec::new();
    for (index, (name, event)) in events.iter().enumerate() {
        let (objects, parent, n) = &mib[*name];
        let sent = notify::notification(&root, event, 100 + index as u32);
        eprintln!("{name} ::= {{ {parent} {n} }}: {}", objects.join(", "));

        assert_eq!(parent, "vtiNotifications", "{name}");
        if sent.trap_oid != root.child(&[NOTIFICATIONS, *n]) {
            mismatches.push(format!(
                "{name}: trap OID {} is not {{ vtiNotifications {n} }}",
                sent.trap_oid
            ));
        }

        let mut carried = Vec::new();
        for (oid, _) in &sent.varbinds {
            let tail = oid
                .as_slice()
                .strip_prefix(root.as_slice())
                .unwrap_or_else(|| panic!("{name}: {oid} is not under {root}"));
            // The longest described OID that is a proper prefix: the object;
            // the rest is its instance.
            let Some((object, instance)) = (1..tail.len())
                .rev()
                .find_map(|k| names.get(&tail[..k]).map(|o| (*o, &tail[k..])))
            else {
                mismatches.push(format!("{name}: {oid} names no described object"));
                continue;
            };
            let want = tail.get(1).and_then(|table| instances.get(table));
            if want.map(Vec::as_slice) != Some(instance) {
                mismatches.push(format!(
                    "{name}: {object} at instance {instance:?}, expected {want:?}"
                ));
            }
            carried.push(object);
        }
        if carried != *objects {
            mismatches.push(format!(
                "{name}:\n    MIB OBJECTS: {}\n    agent sends: {}",
                objects.join(", "),
                carried.join(", ")
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "notifications and mibs/IPSEC-VTI-MIB.txt disagree:\n{}",
        mismatches.join("\n")
    );
}
