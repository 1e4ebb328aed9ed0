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

use std::path::PathBuf;
use std::process::Command;

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
