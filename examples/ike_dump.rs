//! Prints charon's IKE view (`IkeSample`) as JSON: the same data the agent
//! collects per poll.
//!
//! ```sh
//! ike_dump [--socket unix:PATH|tcp:HOST:PORT] [--watch SECS]
//! ```
//!
//! Once by default. With `--watch SECS` it keeps the event connection open
//! for SECS seconds and prints the sample again at the end, so failures that
//! happened meanwhile show with their reason. Exit status 1 when charon
//! could not be reached (the JSON still says why).

use std::time::Duration;

use clap::Parser;
use vti_agentx::collect::ike::{IkeOptions, IkeSource};
use vti_agentx::vici::Endpoint;

#[derive(Parser)]
#[command(about = "Print charon's IKE view (list-conns, list-sas, last failures) as JSON")]
struct Args {
    /// charon's VICI socket.
    #[arg(long, default_value = "unix:/var/run/charon.vici", value_parser = parse_endpoint)]
    socket: Endpoint,
    /// Follow events for SECS seconds, then print again.
    #[arg(long, value_name = "SECS")]
    watch: Option<u64>,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    s.parse()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut source = IkeSource::new(IkeOptions {
        endpoint: args.socket,
        ..IkeOptions::default()
    });
    let mut sample = source.poll().await;
    print(&sample);
    if let Some(secs) = args.watch {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        sample = source.poll().await;
        print(&sample);
    }
    if !sample.available {
        std::process::exit(1);
    }
}

fn print(sample: &vti_agentx::collect::ike::IkeSample) {
    println!(
        "{}",
        serde_json::to_string_pretty(sample).expect("an IkeSample serialises")
    );
}
