//! Real-kernel lab: boots the Debian 6.1 and 6.12 cloud kernels under QEMU side by side
//! (one QEMU process per kernel, each driven from its own thread), ONCE each, running
//! `tests/lab/scenarios/all.sh`, which runs the lab's parts in order from a clean slate:
//! tunnels, collect, agent, faults, alarms, ike (a part without a script is skipped and says
//! so). Each part writes sections `<part>.*`; its host-side check is
//! `tests/lab/checks/<part>.rs`. Every check runs for every kernel; all problems are
//! printed, and any fails the test. See `tests/lab/README.md`.
//!
//! Needs on the host: qemu-system-x86, busybox-static, kmod, cpio, xz-utils, iproute2,
//! iputils-ping, util-linux, snmpd, snmp, strongswan-charon, strongswan-swanctl,
//! libstrongswan-standard-plugins, and apt with Debian package lists (the kernels
//! are downloaded on first use into `.lab-cache/`): `tests/lab/install-deps.sh` installs
//! them. Missing pieces make the test FAIL, with the install command, never skip.
//!
//! Env: `VTI_LAB_ACCEL` = auto (default: KVM when usable) | kvm | tcg;
//! `VTI_LAB_TIMEOUT` = seconds per boot (default 1200); `VTI_LAB_PART_TIMEOUT` = seconds
//! per part (default 600); `VTI_LAB_KERNELS` = space- or comma-separated series (default
//! "6.1 6.12"); `VTI_LAB_PARTS` = the parts to run, e.g. "agent faults" (development;
//! default: all.sh's list); `VTI_LAB_RECHECK=1` = no boot, re-check the results of the
//! last run in `target/tmp/lab/<series>/`; `VTI_LAB_CACHE` = cache directory.

#[path = "lab/checks/agent.rs"]
mod agent;
#[path = "lab/checks/alarms.rs"]
mod alarms;
#[path = "lab/checks/collect.rs"]
mod collect;
#[path = "lab/checks/common.rs"]
mod common;
#[path = "lab/checks/faults.rs"]
mod faults;
#[path = "lab/checks/ike.rs"]
mod ike;
#[path = "lab/checks/tunnels.rs"]
mod tunnels;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Instant;

use common::Sections;

/// A part's host-side check: the problems found (empty = pass). `kernel` is the series
/// ("6.1", "6.12").
type Check = fn(&Sections, &str) -> Vec<String>;

/// The host-side check of every part. To add a part: write
/// `tests/lab/scenarios/<part>.sh` (sections named `<part>.<name>`), add the part to
/// DEFAULT_PARTS in `tests/lab/scenarios/all.sh`, write `tests/lab/checks/<part>.rs` with
/// `pub fn check(sections: &Sections, kernel: &str) -> Vec<String>`, declare it above
/// (`#[path = "lab/checks/<part>.rs"] mod <part>;`) and list it here. A part that runs
/// in the guest without a check here fails the test.
const CHECKS: &[(&str, Check)] = &[
    ("tunnels", tunnels::check),
    ("collect", collect::check),
    ("agent", agent::check),
    ("faults", faults::check),
    ("alarms", alarms::check),
    ("ike", ike::check),
];

const INSTALL: &str = "tests/lab/install-deps.sh (apt-get install -y qemu-system-x86 \
                       busybox-static kmod cpio xz-utils iproute2 iputils-ping util-linux \
                       snmpd snmp strongswan-charon strongswan-swanctl \
                       libstrongswan-standard-plugins)";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

struct Run {
    series: String,
    /// run.sh's exit code (None: killed by a signal); Some(0) when re-checking.
    exit: Option<i32>,
    stderr: String,
    wall_s: f64,
    meta: BTreeMap<String, String>,
    results: String,
}

fn read_run(series: &str, out: &Path, exit: Option<i32>, stderr: String, wall_s: f64) -> Run {
    let meta = std::fs::read_to_string(out.join("meta"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Run {
        series: series.to_string(),
        exit,
        stderr,
        wall_s,
        meta,
        results: std::fs::read_to_string(out.join("results.txt")).unwrap_or_default(),
    }
}

struct Bins {
    agent: PathBuf,
    /// The examples put in the guest's /usr/local/bin: collect_once (collect part),
    /// ike_dump (ike part).
    examples: Vec<PathBuf>,
}

/// A stripped copy of `bin` (the debug builds are ~60 MB; the initramfs lives in guest
/// RAM), or `bin` itself when strip is missing.
fn stripped(bin: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(bin.file_name().unwrap());
    let ok = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        out
    } else {
        bin.to_path_buf()
    }
}

/// The examples the guest runs besides the agent.
const EXAMPLES: [&str; 2] = ["collect_once", "ike_dump"];

/// The agent (cargo builds it for this test) and the EXAMPLES, which `cargo test --test
/// lab` does not build: built here, with the same profile and target directory, so they
/// are never stale.
fn binaries() -> Bins {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/lab-<hash>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let mut cmd = Command::new(env_or("CARGO", "cargo"));
    cmd.args(["build", "--quiet"])
        .args(EXAMPLES.iter().flat_map(|e| ["--example", e]))
        .arg("--manifest-path")
        .arg(repo().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("running cargo build --example …");
    assert!(
        status.success(),
        "cargo build of the examples {EXAMPLES:?} failed"
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lab-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let examples = EXAMPLES
        .iter()
        .map(|e| {
            let example = profile_dir.join("examples").join(e);
            assert!(
                example.is_file(),
                "{} missing after the build",
                example.display()
            );
            stripped(&example, &dir)
        })
        .collect();
    Bins {
        agent: stripped(Path::new(env!("CARGO_BIN_EXE_vti-agentx")), &dir),
        examples,
    }
}

fn run_kernel(series: &str, bins: &Bins, out: &Path, parts: &[String]) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new(repo().join("tests/lab/run.sh"));
    cmd.args(["--kernel", series])
        .args(["--timeout", &env_or("VTI_LAB_TIMEOUT", "1200")])
        .args(["--part-timeout", &env_or("VTI_LAB_PART_TIMEOUT", "600")])
        .arg("--agent")
        .arg(&bins.agent)
        .arg("--scenario")
        .arg(repo().join("tests/lab/scenarios/all.sh"))
        .arg("--out")
        .arg(out);
    for example in &bins.examples {
        cmd.arg("--extra-bin").arg(example);
    }
    if !parts.is_empty() {
        cmd.args(["--parts", &parts.join(" ")]);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/lab/run.sh: {e}"));
    read_run(
        series,
        out,
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        start.elapsed().as_secs_f64(),
    )
}

/// One kernel's problems, and a line per part (status, seconds) for the log.
fn check_run(run: &Run, selected: &[String]) -> (Vec<String>, Vec<String>) {
    let mut errs = Vec::new();
    let mut timeline = Vec::new();
    let secs = Sections::parse(&run.results);
    let status = run.meta.get("status").map_or("?", String::as_str);
    if run.exit != Some(0) || status != "ok" {
        errs.push(format!(
            "tests/lab/run.sh exited {:?} ({status}); its stderr (console tail):\n{}",
            run.exit, run.stderr
        ));
    }
    if !run.results.contains("=== DONE rc=") {
        errs.push(
            "results.txt has no `=== DONE` line: the guest crashed or timed out \
             (see console.log)"
                .into(),
        );
    }
    if let Some(s) = secs.need("boot", &mut errs) {
        if !s.body.contains("modprobe rc=0") {
            errs.push(format!("module loading failed:\n{}", s.body));
        }
    }
    for d in &secs.duplicates {
        errs.push(format!("section {d} written more than once"));
    }
    let ran = match secs.need("all.parts", &mut errs) {
        Some(s) => words(&s.body),
        None => return (errs, timeline),
    };
    // The parts that must have run: those asked for, else every part with a check.
    let expected: Vec<String> = if selected.is_empty() {
        CHECKS.iter().map(|(p, _)| p.to_string()).collect()
    } else {
        selected.to_vec()
    };
    for p in &expected {
        if !ran.contains(p) {
            errs.push(format!("part {p} was not run (all.parts: {ran:?})"));
        }
    }
    for name in &secs.order {
        let part = name.split('.').next().unwrap_or("");
        if !(["boot", "dmesg", "all"].contains(&name.as_str())
            || part == "all"
            || ran.iter().any(|p| p == part))
        {
            errs.push(format!(
                "section {name} belongs to no part: name sections <part>.<name>"
            ));
        }
    }
    for part in &ran {
        let check = CHECKS.iter().find(|(p, _)| p == part).map(|(_, c)| *c);
        let Some(s) = secs.need(&format!("all.{part}"), &mut errs) else {
            continue;
        };
        let line = s.body.lines().collect::<Vec<_>>().join("; ");
        timeline.push(format!("{part}: {line}"));
        if s.body.starts_with("skipped") {
            if check.is_some() {
                errs.push(format!("part {part} has a check but was skipped: {line}"));
            }
            continue;
        }
        if s.rc != 0 {
            errs.push(format!(
                "part {part} exited rc {} ({line}); see console.log",
                s.rc
            ));
        }
        match check {
            Some(check) => errs.extend(
                check(&secs, &run.series)
                    .into_iter()
                    .map(|e| format!("[{part}] {e}")),
            ),
            None => errs.push(format!(
                "part {part} ran but has no host-side check: add it to CHECKS in tests/lab.rs"
            )),
        }
    }
    (errs, timeline)
}

#[test]
fn lab_on_6_1_and_6_12() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let have = |prog: &str| std::env::split_paths(&path).any(|d| d.join(prog).is_file());
    for prog in ["qemu-system-x86_64", "cpio", "depmod", "apt-get", "busybox"] {
        assert!(
            have(prog),
            "{prog} not found: the lab test needs QEMU and host tools; install with: {INSTALL}"
        );
    }
    let kernels = words(&env_or("VTI_LAB_KERNELS", "6.1 6.12"));
    let parts = words(&env_or("VTI_LAB_PARTS", ""));
    let recheck = std::env::var_os("VTI_LAB_RECHECK").is_some();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lab");

    let start = Instant::now();
    let runs: Vec<Run> = if recheck {
        kernels
            .iter()
            .map(|s| read_run(s, &base.join(s), Some(0), String::new(), 0.0))
            .collect()
    } else {
        let bins = std::sync::Arc::new(binaries());
        let handles: Vec<_> = kernels
            .iter()
            .map(|series| {
                let (series, out, bins, parts) = (
                    series.clone(),
                    base.join(series),
                    bins.clone(),
                    parts.clone(),
                );
                thread::spawn(move || run_kernel(&series, &bins, &out, &parts))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("lab thread"))
            .collect()
    };
    let wall = start.elapsed().as_secs_f64();

    // Timing goes to the real stderr (not captured by the test harness) so CI logs show it.
    let mut failures = String::new();
    for run in &runs {
        let m = |k: &str| run.meta.get(k).map(String::as_str).unwrap_or("?");
        let (errs, timeline) = check_run(run, &parts);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "lab {}: kernel {} accel {} qemu {}s, total {:.1}s: {}; {} problem(s)",
            run.series,
            m("kernel"),
            m("accel"),
            m("qemu_seconds"),
            run.wall_s,
            m("status"),
            errs.len()
        );
        for t in timeline {
            let _ = writeln!(stderr, "  part {t}");
        }
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
        std::io::stderr().lock(),
        "lab: {} kernel(s) side by side in {wall:.1}s wall",
        runs.len()
    );
    assert!(failures.is_empty(), "lab failed:{failures}");
}
