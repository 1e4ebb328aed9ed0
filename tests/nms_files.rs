//! The generated NMS files (issue 13) are what their generators make of the
//! MIB as it is now: the Zabbix template and the LibreNMS definition take
//! every OID and enum from mibs/IPSEC-VTI-MIB.txt, so a MIB change without
//! `packaging/nms/regenerate.sh` fails here. The LibreNMS definition is also
//! checked against the rules of LibreNMS's discovery schema
//! (packaging/nms/librenms/check.py; with LIBRENMS_SCHEMA=FILE also against
//! the schema itself, which needs python3-jsonschema).
//!
//! The generators are Python (standard library only); without python3 these
//! tests skip loudly. The snmp_exporter file is checked by
//! tests/nms_prometheus.rs (it needs the IETF MIBs).
//!
//! packaging/nms/summary.py (the demo's named summary) is run on a real
//! walk and real snmptrapd log of a failing fixture tunnel.
//!
//! And the first walk an NMS makes: with Debian's default access lines
//! (`rocommunity public default -V systemonly`) plus the `view` lines of
//! packaging/snmpd-vti-agentx.conf, a real snmpd shows our root and still
//! hides the rest of the tree.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::agent::InProcessAgent;
use common::fixture::{out_policies, three_tunnels, FixtureSource};
use common::trapd::Snmptrapd;
use common::*;
use vti_agentx::alarm::config::Threshold;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "\n*** SKIPPED: python3 not found: the generated Zabbix and LibreNMS files were NOT \
             checked against the MIB (apt-get install python3) ***\n"
        );
    }
    ok
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("cannot run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn zabbix_template_and_librenms_definition_are_generated_from_the_mib() {
    if !have_python() {
        return;
    }
    let text = run(Command::new(repo().join("packaging/nms/regenerate.sh"))
        .args(["--check", "zabbix", "librenms"]));
    assert!(text.contains("up to date: packaging/nms/zabbix/ipsec_vti_zabbix60.yaml"));
    assert!(text.contains("up to date: packaging/nms/librenms/ipsec-vti.yaml"));
}

#[test]
fn librenms_definition_follows_the_discovery_schema() {
    if !have_python() {
        return;
    }
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("packaging/nms/librenms/check.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    match std::env::var_os("LIBRENMS_SCHEMA") {
        Some(schema) => {
            cmd.arg("--schema").arg(schema);
        }
        None => eprintln!(
            "\n*** LibreNMS definition checked by the schema's rules only: set \
             LIBRENMS_SCHEMA=librenms/misc/discovery_schema.json to validate with the schema ***\n"
        ),
    }
    let text = run(&mut cmd);
    assert!(
        text.contains("follow the discovery schema's rules"),
        "{text}"
    );
}

/// The `view` directives of the packaged snmpd snippet.
fn snippet_views() -> Vec<String> {
    std::fs::read_to_string(repo().join("packaging/snmpd-vti-agentx.conf"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("view "))
        .map(String::from)
        .collect()
}

fn walk_as(snmpd: &Snmpd, community: &str, oid: &str) -> Vec<VarBind> {
    let out = Command::new("snmpbulkwalk")
        .args(["-v2c", "-c", community, "-On", "-t", "3", "-r", "1"])
        .arg(format!("127.0.0.1:{}", snmpd.port))
        .arg(oid)
        .env("MIBS", "")
        .env("MIBDIRS", "/nonexistent")
        .output()
        .expect("snmpbulkwalk");
    parse(&out)
        .into_iter()
        .filter(|b| b.oid.starts_with(&format!("{oid}.")))
        .collect()
}

#[test]
fn snmpd_snippet_opens_our_root_in_debians_default_view() {
    let views = snippet_views();
    assert_eq!(
        views,
        [format!("view systemonly included .{ROOT}")],
        "the snippet's view lines"
    );
    // Debian 12's /etc/snmp/snmpd.conf access lines (for community
    // "debian"), then the snippet as includeDir reads it after them; and
    // the same without the snippet (community "stock") as the control.
    let mut conf = vec![
        "view systemonly included .1.3.6.1.2.1.1".to_string(),
        "view systemonly included .1.3.6.1.2.1.25.1".to_string(),
        "rocommunity debian 127.0.0.1 -V systemonly".to_string(),
        "view stockonly included .1.3.6.1.2.1.1".to_string(),
        "view stockonly included .1.3.6.1.2.1.25.1".to_string(),
        "rocommunity stock 127.0.0.1 -V stockonly".to_string(),
    ];
    conf.extend(views);
    let snmpd = Snmpd::start_with(AgentxListen::Unix, &conf);
    let _agent = InProcessAgent::start(&snmpd.master, FixtureSource::new(three_tunnels()));
    let names = format!("{ROOT}.1.3.1.2");
    let served = wait_until(std::time::Duration::from_secs(10), || {
        walk_as(&snmpd, "debian", &names).len() == 3
    });
    assert!(
        served,
        "Debian's view with the snippet does not show our tunnels"
    );
    assert!(
        walk_as(&snmpd, "stock", ROOT).is_empty(),
        "the control without the snippet already shows our root"
    );
    assert!(
        !walk_as(&snmpd, "debian", "1.3.6.1.2.1.1").is_empty(),
        "the system group must stay visible"
    );
    assert!(
        walk_as(&snmpd, "debian", "1.3.6.1.2.1.2").is_empty()
            && walk_as(&snmpd, "debian", "1.3.6.1.6.3").is_empty(),
        "the snippet must not open the rest of the tree"
    );
}

#[test]
fn summary_names_tunnels_causes_and_notifications() {
    if !have_python() {
        return;
    }
    let trapd = Snmptrapd::start();
    let snmpd = Snmpd::start_with(AgentxListen::Unix, &[trapd.sink_line()]);
    // vti1 (ifIndex 11) has lost its outbound SA and its packets fail.
    let mut data = three_tunnels();
    data.policies = out_policies(&data.tunnels);
    data.sas.retain(|s| s.spi != 0x1001);
    let source = FixtureSource::new(data);
    source.on_collect(|d, _| d.add_carrier_errors(11, 2));
    let _agent = InProcessAgent::start_with(&snmpd.master, source, |cfg| {
        cfg.alarms.hold_down_secs = 0;
        cfg.alarms.categories.carrier = Threshold {
            enabled: true,
            interval_secs: 1,
            rising: 1,
            falling: 0,
        };
    });
    let sa_down = format!("{ROOT}.0.3");
    let rising = format!("{ROOT}.0.1");
    trapd.wait_for(&sa_down, 1, std::time::Duration::from_secs(10));
    trapd.wait_for(&rising, 1, std::time::Duration::from_secs(10));

    let dir = tempfile::tempdir().unwrap();
    let walk = dir.path().join("walk.txt");
    std::fs::write(&walk, snmpd.walk(ROOT).stdout).unwrap();
    let text = run(Command::new("python3")
        .arg(repo().join("packaging/nms/summary.py"))
        .arg("--walk")
        .arg(&walk)
        .arg("--traps")
        .arg(trapd.log_path())
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    eprintln!("{text}");
    let row = |name: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|w| w.first().map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{text}"))
    };
    // tunnel kind oper cause out-SAs expiry carrier ...
    let vti1 = row("vti1");
    assert_eq!(vti1[1..5], ["vti", "up", "noOutboundSa", "0"], "{text}");
    assert_eq!(vti1[5], "-1", "no outbound SA: no expiry");
    assert_ne!(vti1[6], "0", "carrier errors");
    assert_eq!(row("vti6x")[1..5], ["vti6", "up", "none", "1"], "{text}");
    assert_eq!(row("xfrm1")[1..5], ["xfrm", "up", "none", "1"], "{text}");
    assert!(text.contains("diagnosis: no outbound SA"), "{text}");
    let trap_line = |kind: &str| -> String {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} line:\n{text}"))
            .to_string()
    };
    assert!(trap_line("vtiSaDown").contains(" vti1 "), "{text}");
    assert!(trap_line("vtiSaDown").contains("outSaCount=0"), "{text}");
    assert!(
        trap_line("vtiTxErrorRising").contains("category=carrier"),
        "{text}"
    );
}
