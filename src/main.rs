//! `vti-agentx`: command line.
//!
//! Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use vti_agentx::agent::{self, Settings};
use vti_agentx::collect::ike::state_file::{self, AgentFailures};
use vti_agentx::collect::{CollectorOptions, NetlinkCollector};
use vti_agentx::config::{Config, DEFAULT_PATH};
use vti_agentx::mib::text::rerooted;
use vti_agentx::oid::Oid;
use vti_agentx::{logging, show};

#[derive(Parser)]
#[command(
    name = "vti-agentx",
    version,
    about = "AgentX subagent for net-snmp: classified and diagnosed TX errors and SA health \
             of Linux IPsec tunnel interfaces (vti, vti6, xfrm)",
    long_about = None,
    after_help = "Serves IPSEC-VTI-MIB through snmpd (which needs \"master agentx\"). \
                  See `vti-agentx mib` for the MIB and the README for the meaning of each \
                  TX error on each interface kind."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the subagent: poll the kernel, serve the MIB, send notifications.
    Run {
        /// Config file [default: /etc/vti-agentx/config.toml if it exists].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// AgentX master address, overriding the config.
        #[arg(long, value_name = "unix:PATH|tcp:HOST:PORT")]
        master: Option<String>,
        /// Poll interval in seconds (1..3600), overriding the config.
        #[arg(long, value_name = "SECS")]
        interval: Option<u32>,
    },
    /// Print the tunnels, their classified TX errors, diagnosis and SAs.
    Show {
        /// Machine-readable JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Seconds between the two kernel readings whose difference is
        /// diagnosed (0 = one reading, no diagnosis).
        #[arg(long, value_name = "SECS", default_value_t = 2)]
        wait: u64,
        /// Config file (for the OID root and log level).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Validate a config file; errors are printed as FILE:LINE:COLUMN: message.
    CheckConfig {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print IPSEC-VTI-MIB, placed at the configured or given root.
    Mib {
        /// Numeric OID to place the module at [default: netSnmpPlaypen.2741].
        #[arg(long, value_name = "OID")]
        root: Option<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            master,
            interval,
        } => run(config.as_deref(), master, interval),
        Command::Show { json, wait, config } => show(config.as_deref(), json, wait),
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(_) => {
                println!("{}: OK", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => usage_error(e),
        },
        Command::Mib { root, config } => mib(root, config.as_deref()),
    }
}

fn usage_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("vti-agentx: {e}");
    ExitCode::from(2)
}

/// `--config FILE` must exist; the default path is optional.
fn load_config(path: Option<&Path>) -> Result<Config, ExitCode> {
    match path {
        Some(p) => Config::load(p).map_err(usage_error),
        None if Path::new(DEFAULT_PATH).exists() => Config::load(DEFAULT_PATH).map_err(usage_error),
        None => Ok(Config::default()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    // One thread: the agent is I/O-bound, and a single thread keeps its
    // CPU and memory footprint small on a router.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn run(config: Option<&Path>, master: Option<String>, interval: Option<u32>) -> ExitCode {
    let mut cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(m) = master {
        cfg.master = m;
    }
    if let Some(i) = interval {
        if !(1..=3600).contains(&i) {
            return usage_error(format!("--interval {i}: must be 1..3600 seconds"));
        }
        cfg.poll_interval_secs = i;
    }
    let settings = match Settings::from_config(&cfg) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    logging::init(&cfg.log_level);
    agent::limit_heap_retention();
    let result = runtime().block_on(async {
        let collector = NetlinkCollector::new(CollectorOptions::default());
        agent::run(settings, collector, config.map(Path::to_path_buf)).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vti-agentx: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn show(config: Option<&Path>, json: bool, wait: u64) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    logging::init(if cfg.log_level == "info" {
        "warn"
    } else {
        &cfg.log_level
    });
    let result = runtime().block_on(async {
        let collector = NetlinkCollector::new(CollectorOptions::default());
        agent::snapshot_once(collector, &cfg, Duration::from_secs(wait)).await
    });
    match result {
        Ok(mut served) => {
            let from_agent = cfg
                .ike
                .enabled
                .then(|| agent_failures(&cfg.ike.state_file))
                .flatten()
                .map(|agent| {
                    show::merge_agent_failures(
                        std::sync::Arc::make_mut(&mut served.snapshot),
                        &agent,
                        &cfg.ike.state_file,
                    )
                });
            if json {
                println!(
                    "{}",
                    show::json(&served.snapshot, &served.alarms, from_agent.as_ref())
                );
            } else {
                print!("{}", show::human(&served.snapshot, from_agent.as_ref()));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vti-agentx: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The running agent's last IKE failures; none (silently) without the
/// file, none with one warning when it cannot be read.
fn agent_failures(path: &Path) -> Option<AgentFailures> {
    match state_file::read(path) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(path = %path.display(), "ignoring the IKE failure state file: {e}");
            None
        }
    }
}

fn mib(root: Option<String>, config: Option<&Path>) -> ExitCode {
    let root: Oid = match root {
        Some(r) => match r.parse() {
            Ok(oid) => oid,
            Err(e) => return usage_error(format!("--root {r:?}: {e}")),
        },
        None => match load_config(config) {
            Ok(c) => c.oid_root,
            Err(code) => return code,
        },
    };
    match rerooted(&root) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(format!("--root {root}: {e}")),
    }
}
