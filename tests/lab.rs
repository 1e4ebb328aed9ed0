//! Real-kernel lab: boots the Debian 6.1 and 6.12 cloud kernels under QEMU side by side
//! (one QEMU process per kernel, each driven from its own thread), runs the smoke
//! scenario `tests/lab/scenarios/tunnels.sh` in each guest and asserts on what the
//! kernel reports. See `tests/lab/README.md`.
//!
//! Needs on the host: qemu-system-x86, busybox-static, kmod, cpio, xz-utils, iproute2,
//! iputils-ping, util-linux, snmpd, snmp, and apt with Debian package lists (the kernels
//! are downloaded on first use into `.lab-cache/`): `tests/lab/install-deps.sh` installs
//! them. Missing pieces make the test FAIL, with the install command, never skip.
//!
//! Env: `VTI_LAB_ACCEL` = auto (default: KVM when usable) | kvm | tcg;
//! `VTI_LAB_TIMEOUT` = seconds per boot (default 300); `VTI_LAB_KERNELS` = space- or
//! comma-separated series (default "6.1 6.12"); `VTI_LAB_CACHE` = cache directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Instant;

/// The six tunnels of the standard topology (guest/lib.sh `std_topology`) as seen from
/// the left namespace: name, kind, local, remote, key (vti/vti6) or if_id (xfrm).
const TUNNELS: [(&str, &str, &str, &str, u32); 6] = [
    ("vti1", "vti", "192.0.2.1", "192.0.2.2", 11),
    ("vti2", "vti", "192.0.2.3", "192.0.2.4", 12),
    ("vti61", "vti6", "2001:db8::1", "2001:db8::2", 21),
    ("vti62", "vti6", "2001:db8::3", "2001:db8::4", 22),
    ("xfrm1", "xfrm", "192.0.2.5", "192.0.2.6", 31),
    ("xfrm2", "xfrm", "2001:db8::5", "2001:db8::6", 32),
];
const PINGS: u64 = 3;
const INSTALL: &str = "tests/lab/install-deps.sh (apt-get install -y qemu-system-x86 \
                       busybox-static kmod cpio xz-utils iproute2 iputils-ping util-linux \
                       snmpd snmp)";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One result section: its body and the exit code of the command that produced it.
#[derive(Debug)]
struct Section {
    body: String,
    rc: i32,
}

/// Splits results.txt into its `=== BEGIN name ===` … `=== END name rc=N ===` sections.
/// The guest writes a newline before every END line, so a body is its lines joined by
/// newlines: exactly the command's output.
fn parse_sections(text: &str) -> BTreeMap<String, Section> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("=== BEGIN ")
            .and_then(|l| l.strip_suffix(" ==="))
        {
            current = Some((name.to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("=== END ") {
            if let Some((name, lines)) = current.take() {
                let rc = rest
                    .strip_prefix(&format!("{name} rc="))
                    .and_then(|r| r.strip_suffix(" ==="))
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(-1);
                out.insert(
                    name,
                    Section {
                        body: lines.join("\n"),
                        rc,
                    },
                );
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    out
}

struct Run {
    series: String,
    exit: Option<i32>,
    stderr: String,
    wall_s: f64,
    meta: BTreeMap<String, String>,
    results: String,
}

fn run_kernel(series: &str, out: &Path, timeout: &str) -> Run {
    let start = Instant::now();
    let agent = env!("CARGO_BIN_EXE_vti-agentx");
    let output = Command::new(repo().join("tests/lab/run.sh"))
        .args(["--kernel", series, "--agent", agent, "--timeout", timeout])
        .arg("--scenario")
        .arg(repo().join("tests/lab/scenarios/tunnels.sh"))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/lab/run.sh: {e}"));
    let meta = std::fs::read_to_string(out.join("meta"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Run {
        series: series.to_string(),
        exit: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        wall_s: start.elapsed().as_secs_f64(),
        meta,
        results: std::fs::read_to_string(out.join("results.txt")).unwrap_or_default(),
    }
}

/// One SA from `ip -s xfrm state` text output.
#[derive(Debug)]
struct Sa {
    spi: u32,
    packets: u64,
}

fn parse_sa_text(text: &str) -> Vec<Sa> {
    let mut sas = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("proto esp spi 0x") {
            let spi = u32::from_str_radix(&rest[..8.min(rest.len())], 16).unwrap_or(0);
            sas.push(Sa { spi, packets: 0 });
        } else if line == "lifetime current:" {
            // next line: "252(bytes), 3(packets)"
            if let (Some(next), Some(sa)) = (lines.next(), sas.last_mut()) {
                sa.packets = next
                    .split(',')
                    .find_map(|p| p.trim().strip_suffix("(packets)"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
        }
    }
    sas
}

/// Everything wrong with one kernel's run (empty = pass).
fn check(run: &Run) -> Vec<String> {
    let mut errs = Vec::new();
    let secs = parse_sections(&run.results);
    let get = |name: &str| secs.get(name);
    let need = |errs: &mut Vec<String>, name: &str| -> Option<&Section> {
        let s = get(name);
        if s.is_none() {
            errs.push(format!("section {name} missing from results.txt"));
        }
        s
    };

    if run.exit != Some(0) {
        errs.push(format!(
            "tests/lab/run.sh exited {:?}; its stderr (console tail):\n{}",
            run.exit, run.stderr
        ));
    }
    if !run.results.contains("=== DONE rc=0 ") {
        errs.push("results.txt has no `=== DONE rc=0` line: scenario failed or guest died".into());
    }
    if let Some(s) = need(&mut errs, "boot") {
        if !s.body.contains("modprobe rc=0") {
            errs.push(format!("module loading failed:\n{}", s.body));
        }
    }
    if let Some(s) = need(&mut errs, "agent.version") {
        if !s.body.contains("vti-agentx") {
            errs.push(format!(
                "agent binary did not run in the guest:\n{}",
                s.body
            ));
        }
    }
    if let Some(s) = need(&mut errs, "tools") {
        // net-snmp runs; setpriv drops to nobody (the agent will run unprivileged).
        if s.rc != 0 || !s.body.contains("NET-SNMP version") || !s.body.contains("65534") {
            errs.push(format!("guest tools broken (rc {}):\n{}", s.rc, s.body));
        }
    }
    if let Some(s) = need(&mut errs, "nobody.xfrm") {
        if s.rc != 0 || !s.body.contains("SAD count 12") {
            errs.push(format!(
                "nobody with CAP_NET_ADMIN cannot dump SAs:\n{}",
                s.body
            ));
        }
    }
    if let Some(s) = need(&mut errs, "snmpd.start") {
        if s.rc != 0 || !s.body.contains("agentx socket /var/agentx/master") {
            errs.push(format!("snmpd did not start as AgentX master:\n{}", s.body));
        }
    }
    if let Some(s) = need(&mut errs, "snmp.ifName") {
        for (name, ..) in TUNNELS {
            if !s.body.contains(&format!("STRING: \"{name}\"")) {
                errs.push(format!("snmpd IF-MIB ifName lacks {name}:\n{}", s.body));
            }
        }
    }
    for (name, ..) in TUNNELS {
        if let Some(s) = need(&mut errs, &format!("ping.{name}")) {
            if s.rc != 0 || !s.body.contains(&format!("{PINGS} received")) {
                errs.push(format!(
                    "ping through {name} failed (rc {}):\n{}",
                    s.rc, s.body
                ));
            }
        }
    }

    // Links: six tunnels of the right kinds and parameters, traffic counted, no error.
    if let Some(s) = need(&mut errs, "left.links") {
        match serde_json::from_str::<serde_json::Value>(&s.body) {
            Err(e) => errs.push(format!("left.links is not JSON ({e}):\n{}", s.body)),
            Ok(links) => {
                let links = links.as_array().cloned().unwrap_or_default();
                for (name, kind, local, remote, id) in TUNNELS {
                    let Some(l) = links.iter().find(|l| l["ifname"] == name) else {
                        errs.push(format!("tunnel {name} not found in `ip -j link` output"));
                        continue;
                    };
                    let info = &l["linkinfo"];
                    if info["info_kind"] != kind {
                        errs.push(format!("{name}: kind {} != {kind}", info["info_kind"]));
                    }
                    let data = &info["info_data"];
                    if kind == "xfrm" {
                        if data["if_id"] != format!("{id:#x}") {
                            errs.push(format!("{name}: if_id {} != {id:#x}", data["if_id"]));
                        }
                    } else {
                        let key = format!("0.0.0.{id}");
                        for (field, want) in [
                            ("local", local),
                            ("remote", remote),
                            ("ikey", &key),
                            ("okey", &key),
                        ] {
                            if data[field] != want {
                                errs.push(format!("{name}: {field} {} != {want}", data[field]));
                            }
                        }
                    }
                    let tx = &l["stats64"]["tx"];
                    let rx = &l["stats64"]["rx"];
                    if tx["packets"].as_u64().unwrap_or(0) < PINGS {
                        errs.push(format!("{name}: tx_packets {} < {PINGS}", tx["packets"]));
                    }
                    if rx["packets"].as_u64().unwrap_or(0) < PINGS {
                        errs.push(format!("{name}: rx_packets {} < {PINGS}", rx["packets"]));
                    }
                    for c in [
                        "errors",
                        "dropped",
                        "carrier_errors",
                        "collisions",
                        "aborted_errors",
                    ] {
                        if tx[c].as_u64() != Some(0) {
                            errs.push(format!("{name}: tx {c} = {} on a healthy tunnel", tx[c]));
                        }
                    }
                }
                let tunnels = links
                    .iter()
                    .filter(|l| {
                        let k = &l["linkinfo"]["info_kind"];
                        (k == "vti" || k == "vti6" || k == "xfrm")
                            && l["flags"]
                                .as_array()
                                .is_some_and(|f| f.iter().any(|f| f == "UP"))
                    })
                    .count();
                if tunnels != TUNNELS.len() {
                    errs.push(format!(
                        "{tunnels} tunnel interfaces up, expected {}",
                        TUNNELS.len()
                    ));
                }
            }
        }
    }

    // SAs: two per tunnel (SPI 0x10NN out, 0x20NN in), each used by the pings.
    if let Some(s) = need(&mut errs, "left.xfrm_state") {
        if s.body.trim_start().starts_with('[') {
            let n = serde_json::from_str::<serde_json::Value>(&s.body)
                .ok()
                .and_then(|v| v.as_array().map(Vec::len));
            if n != Some(2 * TUNNELS.len()) {
                errs.push(format!("xfrm state JSON lists {n:?} SAs, expected 12"));
            }
        } else {
            let sas = parse_sa_text(&s.body);
            if sas.len() != 2 * TUNNELS.len() {
                errs.push(format!(
                    "{} SAs in the left namespace, expected 12",
                    sas.len()
                ));
            }
            for (name, .., id) in TUNNELS {
                // lib.sh numbers SPIs 0x10<id> (out) and 0x20<id> (in), id in decimal.
                let spis =
                    ["10", "20"].map(|p| u32::from_str_radix(&format!("{p}{id}"), 16).unwrap());
                for spi in spis {
                    match sas.iter().find(|sa| sa.spi == spi) {
                        None => errs.push(format!("{name}: SA spi {spi:#x} missing")),
                        Some(sa) if sa.packets < PINGS => errs.push(format!(
                            "{name}: SA spi {spi:#x} carried {} packets, expected >= {PINGS}",
                            sa.packets
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    if let Some(s) = need(&mut errs, "left.xfrm_policy") {
        for dir in ["out", "in"] {
            let n = s.body.matches(&format!("\tdir {dir} ")).count();
            if n != TUNNELS.len() {
                errs.push(format!(
                    "{n} `dir {dir}` policies, expected {}",
                    TUNNELS.len()
                ));
            }
        }
    }
    // xfrm_stat: present, and nothing failed on a healthy setup.
    if let Some(s) = need(&mut errs, "left.xfrm_stat") {
        let counters: Vec<(&str, u64)> = s
            .body
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                Some((it.next()?, it.next()?.parse().ok()?))
            })
            .collect();
        if !counters.iter().any(|(n, _)| *n == "XfrmOutNoStates") {
            errs.push(format!("left.xfrm_stat lacks XfrmOutNoStates:\n{}", s.body));
        }
        for (n, v) in counters {
            if v != 0 {
                errs.push(format!("xfrm_stat {n} = {v} on a healthy setup"));
            }
        }
    }
    errs
}

#[test]
fn lab_tunnels_on_6_1_and_6_12() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let have = |prog: &str| std::env::split_paths(&path).any(|d| d.join(prog).is_file());
    for prog in ["qemu-system-x86_64", "cpio", "depmod", "apt-get", "busybox"] {
        assert!(
            have(prog),
            "{prog} not found: the lab test needs QEMU and host tools; install with: {INSTALL}"
        );
    }
    let timeout = std::env::var("VTI_LAB_TIMEOUT").unwrap_or_else(|_| "300".into());
    let kernels: Vec<String> = std::env::var("VTI_LAB_KERNELS")
        .unwrap_or_else(|_| "6.1 6.12".into())
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lab");

    let start = Instant::now();
    let handles: Vec<_> = kernels
        .iter()
        .map(|series| {
            let (series, out, timeout) = (series.clone(), base.join(series), timeout.clone());
            thread::spawn(move || run_kernel(&series, &out, &timeout))
        })
        .collect();
    let runs: Vec<Run> = handles
        .into_iter()
        .map(|h| h.join().expect("lab thread"))
        .collect();
    let wall = start.elapsed().as_secs_f64();

    // Timing goes to the real stderr (not captured by the test harness) so CI logs show it.
    let mut stderr = std::io::stderr().lock();
    let mut failures = String::new();
    for run in &runs {
        let m = |k: &str| run.meta.get(k).map(String::as_str).unwrap_or("?");
        let _ = writeln!(
            stderr,
            "lab {}: kernel {} accel {} qemu {}s, total {:.1}s: {}",
            run.series,
            m("kernel"),
            m("accel"),
            m("qemu_seconds"),
            run.wall_s,
            m("status")
        );
        let errs = check(run);
        if !errs.is_empty() {
            failures.push_str(&format!(
                "\n--- kernel {} ({}): {} problem(s); results in {}\n  {}\n",
                run.series,
                m("kernel"),
                errs.len(),
                base.join(&run.series).display(),
                errs.join("\n  ")
            ));
        }
    }
    let _ = writeln!(
        stderr,
        "lab: {} kernel(s) side by side in {wall:.1}s wall",
        runs.len()
    );
    drop(stderr);
    assert!(failures.is_empty(), "lab smoke scenario failed:{failures}");
}

#[test]
fn section_parser() {
    // As lib.sh writes them: output "x\ny\n", no output (rc 3), output "z" (no newline).
    let text = "=== BEGIN a ===\nx\ny\n\n=== END a rc=0 ===\nnoise\n=== BEGIN b.c ===\n\n\
                === END b.c rc=3 ===\n=== BEGIN d ===\nz\n=== END d rc=0 ===\n";
    let s = parse_sections(text);
    assert_eq!(s["a"].body, "x\ny\n");
    assert_eq!(s["a"].rc, 0);
    assert_eq!(s["b.c"].body, "");
    assert_eq!(s["b.c"].rc, 3);
    assert_eq!(s["d"].body, "z");
}

#[test]
fn sa_text_parser() {
    let text = "src 192.0.2.1 dst 192.0.2.2\n\tproto esp spi 0x00001011(4113) reqid 11(0x0000000b) mode tunnel\n\tlifetime current:\n\t  252(bytes), 3(packets)\n\t  add 2026-11-28 17:07:12 use -\nsrc 192.0.2.2 dst 192.0.2.1\n\tproto esp spi 0x00002011(8209) reqid 11(0x0000000b) mode tunnel\n\tlifetime current:\n\t  0(bytes), 0(packets)\n";
    let sas = parse_sa_text(text);
    assert_eq!(sas.len(), 2);
    assert_eq!((sas[0].spi, sas[0].packets), (0x1011, 3));
    assert_eq!((sas[1].spi, sas[1].packets), (0x2011, 0));
}
