//! The subagent against a real net-snmp snmpd, queried with the real
//! snmpget/snmpgetnext/snmpwalk/snmpbulkwalk/snmpbulkget (v2c, numeric OIDs).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::agent::InProcessAgent;
use common::fixture::{three_tunnels, FixtureSource};
use common::*;

/// The subtree's OIDs under ROOT.
fn obj(suffix: &str) -> String {
    format!("{ROOT}.{suffix}")
}

fn if_col(col: u32, ifindex: u32) -> String {
    obj(&format!("1.3.1.{col}.{ifindex}"))
}

fn registered(snmpd: &Snmpd) -> bool {
    // Without us, a walk of ROOT answers "No Such Object" at ROOT itself.
    let under = format!("{ROOT}.");
    parse(&snmpd.walk(ROOT))
        .iter()
        .any(|v| v.oid.starts_with(&under))
}

fn wait_registered(snmpd: &Snmpd, within: Duration) {
    assert!(
        wait_until(within, || registered(snmpd)),
        "our subtree did not appear in snmpd within {within:?}; snmpd log:\n{}",
        snmpd.log()
    );
}

struct Binary(Child);

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let child = Command::new(env!("CARGO_BIN_EXE_vti-agentx"))
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vti-agentx");
        Binary(child)
    }

    /// SIGTERM, then the exit status and stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let out = std::mem::replace(
            &mut self.0,
            Command::new("true").spawn().expect("placeholder"),
        )
        .wait_with_output()
        .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_serves_this_hosts_data_and_closes_on_sigterm() {
    let snmpd = Snmpd::start(AgentxListen::Unix);
    let agent = Binary::start(&["run", "--master", &snmpd.master, "--interval", "1"]);
    wait_registered(&snmpd, Duration::from_secs(10));

    // Global scalars: our version and this machine's kernel.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let got = parse(&snmpd.get(&[&obj("1.1.3.0"), &obj("1.1.8.0"), &obj("1.1.1.0")]));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0].value,
        format!("\"vti-agentx {}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(got[1].value, format!("\"{}\"", release.trim()));
    assert_eq!(
        (got[2].kind.as_str(), got[2].value.as_str()),
        ("Gauge32", "1")
    );

    // vtiXfrmStatTable mirrors /proc/net/xfrm_stat, names in file order.
    let names: Vec<String> = std::fs::read_to_string("/proc/net/xfrm_stat")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let walked = parse(&snmpd.walk(&obj("1.2.1.2")));
    let walked: Vec<String> = walked
        .iter()
        .map(|v| v.value.trim_matches('"').to_string())
        .collect();
    assert_eq!(walked, names);

    // sysORTable carries our row (AddAgentCaps).
    let sysor = parse(&snmpd.walk("1.3.6.1.2.1.1.9.1.2"));
    assert!(
        sysor
            .iter()
            .any(|v| v.value.trim_start_matches('.') == ROOT
                || v.value == format!("iso.{}", &ROOT[2..])),
        "no sysORID {ROOT} in {sysor:?}"
    );

    let (status, stderr) = agent.stop();
    assert!(status.success(), "exit {status:?}; stderr:\n{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    // Gone from the master after Close: the subtree no longer answers.
    assert!(
        wait_until(Duration::from_secs(5), || !registered(&snmpd)),
        "still registered after SIGTERM"
    );
}

#[test]
fn tunnel_and_sa_tables_through_snmpd() {
    let snmpd = Snmpd::start(AgentxListen::Unix);
    let _agent = InProcessAgent::start(&snmpd.master, FixtureSource::new(three_tunnels()));
    wait_registered(&snmpd, Duration::from_secs(10));
    assert!(wait_until(Duration::from_secs(5), || {
        parse(&snmpd.get(&[&if_col(2, 11)]))
            .first()
            .is_some_and(|v| v.kind == "STRING")
    }));

    let got = parse(&snmpd.get(&[
        &if_col(2, 11),  // name
        &if_col(3, 12),  // kind vti6(2)
        &if_col(5, 11),  // local 192.0.2.1
        &if_col(7, 12),  // remote 2001:db8::7
        &if_col(14, 13), // tx packets
        &if_col(18, 11), // tx_carrier_errors
        &if_col(26, 11), // classified carrier
        &if_col(28, 11), // too big = 7 - 3 - 1 - 2
        &if_col(10, 13), // if_id
        &if_col(36, 11), // out SA count
    ]));
    let pairs: Vec<(&str, &str)> = got
        .iter()
        .map(|v| (v.kind.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("STRING", "\"vti1\""),
            ("INTEGER", "2"),
            ("Hex-STRING", "C0 00 02 01 "),
            (
                "Hex-STRING",
                "20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 07 "
            ),
            ("Counter64", "1013"),
            ("Counter64", "3"),
            ("Counter64", "3"),
            ("Counter64", "1"),
            ("Gauge32", "113"),
            ("Gauge32", "1"),
        ]
    );

    // The whole subtree: strictly increasing OIDs, all inside our root, the
    // same through GetNext and GetBulk. Time-derived values (snapshot time,
    // seconds to SA expiry) can tick between the two walks, so a pair that
    // disagrees is taken again, a few times at most.
    let mut walks = (0..3).map(|_| (parse(&snmpd.walk(ROOT)), parse(&snmpd.bulkwalk(ROOT, 25))));
    let (walk, bulk) = walks
        .find(|(walk, bulk)| walk == bulk)
        .unwrap_or_else(|| (parse(&snmpd.walk(ROOT)), parse(&snmpd.bulkwalk(ROOT, 25))));
    assert!(walk.len() > 100, "only {} varbinds", walk.len());
    for pair in walk.windows(2) {
        assert!(
            oid_key(&pair[0].oid) < oid_key(&pair[1].oid),
            "out of order: {} then {}",
            pair[0].oid,
            pair[1].oid
        );
    }
    assert!(walk.iter().all(|v| v.oid.starts_with(ROOT)));
    assert_eq!(walk, bulk, "snmpwalk and snmpbulkwalk disagree");

    // Every SA row appears, indexed (ifIndex, row).
    let spis = parse(&snmpd.walk(&obj("1.4.1.3")));
    let rows: Vec<&str> = spis.iter().map(|v| &v.oid[ROOT.len() + 9..]).collect();
    assert_eq!(rows.len(), 6, "{spis:?}");

    // Past our last object the master moves on: our subagent answered
    // endOfMibView for its range.
    let last = &walk.last().unwrap().oid;
    let next = parse(&snmpd.getnext(&[last]));
    assert!(
        next.is_empty() || !next[0].oid.starts_with(ROOT),
        "getnext past the end stayed in our subtree: {next:?}"
    );

    // Instances that do not exist.
    let missing = stdout(&snmpd.get(&[&if_col(2, 99), &obj("1.3.1.99.11")]));
    assert!(missing.contains("No Such Instance"), "{missing}");
    assert!(missing.contains("No Such Object"), "{missing}");
}

#[test]
fn getbulk_non_repeaters_and_repetitions() {
    let snmpd = Snmpd::start(AgentxListen::Unix);
    let _agent = InProcessAgent::start(&snmpd.master, FixtureSource::new(three_tunnels()));
    wait_registered(&snmpd, Duration::from_secs(10));
    // 1 non-repeater (next after vtiPollInterval.0 → vtiLastPollTime.0),
    // then 3 repetitions of the next names in the tunnel table.
    let got = parse(&snmpd.bulkget(1, 3, &[&obj("1.1.1.0"), &obj("1.3.1.2")]));
    let oids: Vec<String> = got.iter().map(|v| v.oid.clone()).collect();
    assert_eq!(
        oids,
        vec![obj("1.1.2.0"), if_col(2, 11), if_col(2, 12), if_col(2, 13),]
    );
    assert_eq!(got[0].kind, "Timeticks");
}

#[test]
fn survives_snmpd_restarts() {
    let mut snmpd = Snmpd::start(AgentxListen::Unix);
    let _agent = InProcessAgent::start(&snmpd.master, FixtureSource::new(three_tunnels()));
    wait_registered(&snmpd, Duration::from_secs(10));
    for round in 0..2 {
        snmpd.restart();
        assert!(
            wait_until(Duration::from_secs(5), || registered(&snmpd)),
            "round {round}: not registered again within 5 s of the restart; snmpd log:\n{}",
            snmpd.log()
        );
    }
}

#[test]
fn tcp_transport() {
    let snmpd = Snmpd::start(AgentxListen::Tcp(free_tcp_port()));
    assert!(snmpd.master.starts_with("tcp:127.0.0.1:"));
    let _agent = InProcessAgent::start(&snmpd.master, FixtureSource::new(three_tunnels()));
    wait_registered(&snmpd, Duration::from_secs(10));
    let got = parse(&snmpd.get(&[&if_col(2, 13)]));
    assert_eq!(got[0].value, "\"xfrm1\"");
}

#[test]
fn unreachable_master_is_retried_quietly_then_joined() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("master");
    let master = format!("unix:{}", socket.display());
    let agent = Binary::start(&["run", "--master", &master, "--interval", "1"]);
    std::thread::sleep(Duration::from_secs(3));
    // Now a master appears at that socket.
    let snmpd = Snmpd::start_at(AgentxListen::Unix, dir);
    wait_registered(&snmpd, Duration::from_secs(8));
    let (status, stderr) = agent.stop();
    assert!(status.success());
    // ~10 attempts in 3 s; warnings only for state changes (unreachable,
    // maybe a changed error once the socket exists, registered).
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("AgentX"))
        .count();
    let attempts = stderr
        .lines()
        .filter(|l| l.contains("attempt to reach"))
        .count();
    assert!(
        attempts >= 3,
        "expected several retries at debug level:\n{stderr}"
    );
    assert!(
        (1..=2).contains(&warnings),
        "logged every attempt instead of once per state change:\n{stderr}"
    );
}
