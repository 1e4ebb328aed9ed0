//! The Prometheus consumer (packaging/nms/snmp_exporter/snmp.yml, issue 13)
//! proven on the real software: Debian's `prometheus-snmp-exporter` scrapes a
//! private `snmpd` with the agent (fixture tunnels, one of them failing for
//! lack of an outbound SA) behind it, using the committed `snmp.yml`. Every
//! metric of the module must equal an `snmpwalk` of the same object, per
//! tunnel, with the Prometheus type the SNMP type calls for (Counter64 →
//! counter, everything else → gauge), the enums as state sets, and the tunnel
//! name as a label; the free-text diagnosis must not appear. The peer address
//! is a series of its own (not a label on the others), and of the event
//! history only vtiEventLastIndex is exported, never a row or its text; the
//! IKE enums are state sets, charon's texts not exported.
//!
//! A second test regenerates `snmp.yml` from the MIB with the packaged
//! generator and diffs it against the committed one; it needs the IETF MIBs
//! (../shared/mibs/ietf beside the clone, or IETF_MIBS) and skips loudly
//! without them.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::agent::InProcessAgent;
use common::fixture::{out_policies, three_tunnels, FixtureSource};
use common::*;

const MODULE: &str = "ipsec_vti";
const VTI1: u32 = 11;
const VTI6: u32 = 12;
const NO_OUTBOUND_SA: &str = "5";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snmp_yml() -> PathBuf {
    repo().join("packaging/nms/snmp_exporter/snmp.yml")
}

/// One metric of the generated module, as much of it as the test needs.
#[derive(Debug, Default)]
struct Metric {
    name: String,
    oid: String,
    kind: String,
    /// The metric's own enum (state set / info), not an index's.
    enum_values: HashMap<String, String>,
}

/// Reads the metric list of `snmp.yml` (the generator's fixed layout:
/// `  - name:` items with 4-space keys; an index's keys are indented more).
fn read_module(path: &Path) -> Vec<Metric> {
    let text = std::fs::read_to_string(path).expect("snmp.yml");
    assert!(
        text.lines().any(|l| l == format!("{MODULE}:")),
        "no module {MODULE} in {}",
        path.display()
    );
    let mut metrics: Vec<Metric> = Vec::new();
    let mut in_enum = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("  - name: ") {
            metrics.push(Metric {
                name: name.to_string(),
                ..Metric::default()
            });
            in_enum = false;
            continue;
        }
        let Some(m) = metrics.last_mut() else {
            continue;
        };
        if let Some(oid) = line.strip_prefix("    oid: ") {
            m.oid = oid.to_string();
        } else if let Some(kind) = line.strip_prefix("    type: ") {
            m.kind = kind.to_string();
        } else if line == "    enum_values:" {
            in_enum = true;
        } else if in_enum && line.starts_with("      ") && !line.starts_with("       ") {
            let (k, v) = line.trim().split_once(": ").expect("enum line");
            m.enum_values
                .insert(k.to_string(), v.trim_matches('"').to_string());
        } else if line.starts_with("    ") && !line.starts_with("     ") {
            in_enum = false;
        }
    }
    metrics
}

/// A value of the walk: the SNMP type and its text (`-Ox -Ot`: strings in
/// hex, timeticks as a number).
#[derive(Clone, Debug, PartialEq)]
struct Walked {
    kind: String,
    value: String,
}

impl Walked {
    fn bytes(&self) -> Vec<u8> {
        if self.value == "\"\"" {
            return Vec::new();
        }
        self.value
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8(self.bytes()).expect("UTF-8 string")
    }

    fn number(&self) -> f64 {
        self.value.parse().expect("numeric value")
    }
}

/// The walk of our root keyed by OID (no leading dot).
fn walk(snmpd: &Snmpd) -> BTreeMap<String, Walked> {
    let out = Command::new("snmpbulkwalk")
        .args(["-v2c", "-c", "public", "-On", "-Ox", "-Ot", "-Cr25"])
        .arg(format!("127.0.0.1:{}", snmpd.port))
        .arg(ROOT)
        .env("MIBS", "")
        .env("MIBDIRS", "/nonexistent")
        .output()
        .expect("snmpbulkwalk");
    assert!(out.status.success(), "walk failed: {}", stdout(&out));
    parse(&out)
        .into_iter()
        .map(|b| {
            let value = b.value.replace('\n', " ").trim().to_string();
            (
                b.oid,
                Walked {
                    kind: b.kind,
                    value,
                },
            )
        })
        .collect()
}

/// One sample of the scrape.
#[derive(Clone, Debug)]
struct Sample {
    labels: BTreeMap<String, String>,
    value: f64,
}

struct Scrape {
    types: HashMap<String, String>,
    samples: HashMap<String, Vec<Sample>>,
    text: String,
}

fn parse_scrape(text: &str) -> Scrape {
    let mut types = HashMap::new();
    let mut samples: HashMap<String, Vec<Sample>> = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once("=\"").expect("label");
                (k.to_string(), v.trim_end_matches('"').to_string())
            })
            .collect();
        samples.entry(name.to_string()).or_default().push(Sample {
            labels,
            value: value.parse().expect("sample value"),
        });
    }
    Scrape {
        types,
        samples,
        text: text.to_string(),
    }
}

struct Exporter {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Exporter {
    fn start(config: &Path) -> Exporter {
        let binary = "prometheus-snmp-exporter";
        let found = Command::new(binary).arg("--version").output().is_ok();
        assert!(
            found,
            "`{binary}` not found: install Debian package prometheus-snmp-exporter"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_tcp_port();
        let log = std::fs::File::create(dir.path().join("exporter.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start prometheus-snmp-exporter");
        let exporter = Exporter { child, port, dir };
        let up = wait_until(Duration::from_secs(10), || {
            exporter.get("/metrics").is_some()
        });
        assert!(up, "exporter did not answer: {}", exporter.log());
        exporter
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("exporter.log")).unwrap_or_default()
    }

    /// HTTP GET on the exporter; the body if the status is 200.
    fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        s.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.0 200")
            .then(|| body.to_string())
            .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
    }

    fn scrape(&self, snmpd: &Snmpd) -> Scrape {
        let path = format!("/snmp?target=127.0.0.1:{}&module={MODULE}", snmpd.port);
        let body = self
            .get(&path)
            .unwrap_or_else(|| panic!("scrape failed; exporter log:\n{}", self.log()));
        parse_scrape(&body)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The exporter series of `metric` for the walked instance `suffix` (the
/// OID after the column): index labels as the MIB's INDEX clauses give them.
fn instance_labels(
    metric: &Metric,
    suffix: &str,
    walked: &BTreeMap<String, Walked>,
) -> BTreeMap<String, String> {
    let table = |t: &str| metric.oid.starts_with(&format!("{ROOT}.1.{t}.1."));
    let parts: Vec<&str> = suffix.split('.').collect();
    let mut labels = BTreeMap::new();
    if table("3") || table("5") {
        let name = &walked[&format!("{ROOT}.1.3.1.2.{}", parts[0])];
        labels.insert("vtiIfIndex".to_string(), parts[0].to_string());
        labels.insert("vtiIfName".to_string(), name.text());
        if table("5") {
            labels.insert("vtiAlarmCategory".to_string(), parts[1].to_string());
        }
    } else if table("2") {
        let name = &walked[&format!("{ROOT}.1.2.1.2.{}", parts[0])];
        labels.insert("vtiXfrmStatName".to_string(), name.text());
    } else {
        assert_eq!(suffix, "0", "{}: not a scalar instance", metric.name);
    }
    labels
}

fn inet_address(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        0 => None,
        4 => Some(<[u8; 4]>::try_from(bytes).unwrap().into()),
        16 => Some(<[u8; 16]>::try_from(bytes).unwrap().into()),
        n => panic!("InetAddress of {n} bytes"),
    }
}

/// Compares every metric of the module with the walk; returns how many
/// series were compared.
fn compare(metrics: &[Metric], walked: &BTreeMap<String, Walked>, scrape: &Scrape) -> usize {
    let mut compared = 0;
    let mut matched: HashMap<&str, usize> = HashMap::new();
    for metric in metrics {
        let prefix = format!("{}.", metric.oid);
        // An info metric is exported as NAME_info.
        let exported = match metric.kind.as_str() {
            "EnumAsInfo" => format!("{}_info", metric.name),
            _ => metric.name.clone(),
        };
        let samples = scrape
            .samples
            .get(&exported)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (oid, w) in walked.range(prefix.clone()..) {
            let Some(suffix) = oid.strip_prefix(&prefix) else {
                break;
            };
            let want = instance_labels(metric, suffix, walked);
            let ctx = format!("{} instance {suffix} (walk {w:?})", metric.name);
            let mine: Vec<&Sample> = samples
                .iter()
                .filter(|s| want.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
                .collect();
            assert!(!mine.is_empty(), "{ctx}: not in the scrape");
            *matched.entry(&metric.name).or_default() += mine.len();
            let prom_type = scrape.types.get(&metric.name).map(String::as_str);
            match metric.kind.as_str() {
                "counter" | "gauge" => {
                    let want_type = if w.kind.starts_with("Counter") {
                        "counter"
                    } else {
                        "gauge"
                    };
                    assert_eq!(prom_type, Some(want_type), "{ctx}: type");
                    assert_eq!(mine.len(), 1, "{ctx}: {mine:?}");
                    assert_eq!(mine[0].labels.len(), want.len(), "{ctx}: {mine:?}");
                    assert_eq!(mine[0].value, w.number(), "{ctx}");
                }
                "EnumAsStateSet" => {
                    assert_eq!(w.kind, "INTEGER", "{ctx}");
                    assert_eq!(prom_type, Some("gauge"), "{ctx}: type");
                    assert_eq!(mine.len(), metric.enum_values.len(), "{ctx}: one per state");
                    let state = &metric.enum_values[&w.value];
                    for s in &mine {
                        let on = s.labels[&metric.name] == *state;
                        assert_eq!(s.value, f64::from(u8::from(on)), "{ctx}: {s:?}");
                    }
                }
                "EnumAsInfo" => {
                    assert_eq!(mine.len(), 1, "{ctx}: {mine:?}");
                    assert_eq!(mine[0].labels[&metric.name], metric.enum_values[&w.value]);
                    assert_eq!(mine[0].value, 1.0, "{ctx}");
                }
                "DisplayString" => {
                    assert_eq!(mine.len(), 1, "{ctx}: {mine:?}");
                    assert_eq!(mine[0].labels[&metric.name], w.text(), "{ctx}");
                }
                "InetAddress" => {
                    assert_eq!(mine.len(), 1, "{ctx}: {mine:?}");
                    // The exporter writes IPv6 in full upper-case groups.
                    let got = mine[0]
                        .labels
                        .get(&metric.name)
                        .cloned()
                        .unwrap_or_default();
                    assert_eq!(got.parse().ok(), inet_address(&w.bytes()), "{ctx}");
                }
                other => panic!("{ctx}: type {other} not covered by this test"),
            }
            compared += 1;
        }
        assert_eq!(
            matched.get(metric.name.as_str()).copied().unwrap_or(0),
            samples.len(),
            "{}: series in the scrape that the walk does not have: {samples:?}",
            metric.name
        );
    }
    compared
}

/// The walk, the scrape and the walk again, until both walks agree (the
/// agent polls every second; a poll between them moves vtiLastPollTime and
/// the alarm deltas).
fn walk_scrape_walk(snmpd: &Snmpd, exporter: &Exporter) -> (BTreeMap<String, Walked>, Scrape) {
    let last_poll = format!("{ROOT}.1.1.2.0");
    for _ in 0..10 {
        let before = walk(snmpd);
        let scrape = exporter.scrape(snmpd);
        let mut after = walk(snmpd);
        let mut steady = before.clone();
        steady.remove(&last_poll);
        let polled = after.remove(&last_poll) != before.get(&last_poll).cloned();
        if steady == after && !polled {
            return (before, scrape);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the walk never held still across a scrape");
}

#[test]
fn exporter_metrics_equal_the_walk_per_tunnel() {
    let metrics = read_module(&snmp_yml());
    assert!(
        metrics.len() > 40,
        "only {} metrics in snmp.yml",
        metrics.len()
    );

    let snmpd = Snmpd::start(AgentxListen::Unix);
    let mut data = three_tunnels();
    data.policies = out_policies(&data.tunnels);
    // vti1 loses its outbound SA and 4 packets fail (carrier errors) once.
    data.sas.retain(|s| s.spi != 0x1001);
    let source = FixtureSource::new(data);
    source.on_collect(|d, n| {
        if n == 3 {
            d.add_carrier_errors(VTI1, 4);
        }
    });
    let _agent = InProcessAgent::start(&snmpd.master, source.clone());
    let cause = format!("{ROOT}.1.3.1.32.{VTI1}");
    let diagnosed = wait_until(Duration::from_secs(15), || {
        parse(&snmpd.get(&[&cause]))
            .first()
            .is_some_and(|b| b.value == NO_OUTBOUND_SA)
    });
    assert!(diagnosed, "vti1's cause never became noOutboundSa");

    let exporter = Exporter::start(&snmp_yml());
    let (walked, scrape) = walk_scrape_walk(&snmpd, &exporter);
    let compared = compare(&metrics, &walked, &scrape);

    // The failing tunnel by name, its cause as the state that is set, and
    // its carrier errors as a counter; the healthy one's cause is none.
    let series = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let s = scrape.samples[name]
            .iter()
            .find(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .unwrap_or_else(|| panic!("no {name}{labels:?}"));
        s.value
    };
    let vti1 = VTI1.to_string();
    let vti6 = VTI6.to_string();
    assert_eq!(
        series(
            "vtiIfCause",
            &[
                ("vtiIfName", "vti1"),
                ("vtiIfIndex", &vti1),
                ("vtiIfCause", "noOutboundSa")
            ]
        ),
        1.0
    );
    assert_eq!(
        series(
            "vtiIfCause",
            &[("vtiIfName", "vti6x"), ("vtiIfCause", "none")]
        ),
        1.0
    );
    assert_eq!(
        series(
            "vtiIfNoOutboundSa",
            &[("vtiIfIndex", &vti1), ("vtiIfNoOutboundSa", "true")]
        ),
        1.0
    );
    assert_eq!(scrape.types["vtiIfCatCarrier"], "counter");
    assert_eq!(
        series("vtiIfCatCarrier", &[("vtiIfIndex", &vti1)]),
        walked[&format!("{ROOT}.1.3.1.26.{VTI1}")].number()
    );
    assert_eq!(scrape.types["vtiIfOutSaCount"], "gauge");
    assert_eq!(series("vtiIfOutSaCount", &[("vtiIfIndex", &vti6)]), 1.0);

    // The diagnosis is in the walk but nowhere in the scrape.
    let diagnosis = walked[&format!("{ROOT}.1.3.1.33.{VTI1}")].text();
    assert!(diagnosis.contains("no outbound SA"), "{diagnosis:?}");
    assert!(
        !scrape.text.contains("vtiIfDiagnosis") && !scrape.text.contains(&diagnosis),
        "the free-text diagnosis leaked into the scrape"
    );
    // The peer address: its own series per tunnel (the xfrm tunnel's from
    // its outbound SA), how it was derived as a state set, and on no other
    // series (it can change at every poll).
    assert_eq!(
        series(
            "vtiIfPeerAddr",
            &[("vtiIfName", "xfrm1"), ("vtiIfPeerAddr", "203.0.113.9")]
        ),
        1.0
    );
    assert_eq!(
        series(
            "vtiIfPeerAddrSource",
            &[
                ("vtiIfName", "xfrm1"),
                ("vtiIfPeerAddrSource", "outboundSa")
            ]
        ),
        1.0
    );
    assert_eq!(
        series(
            "vtiIfPeerAddrSource",
            &[
                ("vtiIfName", "vti1"),
                ("vtiIfPeerAddrSource", "tunnelConfig")
            ]
        ),
        1.0
    );
    for (name, samples) in &scrape.samples {
        if name != "vtiIfPeerAddr" {
            assert!(
                samples
                    .iter()
                    .all(|s| !s.labels.contains_key("vtiIfPeerAddr")),
                "{name} carries the peer address"
            );
        }
    }

    // The event history: only its last index (a gauge, equal to the walk
    // by compare()); no row of vtiEventTable, no event text.
    let last_event = series("vtiEventLastIndex", &[]);
    assert!(last_event >= 1.0, "no event raised: {last_event}");
    assert_eq!(scrape.types["vtiEventLastIndex"], "gauge");
    let event_text = walked[&format!("{ROOT}.1.6.1.11.{last_event}")].text();
    assert!(!event_text.is_empty());
    assert!(
        !scrape.text.contains(&event_text),
        "event text {event_text:?} in the scrape"
    );
    let event_series: Vec<&String> = scrape
        .samples
        .keys()
        .filter(|n| n.starts_with("vtiEvent"))
        .collect();
    assert_eq!(
        event_series.len(),
        2,
        "vtiEventTable walked into metrics: {event_series:?}"
    );

    // IKE: the fixture has no IKE daemon, so the agent says it cannot read
    // one and every tunnel's CHILD_SA state is none (unknown); state sets
    // both, and charon's free text is not exported.
    assert_eq!(
        series("vtiIkeAvailable", &[("vtiIkeAvailable", "false")]),
        1.0
    );
    assert_eq!(
        series(
            "vtiIfIkeChildState",
            &[("vtiIfName", "xfrm1"), ("vtiIfIkeChildState", "none")]
        ),
        1.0
    );
    assert!(
        !scrape.text.contains("vtiIfIkeLastFailText")
            && !scrape.text.contains("vtiIkeUnavailableReason"),
        "IKE free text in the scrape"
    );

    eprintln!("compared {compared} walked instances with the scrape");
    for line in scrape.text.lines().filter(|l| {
        l.contains("vtiIfName=\"vti1\"")
            && (l.starts_with("vtiIfCatCarrier")
                || l.starts_with("vtiIfOutSaCount")
                || l.starts_with("vtiIfPeerAddrSource")
                || l.starts_with("vtiIfCause{vtiIfCause=\"noOutboundSa\""))
    }) {
        eprintln!("  {line}");
    }
    for line in scrape.text.lines().filter(|l| {
        l.starts_with("vtiEventLastIndex")
            || l.starts_with("vtiIfPeerAddr{")
            || l.starts_with("vtiIkeAvailable")
            || (l.starts_with("vtiIfIkeChildState{vtiIfIkeChildState=\"none\"")
                && l.contains("xfrm1"))
    }) {
        eprintln!("  {line}");
    }
}

/// The IETF MIBs for the generator: IETF_MIBS, else ../shared/mibs/ietf
/// beside the clone (as CI has it).
fn ietf_mibs() -> Option<PathBuf> {
    let dir = std::env::var_os("IETF_MIBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/mibs/ietf"));
    dir.join("SNMPv2-SMI.txt").is_file().then_some(dir)
}

#[test]
fn committed_snmp_yml_is_what_the_generator_makes_of_the_mib() {
    let Some(ietf) = ietf_mibs() else {
        eprintln!(
            "\n*** SKIPPED: IETF MIBs not found (../shared/mibs/ietf or IETF_MIBS): \
             snmp.yml was NOT checked against the MIB. Run \
             IETF_MIBS=DIR packaging/nms/regenerate.sh --check snmp_exporter ***\n"
        );
        return;
    };
    let out = Command::new(repo().join("packaging/nms/regenerate.sh"))
        .args(["--check", "snmp_exporter"])
        .env("IETF_MIBS", ietf)
        .output()
        .expect("regenerate.sh");
    assert!(
        out.status.success(),
        "snmp.yml differs from the generator's output:\n{}",
        stdout(&out)
    );
}
