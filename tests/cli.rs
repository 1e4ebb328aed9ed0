//! The command-line contract: exit codes, one-line errors, check-config.

use std::process::{Command, Output};

fn vti(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vti-agentx"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run vti-agentx")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_config_accepts_the_packaged_config() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/config.toml");
    let out = vti(&["check-config", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
}

#[test]
fn check_config_reports_line_and_column_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("poll_interval_secs = 10\nmaster = \"udp:x:1\"\n", ":2:10: master"),
        ("[alarms]\nhold_downs = 3\n", ":2:1:"),
        ("poll_interval_secs = 0\n", ":1:22: poll_interval_secs"),
        ("poll_interval_secs = \n", ":1:"),
        (
            "[alarms.categories.carrier]\nenabled = true\ninterval_secs = 60\nrising = 1\nfalling = 1\n",
            "falling (1) must be below rising (1)",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = vti(&["check-config", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line, got: {err}");
        assert!(
            err.contains(path.to_str().unwrap()),
            "names the file: {err}"
        );
        assert!(err.contains(want), "{text:?}: expected {want:?} in {err}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_clear_message() {
    let out = vti(&["run", "--bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = vti(&["run", "--interval", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = vti(&["run", "--master", "udp:127.0.0.1:705"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("master"), "{}", stderr(&out));
    let out = vti(&["run", "--config", "/nonexistent/vti.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/vti.toml"),
        "{}",
        stderr(&out)
    );
    let out = vti(&["mib", "--root", "1.3.x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn mib_command_prints_the_module_at_the_asked_root() {
    let out = vti(&["mib"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("IPSEC-VTI-MIB DEFINITIONS ::= BEGIN"));
    assert!(text.contains("::= { netSnmpPlaypen 2741 }"));
    let out = vti(&["mib", "--root", "1.3.6.1.4.1.99999.7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("::= { enterprises 99999 7 }"), "{text:.2000}");
}
