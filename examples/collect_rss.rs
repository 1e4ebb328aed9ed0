//! Where the running agent's memory goes (issue 7): polls the real kernel
//! with `NetlinkCollector` and prints, after every poll, VmRSS / VmHWM /
//! RssAnon from /proc/self/status and glibc's heap accounting (mallinfo2:
//! bytes in use, bytes free but kept, bytes in mmapped chunks).
//!
//!     collect_rss [--polls N] [--interval SECS] [--pipeline] [--no-mallopt] [--trim]
//!
//! Default: the collector alone, the last `Sample` kept (as the agent keeps
//! its data between polls). `--pipeline`: the agent's poller on top
//! (`Poller::poll_once`: classify, alarms, snapshot, MIB index), the last
//! snapshot kept — `vti-agentx run` without the AgentX session.
//! `--no-mallopt`: without `agent::limit_heap_retention()`. `--trim`:
//! `heap::release_free()` (glibc `malloc_trim(0)`) after every poll, as
//! `vti-agentx run`'s poll loop does; without it, how much of the RSS is
//! freed-but-kept heap.
//! Prints no key material (the collector never keeps any).

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use vti_agentx::collect::{CollectorOptions, NetlinkCollector};
use vti_agentx::mib::oids::DEFAULT_ROOT;
use vti_agentx::mib::{MibIndex, SharedIndex};
use vti_agentx::model::{Availability, SampleSource, SecurityAssociation, Tunnel};
use vti_agentx::oid::Oid;
use vti_agentx::poller::Poller;

fn status() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let mi = unsafe { libc::mallinfo2() };
    format!(
        "rss_kb={} hwm_kb={} anon_kb={} heap_in_use_kb={} heap_free_kb={} mmapped_kb={} arena_kb={}",
        kb("VmRSS:"),
        kb("VmHWM:"),
        kb("RssAnon:"),
        mi.uordblks / 1024,
        mi.fordblks / 1024,
        mi.hblkhd / 1024,
        mi.arena / 1024,
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let polls = value("--polls", 5);
    let interval = Duration::from_secs(value("--interval", 2));
    let pipeline = args.iter().any(|a| a == "--pipeline");
    let trim = || {
        if args.iter().any(|a| a == "--trim") {
            vti_agentx::heap::release_free();
        }
    };
    if !args.iter().any(|a| a == "--no-mallopt") {
        vti_agentx::agent::limit_heap_retention();
    }
    println!(
        "mode={} size_of Tunnel={} SecurityAssociation={} start {}",
        if pipeline { "pipeline" } else { "collector" },
        std::mem::size_of::<Tunnel>(),
        std::mem::size_of::<SecurityAssociation>(),
        status()
    );
    let collector = NetlinkCollector::new(CollectorOptions::default());
    if pipeline {
        let root = Oid::from_slice(DEFAULT_ROOT);
        let index: SharedIndex = Arc::new(ArcSwap::from_pointee(MibIndex::empty(root.clone())));
        let mut poller = Poller::new(collector, index, root, interval);
        let mut kept = None;
        for i in 1..=polls {
            let snapshot = poller.poll_once().await?.snapshot;
            let (tunnels, sas) = (snapshot.tunnels.len(), snapshot.sas.len());
            kept = Some(snapshot);
            trim();
            println!("poll={i} tunnels={tunnels} sas={sas} {}", status());
            tokio::time::sleep(interval).await;
        }
        drop(kept);
    } else {
        let mut collector = collector;
        let mut kept = None;
        for i in 1..=polls {
            let sample = collector.collect().await?;
            let sas = match &sample.sas {
                Availability::Available(s) => s.len(),
                Availability::Unavailable(_) => 0,
            };
            let tunnels = sample.tunnels.len();
            kept = Some(sample);
            trim();
            println!("poll={i} tunnels={tunnels} sas={sas} {}", status());
            tokio::time::sleep(interval).await;
        }
        drop(kept);
    }
    println!("end {}", status());
    Ok(())
}
