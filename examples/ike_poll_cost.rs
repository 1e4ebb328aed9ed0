//! CPU of one IKE poll (`IkeSource::poll`: list-conns + list-sas over VICI)
//! against one `swanctl --list-sas` on the same charon, rounds interleaved.
//!
//! ```sh
//! ike_poll_cost --socket unix:PATH [--rounds 7] [--charon-pid PID]...
//! ```
//!
//! Per round: one poll in this process (user+sys from `getrusage(SELF)`
//! around the call), then one `swanctl --list-sas --uri …` with its output
//! to /dev/null (user+sys of that child from `getrusage(CHILDREN)`, the whole process,
//! start-up included). Each listed charon's user+sys (from /proc/PID/stat)
//! is read around both. Prints one line per round and the medians; used by
//! `bench/ike_poll.sh`.

use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use vti_agentx::collect::ike::{IkeOptions, IkeSource};
use vti_agentx::vici::Endpoint;

#[derive(Parser)]
struct Args {
    /// charon's VICI socket (unix:PATH; swanctl gets the same path).
    #[arg(long, value_parser = parse_endpoint)]
    socket: Endpoint,
    /// Interleaved rounds (poll, swanctl).
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// charon processes whose CPU is reported per operation.
    #[arg(long = "charon-pid")]
    charon_pids: Vec<u32>,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    s.parse()
}

fn tv_us(tv: libc::timeval) -> u64 {
    tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64
}

/// user+sys of this process, µs.
fn self_cpu_us() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the zeroed struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    tv_us(ru.ru_utime) + tv_us(ru.ru_stime)
}

/// user+sys of a process from /proc/PID/stat, µs (clock-tick resolution).
fn proc_cpu_us(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * 1_000_000 / hz
}

fn charons_cpu(pids: &[u32]) -> Vec<u64> {
    pids.iter().map(|&p| proc_cpu_us(p)).collect()
}

fn delta(after: &[u64], before: &[u64]) -> Vec<u64> {
    after.iter().zip(before).map(|(a, b)| a - b).collect()
}

/// user+sys of this process's reaped children, µs.
fn children_cpu_us() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the zeroed struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    tv_us(ru.ru_utime) + tv_us(ru.ru_stime)
}

/// Runs swanctl --list-sas to /dev/null; its user+sys, µs (the only child
/// this process ever starts, so the RUSAGE_CHILDREN delta is swanctl's).
fn swanctl_cpu_us(uri: &str) -> u64 {
    let before = children_cpu_us();
    let status = Command::new("swanctl")
        .args(["--list-sas", "--uri", uri])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("swanctl starts");
    assert!(status.success(), "swanctl --list-sas failed: {status}");
    children_cpu_us() - before
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let uri = match &args.socket {
        Endpoint::Unix(path) => format!("unix://{}", path.display()),
        other => panic!("swanctl needs a unix socket here, not {other:?}"),
    };
    let mut source = IkeSource::new(IkeOptions {
        endpoint: args.socket.clone(),
        timeout: Duration::from_secs(30),
        ..IkeOptions::default()
    });
    // Warm-up: connect, first allocation of the buffers, event registration.
    let warm = source.poll().await;
    assert!(warm.available, "charon not reachable: {warm:?}");
    let child_sas: usize = warm.ike_sas.iter().map(|sa| sa.children.len()).sum();
    println!(
        "sample: {} connections, {} IKE SAs ({} established), {} CHILD SAs",
        warm.connections.len(),
        warm.ike_sas.len(),
        warm.ike_sas
            .iter()
            .filter(|sa| sa.state == "ESTABLISHED")
            .count(),
        child_sas
    );
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let n = args.charon_pids.len();
    let (mut charon_ours, mut charon_theirs) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    for round in 1..=args.rounds {
        let c0 = charons_cpu(&args.charon_pids);
        let t0 = self_cpu_us();
        let sample = source.poll().await;
        let ours_us = self_cpu_us() - t0;
        let c1 = charons_cpu(&args.charon_pids);
        assert!(sample.available, "poll failed in round {round}");
        let theirs_us = swanctl_cpu_us(&uri);
        let c2 = charons_cpu(&args.charon_pids);
        let (d_ours, d_theirs) = (delta(&c1, &c0), delta(&c2, &c1));
        println!(
            "round {round}: poll {ours_us} us ({} SAs)  swanctl {theirs_us} us  ratio {:.3}  charon during poll {d_ours:?} us  during swanctl {d_theirs:?} us",
            sample.ike_sas.len(),
            ours_us as f64 / theirs_us.max(1) as f64,
        );
        for i in 0..n {
            charon_ours[i].push(d_ours[i]);
            charon_theirs[i].push(d_theirs[i]);
        }
        ratios.push((ours_us * 1000) / theirs_us.max(1));
        ours.push(ours_us);
        theirs.push(theirs_us);
    }
    let (m_ours, m_theirs) = (median(ours), median(theirs));
    println!(
        "median: poll {m_ours} us  swanctl {m_theirs} us  ratio of medians {:.3}  median of ratios {:.3}",
        m_ours as f64 / m_theirs.max(1) as f64,
        median(ratios) as f64 / 1000.0
    );
    for i in 0..n {
        println!(
            "charon pid {}: median {} us during poll, {} us during swanctl",
            args.charon_pids[i],
            median(charon_ours[i].clone()),
            median(charon_theirs[i].clone())
        );
    }
}
