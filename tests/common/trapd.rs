//! A private net-snmp `snmptrapd` per test: listens on a free loopback UDP
//! port, accepts v2c traps for community `public` (`authCommunity log`),
//! and logs each one as a single line to a file:
//!
//! ```text
//! TRAP\t.1.3.6.1.2.1.1.3.0 = Timeticks: (1234) 0:00:12.34\t.1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3…\t…
//! ```
//!
//! (`format2 TRAP\t%v\n` with `-On`: numeric OIDs, varbinds tab-separated in
//! the order received). MIB loading is off, so no MIB files are needed.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_udp_port, wait_until, VarBind};

pub const SYS_UPTIME_0: &str = "1.3.6.1.2.1.1.3.0";
pub const SNMP_TRAP_OID_0: &str = "1.3.6.1.6.3.1.1.4.1.0";

pub struct Snmptrapd {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

/// One received notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub varbinds: Vec<VarBind>,
}

impl Trap {
    /// snmpTrapOID.0's value, without the leading dot.
    pub fn trap_oid(&self) -> &str {
        self.get(SNMP_TRAP_OID_0)
            .map(|v| v.value.trim_start_matches('.'))
            .unwrap_or("")
    }

    pub fn get(&self, oid: &str) -> Option<&VarBind> {
        self.varbinds.iter().find(|v| v.oid == oid)
    }

    /// The value of `oid`, quotes stripped from strings.
    pub fn value(&self, oid: &str) -> Option<&str> {
        self.get(oid).map(|v| v.value.trim_matches('"'))
    }
}

/// `.1.3.6… = TYPE: value` (or `= ""` for an empty string).
fn looks_like_varbind(s: &str) -> bool {
    let Some((oid, _)) = s.split_once(" = ") else {
        return false;
    };
    oid.starts_with('.') && oid[1..].split('.').all(|p| p.parse::<u32>().is_ok())
}

fn parse_varbind(s: &str) -> VarBind {
    let (oid, rest) = s.split_once(" = ").unwrap();
    let (kind, value) = match rest.split_once(": ") {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (String::new(), rest.to_string()),
    };
    VarBind {
        oid: oid.trim_start_matches('.').to_string(),
        kind,
        value,
    }
}

/// Parses the log: one trap per `TRAP\t` line; a string value that itself
/// contains a newline or a tab continues the previous varbind.
pub fn parse_log(text: &str) -> Vec<Trap> {
    let mut traps: Vec<Trap> = Vec::new();
    let mut in_trap = false;
    for line in text.lines() {
        let fields: &str = if let Some(rest) = line.strip_prefix("TRAP\t") {
            traps.push(Trap {
                varbinds: Vec::new(),
            });
            in_trap = true;
            rest
        } else if in_trap && !line.starts_with("NET-SNMP version") {
            // Continuation of a multi-line string value.
            if let Some(last) = traps.last_mut().and_then(|t| t.varbinds.last_mut()) {
                last.value.push('\n');
            }
            line
        } else {
            in_trap = false;
            continue;
        };
        let trap = traps.last_mut().unwrap();
        for (i, piece) in fields.split('\t').enumerate() {
            if looks_like_varbind(piece) {
                trap.varbinds.push(parse_varbind(piece));
            } else if let Some(last) = trap.varbinds.last_mut() {
                if i > 0 {
                    last.value.push('\t');
                }
                last.value.push_str(piece);
            }
        }
    }
    traps
}

impl Snmptrapd {
    pub fn start() -> Snmptrapd {
        super::require("snmptrapd");
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("snmptrapd.conf");
        fs::write(&conf, "authCommunity log public\nformat2 TRAP\\t%v\\n\n").unwrap();
        let mut rig = Snmptrapd {
            dir,
            port: 0,
            child: None,
        };
        // The port is free when picked; another test may take it before
        // snmptrapd binds it, so retry with a new one.
        for _ in 0..5 {
            rig.port = free_udp_port();
            if rig.spawn() {
                return rig;
            }
        }
        panic!(
            "snmptrapd did not start; log:\n{}\nstderr:\n{}",
            rig.log(),
            fs::read_to_string(rig.dir.path().join("stderr")).unwrap_or_default()
        );
    }

    /// Starts snmptrapd on `self.port`; false if it did not come up.
    fn spawn(&mut self) -> bool {
        let starts = self.log().matches("NET-SNMP version").count();
        let stderr = fs::File::create(self.dir.path().join("stderr")).unwrap();
        let mut child = Command::new("snmptrapd")
            .args(["-f", "-A", "-On", "-Lf"])
            .arg(self.log_path())
            .args(["-C", "-c"])
            .arg(self.dir.path().join("snmptrapd.conf"))
            .arg(format!("udp:127.0.0.1:{}", self.port))
            .env("MIBS", "")
            .env("MIBDIRS", "/nonexistent")
            .env("SNMP_PERSISTENT_DIR", self.dir.path().join("persist"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("cannot start snmptrapd");
        let up = wait_until(Duration::from_secs(5), || {
            self.log().matches("NET-SNMP version").count() > starts
                || child.try_wait().ok().flatten().is_some()
        });
        if up && child.try_wait().ok().flatten().is_none() {
            self.child = Some(child);
            return true;
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Stops snmptrapd: traps sent meanwhile are lost (UDP).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again after `stop`, on the same port; the log goes on.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "snmptrapd is still running");
        assert!(
            self.spawn(),
            "snmptrapd did not start again; log:\n{}",
            self.log()
        );
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("snmptrapd.log")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The snmpd.conf line that sends v2c traps here.
    pub fn sink_line(&self) -> String {
        format!("trap2sink 127.0.0.1:{} public", self.port)
    }

    /// Every trap received so far, in arrival order.
    pub fn traps(&self) -> Vec<Trap> {
        parse_log(&self.log())
    }

    /// The traps whose snmpTrapOID.0 is `trap_oid` (dotted, no leading dot).
    pub fn with_oid(&self, trap_oid: &str) -> Vec<Trap> {
        self.traps()
            .into_iter()
            .filter(|t| t.trap_oid() == trap_oid)
            .collect()
    }

    /// Waits until at least `n` traps with `trap_oid` arrived.
    pub fn wait_for(&self, trap_oid: &str, n: usize, within: Duration) -> Vec<Trap> {
        let ok = wait_until(within, || self.with_oid(trap_oid).len() >= n);
        let got = self.with_oid(trap_oid);
        assert!(
            ok,
            "expected {n} trap(s) {trap_oid} within {within:?}, got {}; snmptrapd log:\n{}",
            got.len(),
            self.log()
        );
        got
    }
}

impl Drop for Snmptrapd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
