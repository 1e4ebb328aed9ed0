//! The systemd service protocol (sd_notify(3)) for `Type=notify`, without
//! libsystemd: one datagram per state change to the socket in
//! `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
//!
//! - `READY=1` once the first AgentX registration succeeded: the unit is
//!   active only when the subtree is actually served.
//! - `WATCHDOG=1` whenever a poll completes, when systemd
//!   asked for it (`$WATCHDOG_USEC`, for this process if `$WATCHDOG_PID` is
//!   set): a poll loop that stops producing data gets the unit restarted.
//!   A poll interval too long for the unit's WatchdogSec would get a healthy
//!   agent killed, so the timeout is raised (`WATCHDOG_USEC=`) to three
//!   intervals whenever the interval (re)loaded needs it.
//! - `STOPPING=1` when shutdown begins.
//!
//! Without `$NOTIFY_SOCKET` (not under systemd, or another `Type=`) nothing
//! is sent and nothing waits. A failed send is logged at debug level: the
//! agent's work never depends on it.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use tokio::sync::watch;

use crate::poller::Reload;

/// How often the first registration is looked for.
const REGISTRATION_CHECK: Duration = Duration::from_millis(100);

/// Sends `state` (e.g. "READY=1") to `$NOTIFY_SOCKET`, if set.
pub fn notify(state: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send(socket.as_encoded_bytes(), state) {
        tracing::debug!("sd_notify {state:?} to {socket:?} failed: {e}");
    }
}

/// One datagram to the notify socket named by `socket` (a path, or '@' for
/// the abstract namespace).
fn send(socket: &[u8], state: &str) -> io::Result<()> {
    let addr = notify_addr(socket)?;
    let sender = UnixDatagram::unbound()?;
    // A full socket buffer must not stall the runtime; the state is then lost.
    sender.set_nonblocking(true)?;
    sender.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

fn notify_addr(socket: &[u8]) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    match socket {
        [b'@', name @ ..] => SocketAddr::from_abstract_name(name),
        [b'/', ..] => SocketAddr::from_pathname(std::ffi::OsStr::from_bytes(socket)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET is neither an absolute path nor an abstract name",
        )),
    }
}

/// The watchdog timeout systemd set for this process, if any.
fn watchdog_from_env() -> Option<Duration> {
    watchdog_interval(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// The watchdog timeout to ask for with poll interval `interval`, when the
/// unit's `configured` one is shorter than three intervals.
fn watchdog_extension(configured: Duration, interval: Duration) -> Option<Duration> {
    let needed = interval * 3;
    (needed > configured).then_some(needed)
}

/// `$WATCHDOG_USEC` when it is for process `pid` (`$WATCHDOG_PID` unset or
/// equal).
fn watchdog_interval(usec: Option<&str>, for_pid: Option<&str>, pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.parse().ok().filter(|&u| u > 0)?;
    match for_pid {
        Some(p) if p.parse::<u32>().ok() != Some(pid) => None,
        _ => Some(Duration::from_micros(usec)),
    }
}

/// Runs for the agent's lifetime (never completes): `READY=1` after the
/// first registration, `WATCHDOG=1` per completed poll, the watchdog
/// timeout fitted to each interval `reloads` carries. Pending at once when
/// not under systemd's notify protocol.
pub async fn supervise(
    registered_once: impl Fn() -> bool,
    mut completed_polls: watch::Receiver<u64>,
    mut reloads: watch::Receiver<Reload>,
) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return std::future::pending().await;
    }
    let ready = async {
        while !registered_once() {
            tokio::time::sleep(REGISTRATION_CHECK).await;
        }
        notify("READY=1");
    };
    let Some(configured) = watchdog_from_env() else {
        ready.await;
        return std::future::pending().await;
    };
    let pings = async {
        while completed_polls.changed().await.is_ok() {
            notify("WATCHDOG=1");
        }
    };
    let fit_timeout = async {
        let mut asked = configured;
        loop {
            let interval = reloads.borrow_and_update().interval;
            let wanted = watchdog_extension(configured, interval).unwrap_or(configured);
            if wanted != asked {
                notify(&format!("WATCHDOG_USEC={}", wanted.as_micros()));
                asked = wanted;
            }
            if reloads.changed().await.is_err() {
                break;
            }
        }
    };
    let watchdog = async { tokio::join!(pings, fit_timeout) };
    tokio::join!(ready, watchdog);
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_timeout_covers_three_intervals() {
        let s = Duration::from_secs;
        assert_eq!(watchdog_extension(s(30), s(10)), None);
        assert_eq!(watchdog_extension(s(30), s(5)), None);
        assert_eq!(watchdog_extension(s(30), s(11)), Some(s(33)));
        assert_eq!(watchdog_extension(s(30), s(3600)), Some(s(10800)));
    }

    #[test]
    fn watchdog_only_for_this_process() {
        let five_s = Some(Duration::from_secs(5));
        assert_eq!(watchdog_interval(Some("5000000"), None, 42), five_s);
        assert_eq!(watchdog_interval(Some("5000000"), Some("42"), 42), five_s);
        assert_eq!(watchdog_interval(Some("5000000"), Some("41"), 42), None);
        assert_eq!(watchdog_interval(Some("0"), None, 42), None);
        assert_eq!(watchdog_interval(Some("x"), None, 42), None);
        assert_eq!(watchdog_interval(None, Some("42"), 42), None);
    }

    #[test]
    fn datagrams_reach_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).unwrap();
        send(path.as_os_str().as_encoded_bytes(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("vti-agentx-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let receiver = UnixDatagram::bind_addr(&addr).unwrap();
        send(format!("@{name}").as_bytes(), "STOPPING=1").unwrap();
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");

        assert!(send(b"relative/path", "READY=1").is_err());
        assert!(send(b"", "READY=1").is_err());
    }
}
