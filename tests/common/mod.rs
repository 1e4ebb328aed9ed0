//! Test rig shared by the integration tests: a private net-snmp `snmpd` per
//! test (AgentX master on a temp socket, SNMP on a free loopback port) and
//! thin wrappers around the real `snmpget`/`snmpwalk`/… clients.
//!
//! Every client call runs with MIB loading off (`MIBS=` and a MIB dir that
//! does not exist) and `-On`, so tests compare numeric OIDs and need no MIB
//! files.

#![allow(dead_code)]

pub mod agent;
pub mod fixture;
pub mod trapd;

use std::fs;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const ROOT: &str = "1.3.6.1.4.1.8072.9999.9999.2741";

/// Where the master listens for subagents.
#[derive(Clone, Debug)]
pub enum AgentxListen {
    Unix,
    Tcp(u16),
}

pub struct Snmpd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// What to pass to `vti-agentx --master`.
    pub master: String,
    listen: AgentxListen,
    /// Lines appended to every snmpd.conf written (e.g. `trap2sink …`).
    extra_conf: Vec<String>,
    extra_args: Vec<String>,
    child: Option<Child>,
    starts: u32,
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("no free loopback UDP port")
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("no free loopback TCP port")
}

fn require(binary: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(binary).is_file();
    assert!(
        found,
        "`{binary}` not found: install Debian packages snmpd and snmp (apt-get install snmpd snmp)"
    );
}

impl Snmpd {
    pub fn start(listen: AgentxListen) -> Snmpd {
        Self::start_at(listen, tempfile::tempdir().expect("tempdir"))
    }

    /// With extra snmpd.conf lines, e.g. `trap2sink 127.0.0.1:PORT public`.
    pub fn start_with(listen: AgentxListen, extra_conf: &[String]) -> Snmpd {
        Self::start_full(
            listen,
            tempfile::tempdir().expect("tempdir"),
            extra_conf.to_vec(),
        )
    }

    /// With the AgentX socket (for `Unix`) and files in `dir`.
    pub fn start_at(listen: AgentxListen, dir: tempfile::TempDir) -> Snmpd {
        Self::start_full(listen, dir, Vec::new())
    }

    /// With extra command-line arguments, e.g. `-Dagentx/master` (which logs
    /// every subagent Open as "agentx/master: opened").
    pub fn start_with_args(listen: AgentxListen, args: &[&str]) -> Snmpd {
        let mut rig = Self::unstarted(listen, tempfile::tempdir().expect("tempdir"), Vec::new());
        rig.extra_args = args.iter().map(|a| a.to_string()).collect();
        rig.spawn();
        rig
    }

    fn start_full(listen: AgentxListen, dir: tempfile::TempDir, extra_conf: Vec<String>) -> Snmpd {
        let mut rig = Self::unstarted(listen, dir, extra_conf);
        rig.spawn();
        rig
    }

    fn unstarted(listen: AgentxListen, dir: tempfile::TempDir, extra_conf: Vec<String>) -> Snmpd {
        require("snmpd");
        require("snmpget");
        let master = match &listen {
            AgentxListen::Unix => format!("unix:{}", dir.path().join("master").display()),
            AgentxListen::Tcp(port) => format!("tcp:127.0.0.1:{port}"),
        };
        Snmpd {
            dir,
            port: free_udp_port(),
            master,
            listen,
            extra_conf,
            extra_args: Vec::new(),
            child: None,
            starts: 0,
        }
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("snmpd.conf")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("snmpd.{}.log", self.starts))
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let socket = match &self.listen {
            AgentxListen::Unix => self.master.clone(),
            AgentxListen::Tcp(port) => format!("tcp:127.0.0.1:{port}"),
        };
        let mut conf = format!(
            "master agentx\nagentXSocket {socket}\nagentXPerms 0660 0770\n\
             rocommunity public 127.0.0.1\nagentaddress udp:127.0.0.1:{port}\n",
            port = self.port
        );
        for line in &self.extra_conf {
            conf.push_str(line);
            conf.push('\n');
        }
        fs::write(self.conf_path(), conf).unwrap();
        let log = fs::File::create(self.log_path()).unwrap();
        let child = Command::new("snmpd")
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(self.conf_path())
            .args(&self.extra_args)
            .env("MIBS", "")
            .env("MIBDIRS", "/nonexistent")
            .env("SNMP_PERSISTENT_DIR", self.dir.path().join("persist"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start snmpd");
        self.child = Some(child);
        let up = wait_until(Duration::from_secs(10), || {
            self.get(&["1.3.6.1.2.1.1.3.0"]).status.success()
        });
        assert!(up, "snmpd did not answer within 10 s; log:\n{}", self.log());
    }

    /// Kill snmpd and start it again on the same socket and port, as VyOS
    /// does on every SNMP commit.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Start snmpd again after `kill`, on the same socket, port and config
    /// (a new log file: `log_path` follows).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "snmpd is still running");
        self.spawn();
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn client(&self, tool: &str, extra: &[&str], oids: &[&str]) -> Output {
        Command::new(tool)
            .args(["-v2c", "-c", "public", "-On", "-t", "3", "-r", "1"])
            .args(extra)
            .arg(format!("127.0.0.1:{}", self.port))
            .args(oids)
            .env("MIBS", "")
            .env("MIBDIRS", "/nonexistent")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"))
    }

    pub fn get(&self, oids: &[&str]) -> Output {
        self.client("snmpget", &[], oids)
    }

    pub fn getnext(&self, oids: &[&str]) -> Output {
        self.client("snmpgetnext", &[], oids)
    }

    pub fn walk(&self, oid: &str) -> Output {
        self.client("snmpwalk", &[], &[oid])
    }

    pub fn bulkwalk(&self, oid: &str, max_repetitions: u32) -> Output {
        let cr = format!("-Cr{max_repetitions}");
        self.client("snmpbulkwalk", &[&cr], &[oid])
    }

    pub fn bulkget(&self, non_repeaters: u32, max_repetitions: u32, oids: &[&str]) -> Output {
        let cn = format!("-Cn{non_repeaters}");
        let cr = format!("-Cr{max_repetitions}");
        self.client("snmpbulkget", &[&cn, &cr], oids)
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One line of `-On` client output: `.1.3.6… = TYPE: value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub oid: String,
    pub kind: String,
    pub value: String,
}

/// Parses client output; multi-line string values are joined.
pub fn parse(out: &Output) -> Vec<VarBind> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut binds: Vec<VarBind> = Vec::new();
    for line in text.lines() {
        if let Some((oid, rest)) = line.split_once(" = ") {
            if oid.starts_with('.') {
                let (kind, value) = match rest.split_once(": ") {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (String::new(), rest.to_string()),
                };
                binds.push(VarBind {
                    oid: oid.trim_start_matches('.').to_string(),
                    kind,
                    value,
                });
                continue;
            }
        }
        if let Some(last) = binds.last_mut() {
            last.value.push('\n');
            last.value.push_str(line);
        }
    }
    binds
}

pub fn stdout(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn wait_until(timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(100));
    }
}

/// Numeric OID comparison (SNMP order), for order assertions.
pub fn oid_key(oid: &str) -> Vec<u32> {
    oid.trim_start_matches('.')
        .split('.')
        .map(|s| s.parse().unwrap())
        .collect()
}
