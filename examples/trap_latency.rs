//! Trap latency bench (issue 5): how long from a tunnel's error counter
//! moving to the vtiTxErrorRising line appearing in snmptrapd's log.
//!
//! Not a test. Run it with `bench/trap_latency.sh` (or
//! `cargo run --release --example trap_latency -- [--events N] [--interval SECS]`).
//! Needs net-snmp's `snmpd`, `snmptrapd` and `snmpget` (Debian packages
//! snmpd, snmptrapd, snmp); uses only loopback and temp dirs.
//!
//! Set-up: the same rig as tests/traps.rs — a private snmptrapd (log file),
//! a private snmpd with `trap2sink` to it, and the agent in-process with a
//! fixture data source (poll interval `--interval`, default 1 s; carrier
//! alarm over one poll interval, rising 1, falling 0, no hold-down).
//!
//! Each event: at a random moment within the poll cycle, add carrier errors
//! to the fixture (t0); the next poll reads them (t1, recorded by the
//! fixture's collect hook); the test tails snmptrapd's log every 1 ms until
//! the rising trap's line is there (t2). Then it waits for the falling trap
//! that re-arms the alarm and goes again.
//!
//! Printed: the median (and min/max) of the total t2 − t0, of the wait for
//! the poll t1 − t0 (uniform over 0..interval by design), and of the
//! pipeline t1 − t2 (engine → AgentX Notify → snmpd → UDP → snmptrapd →
//! log file); the headline is "poll interval + X ms" with X the median
//! pipeline time: the counter→trap latency is at most the poll interval
//! plus X (typically).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::agent::InProcessAgent;
use common::fixture::{three_tunnels, FixtureSource};
use common::trapd::{parse_log, Snmptrapd};
use common::{wait_until, AgentxListen, Snmpd, ROOT};
use vti_agentx::alarm::config::Threshold;

const VTI1: u32 = 11;

#[derive(Default)]
struct Marks {
    changed_at: Option<Instant>,
    polled_at: Option<Instant>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(name: &str, v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    let med = median(&mut s);
    println!(
        "  {name:<34} median {med:8.1} ms   min {:8.1}   max {:8.1}",
        s[0],
        s[s.len() - 1]
    );
    med
}

fn main() {
    let mut events = 12usize;
    let mut interval = 1u32;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--events" => events = args[i + 1].parse().expect("--events N"),
            "--interval" => interval = args[i + 1].parse().expect("--interval SECS"),
            other => panic!("unknown argument {other}; use --events N --interval SECS"),
        }
        i += 2;
    }
    assert!(events >= 1 && interval >= 1);

    let trapd = Snmptrapd::start();
    let snmpd = Snmpd::start_with(AgentxListen::Unix, &[trapd.sink_line()]);
    let source = FixtureSource::new(three_tunnels());
    let marks = Arc::new(Mutex::new(Marks::default()));
    let hook_marks = marks.clone();
    source.on_collect(move |_, _| {
        let mut m = hook_marks.lock().unwrap();
        if m.changed_at.is_some() && m.polled_at.is_none() {
            m.polled_at = Some(Instant::now());
        }
    });
    let _agent = InProcessAgent::start_with(&snmpd.master, source.clone(), |cfg| {
        cfg.poll_interval_secs = interval;
        cfg.alarms.hold_down_secs = 0;
        cfg.alarms.categories.carrier = Threshold {
            enabled: true,
            interval_secs: interval,
            rising: 1,
            falling: 0,
        };
    });
    let registered = wait_until(Duration::from_secs(15), || {
        common::parse(&snmpd.get(&[&format!("{ROOT}.1.1.1.0")]))
            .iter()
            .any(|v| v.kind == "Gauge32")
    });
    assert!(registered, "the agent did not register with snmpd");
    let rising = format!("{ROOT}.0.1");
    let falling = format!("{ROOT}.0.2");
    let count = |oid: &str| {
        parse_log(&trapd.log())
            .iter()
            .filter(|t| t.trap_oid() == oid)
            .count()
    };
    // A baseline poll.
    let first = source.collects();
    assert!(wait_until(Duration::from_secs(10), || source.collects() > first));

    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut rand_ms = |max: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % max
    };
    let log_path = trapd.log_path();
    let (mut total, mut wait_poll, mut pipeline) = (Vec::new(), Vec::new(), Vec::new());
    println!(
        "trap latency: {events} events, poll interval {interval} s, snmpd {} → snmptrapd {}",
        snmpd.master, trapd.port
    );
    for n in 0..events {
        std::thread::sleep(Duration::from_millis(rand_ms(u64::from(interval) * 1000)));
        *marks.lock().unwrap() = Marks::default();
        let before = count(&rising);
        let t0 = Instant::now();
        marks.lock().unwrap().changed_at = Some(t0);
        source.update(|d| d.add_carrier_errors(VTI1, 3));
        // Tail the log: only re-parse when it grew.
        let deadline = t0 + Duration::from_secs(u64::from(interval) * 3 + 10);
        let mut size = 0;
        let t2 = loop {
            let now = Instant::now();
            assert!(now < deadline, "no vtiTxErrorRising for event {n}");
            let len = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
            if len != size {
                size = len;
                if count(&rising) > before {
                    break now;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let t1 = marks
            .lock()
            .unwrap()
            .polled_at
            .expect("the poll that read the change");
        total.push(ms(t2 - t0));
        wait_poll.push(ms(t1 - t0));
        pipeline.push(ms(t2 - t1));
        println!(
            "  event {:>2}: {:7.1} ms = wait for poll {:7.1} + poll → trap line {:6.1}",
            n + 1,
            ms(t2 - t0),
            ms(t1 - t0),
            ms(t2 - t1)
        );
        // Re-arm: the falling trap follows once the window is quiet.
        let fallen = count(&falling);
        assert!(
            wait_until(Duration::from_secs(u64::from(interval) * 3 + 10), || {
                count(&falling) > fallen
            }),
            "no vtiTxErrorFalling after event {n}"
        );
    }
    println!("summary over {events} events:");
    stats("counter moved → trap line", &total);
    stats("counter moved → next poll", &wait_poll);
    let x = stats("poll → trap line in snmptrapd log", &pipeline);
    println!(
        "trap latency: poll interval + {x:.1} ms (median; the wait for the poll is uniform over \
         0..{interval} s)"
    );
}
