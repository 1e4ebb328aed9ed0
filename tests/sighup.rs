//! SIGHUP reloads thresholds and the event history's size without touching
//! the AgentX session. Its own
//! test binary: the signal goes to this whole process.

mod common;

use std::time::Duration;

use common::agent::InProcessAgent;
use common::fixture::{three_tunnels, FixtureSource};
use common::*;

/// vtiAlarmRisingThreshold of vti1 (ifindex 11), category carrier(1).
fn rising_threshold(snmpd: &Snmpd) -> Option<String> {
    let oid = format!("{ROOT}.1.5.1.3.11.1");
    parse(&snmpd.get(&[&oid]))
        .first()
        .filter(|v| v.kind == "Gauge32")
        .map(|v| v.value.clone())
}

/// vtiEventTableSize.0.
fn event_table_size(snmpd: &Snmpd) -> Option<String> {
    let oid = format!("{ROOT}.1.1.13.0");
    parse(&snmpd.get(&[&oid]))
        .first()
        .filter(|v| v.kind == "Gauge32")
        .map(|v| v.value.clone())
}

fn config(master: &str, rising: u32, history_size: u32) -> String {
    format!(
        "master = \"{master}\"\npoll_interval_secs = 1\nping_interval_secs = 1\n\
         [alarms.categories.carrier]\nenabled = true\ninterval_secs = 5\n\
         rising = {rising}\nfalling = 0\n[events]\nhistory_size = {history_size}\n"
    )
}

#[test]
fn sighup_reloads_thresholds_and_keeps_the_session() {
    // snmpd's agentx/master debug output logs every subagent Open ("opened").
    let snmpd = Snmpd::start_with_args(AgentxListen::Unix, &["-Dagentx/master"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config(&snmpd.master, 3, 100)).unwrap();
    let agent = InProcessAgent::start_with_file(FixtureSource::new(three_tunnels()), &path);
    assert!(
        wait_until(Duration::from_secs(10), || rising_threshold(&snmpd)
            .as_deref()
            == Some("3")),
        "alarm table never showed the configured threshold 3; log:\n{}",
        agent.log()
    );

    std::fs::write(&path, config(&snmpd.master, 7, 40)).unwrap();
    unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    assert!(
        wait_until(Duration::from_secs(5), || rising_threshold(&snmpd)
            .as_deref()
            == Some("7")),
        "threshold not reloaded; log:\n{}",
        agent.log()
    );
    assert!(
        wait_until(Duration::from_secs(5), || event_table_size(&snmpd)
            .as_deref()
            == Some("40")),
        "event history size not reloaded: {:?}",
        event_table_size(&snmpd)
    );
    assert!(
        agent.log().contains("configuration reloaded"),
        "{}",
        agent.log()
    );

    // A broken file is refused and the running thresholds stay.
    std::fs::write(&path, "poll_interval_secs = \"soon\"\n").unwrap();
    unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    assert!(wait_until(Duration::from_secs(5), || agent
        .log()
        .contains("keeping the running configuration")));
    assert_eq!(rising_threshold(&snmpd).as_deref(), Some("7"));

    let opens = snmpd.log().matches("agentx/master: opened").count();
    assert_eq!(
        opens,
        1,
        "the AgentX session was re-opened; snmpd log:\n{}",
        snmpd.log()
    );
}
