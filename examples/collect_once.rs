//! Runs one `NetlinkCollector` poll and prints the Sample as JSON on stdout
//! (warnings go to stderr). Used to compare against iproute2 in the lab:
//!
//!     collect_once            # one poll
//!     collect_once --polls 2  # two polls on the same sockets, prints the last
//!
//! The output has no key material: the collector never keeps any.

use std::time::UNIX_EPOCH;

use serde_json::json;
use vti_agentx::classify::mapping;
use vti_agentx::collect::{CollectorOptions, NetlinkCollector};
use vti_agentx::model::{Availability, SampleSource};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().collect();
    let polls: usize = match args.iter().position(|a| a == "--polls") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1),
        None => 1,
    };

    let mut collector = NetlinkCollector::new(CollectorOptions::default());
    let mut sample = collector.collect().await?;
    for _ in 1..polls {
        sample = collector.collect().await?;
    }

    let sa_tunnels = match &sample.sas {
        Availability::Available(sas) => json!(mapping::map_sas(&sample.tunnels, sas)),
        Availability::Unavailable(_) => json!(null),
    };
    let tunnel_policies: Vec<_> = match &sample.policies {
        Availability::Available(pols) => sample
            .tunnels
            .iter()
            .map(|t| {
                let p = mapping::tunnel_policies(t, pols);
                json!({
                    "ifindex": t.ifindex,
                    "out_policy_index": p.out.map(|i| pols[i].index),
                    "in_policy_index": p.inbound.map(|i| pols[i].index),
                })
            })
            .collect(),
        Availability::Unavailable(_) => Vec::new(),
    };
    let out = json!({
        "kernel_release": sample.kernel_release,
        "wall_time": sample.wall_time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "tunnels": sample.tunnels,
        "sas": sample.sas,
        "policies": sample.policies,
        "xfrm_stat": sample.xfrm_stat,
        "mapping": { "sa_tunnel_ifindex": sa_tunnels, "tunnel_policies": tunnel_policies },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
