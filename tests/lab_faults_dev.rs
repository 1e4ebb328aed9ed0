//! THROWAWAY dev runner for the faults and alarms lab parts until the lab restructuring
//! (one boot per kernel, tests/lab/checks/) lands. Delete before merging.
//!
//! `VTI_LAB_DEV_RESULTS="6.1=/tmp/f61/results.txt 6.12=/tmp/f612/results.txt"` checks
//! saved results; otherwise boots the kernels in `VTI_LAB_KERNELS` (default both)
//! side by side with a scenario running faults.sh then alarms.sh.

#[path = "lab/checks/alarms.rs"]
mod alarms;
#[path = "lab/checks/faults.rs"]
mod faults;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn parse_sections(text: &str) -> BTreeMap<String, (String, i32)> {
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
                out.insert(name, (lines.join("\n"), rc));
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    out
}

fn check_one(series: &str, results: &str) -> Vec<String> {
    let text = std::fs::read_to_string(results).unwrap_or_default();
    let sections = parse_sections(&text);
    let kernel = sections
        .get("boot")
        .and_then(|(b, _)| b.lines().next())
        .and_then(|l| l.strip_prefix("kernel "))
        .unwrap_or(series)
        .to_string();
    let mut errs = Vec::new();
    if sections.keys().any(|k| k.starts_with("faults.")) {
        errs.extend(faults::check(&sections, &kernel));
    } else {
        errs.push(format!("[{kernel}] no faults sections"));
    }
    if sections.keys().any(|k| k.starts_with("alarms.")) {
        errs.extend(alarms::check(&sections, &kernel));
    } else {
        errs.push(format!("[{kernel}] no alarms sections"));
    }
    errs
}

#[test]
fn lab_faults_and_alarms_dev() {
    let mut errs = Vec::new();
    if let Ok(list) = std::env::var("VTI_LAB_DEV_RESULTS") {
        for item in list.split_whitespace() {
            let (series, path) = item.split_once('=').unwrap();
            errs.extend(check_one(series, path));
        }
    } else {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let kernels = std::env::var("VTI_LAB_KERNELS").unwrap_or("6.1 6.12".into());
        let scenario = repo.join("target/tmp/lab-dev/faults-alarms.sh");
        std::fs::create_dir_all(scenario.parent().unwrap()).unwrap();
        std::fs::write(
            &scenario,
            "#!/bin/sh\nrc=0\nsh /lab/scenarios/faults.sh || rc=1\n\
             sh /lab/scenarios/alarms.sh || rc=1\nexit $rc\n",
        )
        .unwrap();
        let handles: Vec<_> = kernels
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|series| {
                let series = series.to_string();
                let repo = repo.clone();
                let scenario = scenario.clone();
                std::thread::spawn(move || {
                    let out = repo.join(format!("target/tmp/lab-dev/{series}"));
                    let t = Instant::now();
                    let st = Command::new(repo.join("tests/lab/run.sh"))
                        .args(["--kernel", &series, "--timeout", "1200"])
                        .args(["--agent", env!("CARGO_BIN_EXE_vti-agentx")])
                        .arg("--scenario")
                        .arg(&scenario)
                        .arg("--out")
                        .arg(&out)
                        .status()
                        .unwrap();
                    eprintln!("lab {series}: {st} in {:.0} s", t.elapsed().as_secs_f64());
                    (series, out.join("results.txt"))
                })
            })
            .collect();
        for h in handles {
            let (series, results) = h.join().unwrap();
            errs.extend(check_one(&series, results.to_str().unwrap()));
        }
    }
    assert!(
        errs.is_empty(),
        "{} problem(s):\n{}",
        errs.len(),
        errs.join("\n")
    );
}
