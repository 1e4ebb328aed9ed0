//! The systemd side of `vti-agentx run` as far as it can be checked without
//! systemd as PID 1: the real binary, a real snmpd, and the two things
//! systemd reads from a `Type=notify` service.
//!
//! - The notify socket: a datagram socket this test binds and names in
//!   `NOTIFY_SOCKET`, as systemd does. `READY=1` must not arrive while snmpd
//!   is away (the agent polls and retries meanwhile, and pings the watchdog
//!   after each poll); it arrives once snmpd is back and the subtree is
//!   served; `STOPPING=1` on SIGTERM. `WATCHDOG_USEC` shorter than three
//!   poll intervals is raised with `WATCHDOG_USEC=`.
//! - The journal stream: stderr is a file whose device and inode are in
//!   `JOURNAL_STREAM`, as systemd sets them for its journal socket; every
//!   line must start with its sd-daemon priority, the "cannot register"
//!   warning with `<4>`.
//!
//! That journald files the line as priority 4 and that systemd holds the
//! unit in "activating" until READY=1 is the systemd side of the protocol;
//! packaging/vm-test.sh checks it on a real Debian system.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_vti-agentx");

/// Datagrams received on `socket` within `window`, as text.
fn messages_within(socket: &UnixDatagram, window: Duration) -> Vec<String> {
    receive_until(socket, window, |_| false).1
}

/// The first datagram equal to `wanted` within `limit`; the others seen
/// before it are returned too.
fn wait_for(socket: &UnixDatagram, wanted: &str, limit: Duration) -> (bool, Vec<String>) {
    receive_until(socket, limit, |msg| msg == wanted)
}

/// Datagrams received on `socket` until one satisfies `stop` (true, the
/// ones before it) or `limit` passes (false, all of them).
fn receive_until(
    socket: &UnixDatagram,
    limit: Duration,
    stop: impl Fn(&str) -> bool,
) -> (bool, Vec<String>) {
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let Ok(n) = socket.recv(&mut buf) else { break };
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        if stop(&msg) {
            return (true, seen);
        }
        seen.push(msg);
    }
    (false, seen)
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ready_after_registration_watchdog_per_poll_priorities_on_the_journal_stream() {
    // snmpd's socket path is fixed by its rig; stop it so the agent starts
    // with no master.
    let mut snmpd = Snmpd::start(AgentxListen::Unix);
    snmpd.kill();

    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    let config = dir.path().join("config.toml");
    fs::write(
        &config,
        format!(
            "master = \"{}\"\npoll_interval_secs = 1\nping_interval_secs = 1\n",
            snmpd.master
        ),
    )
    .unwrap();
    let stderr_path = dir.path().join("stderr");
    let stderr = fs::File::create(&stderr_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let mut agent = Agent(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&config)
            .env("NOTIFY_SOCKET", &notify_path)
            // 2 s: shorter than three 1 s intervals, so the agent asks for 3 s.
            .env("WATCHDOG_USEC", "2000000")
            .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("vti-agentx runs"),
    );

    // No master: polls (watchdog pings) but never READY.
    let before = messages_within(&notify, Duration::from_secs(4));
    println!("notify socket, no master for 4 s: {before:?}");
    let log = || fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        !before.iter().any(|m| m == "READY=1"),
        "READY=1 without a master: {before:?}\n{}",
        log()
    );
    assert!(
        before.iter().any(|m| m == "WATCHDOG_USEC=3000000"),
        "watchdog timeout not raised to three intervals: {before:?}"
    );
    assert!(
        before.iter().filter(|m| *m == "WATCHDOG=1").count() >= 2,
        "no watchdog ping per poll: {before:?}\n{}",
        log()
    );

    // The master comes: READY=1 once the subtree is registered, not before.
    snmpd.start_again();
    let (ready, seen) = wait_for(&notify, "READY=1", Duration::from_secs(10));
    assert!(ready, "no READY=1 after snmpd started: {seen:?}\n{}", log());
    println!("after snmpd started: {seen:?} then READY=1");
    let served = parse(&snmpd.getnext(&[ROOT]));
    assert!(
        served
            .first()
            .is_some_and(|v| v.oid.starts_with(&format!("{ROOT}."))),
        "READY=1 sent but {ROOT} not served: {served:?}"
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    unsafe { libc::kill(agent.0.id() as i32, libc::SIGTERM) };
    let (stopping, seen) = wait_for(&notify, "STOPPING=1", Duration::from_secs(5));
    assert!(stopping, "no STOPPING=1 on SIGTERM: {seen:?}");
    let status = agent.0.wait().unwrap();
    assert!(status.success(), "exit {status:?}\n{}", log());

    // Every line carries its priority; the registration warning is <4>.
    let text = log();
    println!("stderr (JOURNAL_STREAM = its device:inode):\n{text}");
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            ["<3>", "<4>", "<6>", "<7>"]
                .iter()
                .any(|p| line.starts_with(p)),
            "line without a priority prefix: {line:?}\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("<4>") && l.contains("cannot register with master")),
        "no <4> warning for the missing master:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("<6>") && l.contains("registered")),
        "no <6> registration line:\n{text}"
    );
}

#[test]
fn no_prefixes_when_stderr_is_not_the_journal_stream() {
    let dir = tempfile::tempdir().unwrap();
    let stderr_path = dir.path().join("stderr");
    let stderr = fs::File::create(&stderr_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let config = dir.path().join("config.toml");
    // A master that is never there: the agent warns, then is stopped.
    let absent = dir.path().join("absent");
    fs::write(&config, format!("master = \"unix:{}\"\n", absent.display())).unwrap();
    let mut agent = Agent(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&config)
            // Inherited from a service whose stderr was redirected: another inode.
            .env(
                "JOURNAL_STREAM",
                format!("{}:{}", meta.dev(), meta.ino() + 1),
            )
            .env_remove("NOTIFY_SOCKET")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("vti-agentx runs"),
    );
    let warned = wait_until(Duration::from_secs(10), || {
        fs::read_to_string(&stderr_path)
            .unwrap_or_default()
            .contains("cannot register")
    });
    unsafe { libc::kill(agent.0.id() as i32, libc::SIGTERM) };
    let _ = agent.0.wait();
    let text = fs::read_to_string(&stderr_path).unwrap();
    assert!(warned, "{text}");
    assert!(
        text.lines().all(|l| !l.starts_with('<')),
        "prefixes on a stream that is not the journal:\n{text}"
    );
}
