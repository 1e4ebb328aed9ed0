//! The configuration file (TOML, [`DEFAULT_PATH`]).
//!
//! Every option has a default, so an empty or absent file is a valid
//! configuration. Unknown keys are errors (a typo must not silently fall
//! back to a default). Every error is one line, `path:line:column: message`,
//! pointing at the offending key or value.
//!
//! `packaging/config.toml` documents every option with its default.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::agentx::transport::MasterAddr;
use crate::alarm::history::DEFAULT_CAPACITY as DEFAULT_HISTORY_SIZE;
use crate::alarm::AlarmConfig;
use crate::collect::ike::IkeOptions;
use crate::mib::oids::DEFAULT_ROOT;
use crate::mib::text::check_root;
use crate::oid::Oid;
use crate::vici::Endpoint;

/// Where the agent looks when no `--config` is given.
pub const DEFAULT_PATH: &str = "/etc/vti-agentx/config.toml";
/// net-snmp's default AgentX socket.
pub const DEFAULT_MASTER: &str = "unix:/var/agentx/master";
pub const DEFAULT_POLL_INTERVAL_SECS: u32 = 10;
pub const DEFAULT_PING_INTERVAL_SECS: u32 = 15;
pub const DEFAULT_DESCRIPTION: &str =
    "vti-agentx: IPsec tunnel (vti, vti6, xfrm) TX error subagent";
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// Allowed range of both intervals, in seconds.
pub const INTERVAL_RANGE: std::ops::RangeInclusive<i64> = 1..=3600;
/// AgentX Open's description is a DisplayString.
pub const MAX_DESCRIPTION_LEN: usize = 255;
pub const LOG_LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The master agent's AgentX address: `unix:/PATH` or `tcp:HOST:PORT`
    /// (syntax checked here; `agentx::transport` interprets it).
    pub master: String,
    /// Where the MIB is served (and where `vti-agentx mib` places it).
    pub oid_root: Oid,
    pub poll_interval_secs: u32,
    /// How often to send AgentX Ping to detect a dead master.
    pub ping_interval_secs: u32,
    /// Sent in the AgentX Open PDU; snmpd shows it in its logs.
    pub description: String,
    /// One of [`LOG_LEVELS`].
    pub log_level: String,
    /// `[alarms]`: thresholds and notifications.
    pub alarms: AlarmConfig,
    /// `[ike]`: the IKE view from charon over VICI.
    pub ike: IkeConfig,
    /// `[events]`: the event history (vtiEventTable).
    pub events: EventsConfig,
}

/// `[ike]`: where charon's VICI socket is and how long a poll of it may
/// take. Without the socket the IKE view is reported unavailable.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IkeConfig {
    pub enabled: bool,
    /// `unix:/PATH` or `tcp:HOST:PORT` (charon's `charon.plugins.vici.socket`).
    pub socket: String,
    /// Bound on one poll of charon (list-conns + list-sas), milliseconds.
    pub timeout_ms: u64,
    /// Where the running agent keeps its last failure per connection for
    /// `show` (see `collect::ike::state_file`).
    pub state_file: std::path::PathBuf,
}

pub const DEFAULT_VICI_SOCKET: &str = "unix:/var/run/charon.vici";
pub const DEFAULT_IKE_TIMEOUT_MS: u64 = 2000;
/// Allowed range of `[ike] timeout_ms`.
pub const IKE_TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 100..=30_000;

impl Default for IkeConfig {
    fn default() -> Self {
        IkeConfig {
            enabled: true,
            socket: DEFAULT_VICI_SOCKET.to_string(),
            timeout_ms: DEFAULT_IKE_TIMEOUT_MS,
            state_file: crate::collect::ike::state_file::DEFAULT_STATE_FILE.into(),
        }
    }
}

impl IkeConfig {
    /// The collect stage's options; `None` when disabled.
    pub fn options(&self) -> Option<IkeOptions> {
        let endpoint: Endpoint = self.socket.parse().ok()?;
        self.enabled.then(|| IkeOptions {
            endpoint,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            ..IkeOptions::default()
        })
    }

    /// The options of the running agent: [`Self::options`] writing the
    /// state file.
    pub fn agent_options(&self) -> Option<IkeOptions> {
        self.options().map(|o| IkeOptions {
            state_file: Some(self.state_file.clone()),
            ..o
        })
    }

    fn validate(&self) -> Result<(), String> {
        if !self.state_file.is_absolute() {
            return Err(format!(
                "ike.state_file: {} is not an absolute path",
                self.state_file.display()
            ));
        }
        self.socket
            .parse::<Endpoint>()
            .map_err(|e| format!("ike.socket: {e}"))?;
        if !IKE_TIMEOUT_RANGE.contains(&self.timeout_ms) {
            return Err(format!(
                "ike.timeout_ms: {} is outside {}..={}",
                self.timeout_ms,
                IKE_TIMEOUT_RANGE.start(),
                IKE_TIMEOUT_RANGE.end()
            ));
        }
        Ok(())
    }
}

/// `[events]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Rows kept in vtiEventTable; the oldest goes when a new one comes.
    pub history_size: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            history_size: DEFAULT_HISTORY_SIZE,
        }
    }
}

/// Allowed range of `[events] history_size`.
pub const HISTORY_SIZE_RANGE: std::ops::RangeInclusive<usize> = 1..=100_000;

impl Default for Config {
    fn default() -> Self {
        Config {
            master: DEFAULT_MASTER.to_string(),
            oid_root: Oid::from_slice(DEFAULT_ROOT),
            poll_interval_secs: DEFAULT_POLL_INTERVAL_SECS,
            ping_interval_secs: DEFAULT_PING_INTERVAL_SECS,
            description: DEFAULT_DESCRIPTION.to_string(),
            log_level: DEFAULT_LOG_LEVEL.to_string(),
            alarms: AlarmConfig::default(),
            ike: IkeConfig::default(),
            events: EventsConfig::default(),
        }
    }
}

/// A configuration error; its `Display` is one line.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Syntax, type, unknown key or invalid value. `location` is the
    /// 1-based (line, column) of the key or value, when known.
    Invalid {
        path: PathBuf,
        location: Option<(usize, usize)>,
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, source } => {
                write!(f, "{}: cannot read: {source}", path.display())
            }
            ConfigError::Invalid {
                path,
                location: Some((line, column)),
                message,
            } => write!(f, "{}:{line}:{column}: {message}", path.display()),
            ConfigError::Invalid {
                path,
                location: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            ConfigError::Invalid { .. } => None,
        }
    }
}

/// The file as written, with the position of every value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    master: Option<Spanned<String>>,
    oid_root: Option<Spanned<String>>,
    // Signed, so that a negative number is reported as out of range
    // rather than as a type error.
    poll_interval_secs: Option<Spanned<i64>>,
    ping_interval_secs: Option<Spanned<i64>>,
    description: Option<Spanned<String>>,
    log_level: Option<Spanned<String>>,
    alarms: Option<Spanned<AlarmConfig>>,
    ike: Option<Spanned<IkeConfig>>,
    events: Option<Spanned<EventsConfig>>,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text`; `path` is only used in error messages.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let invalid = |span: Option<Range<usize>>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            location: span.map(|s| line_column(text, s.start)),
            message: one_line(&message),
        };

        let raw: RawConfig = toml::from_str(text).map_err(|e: toml::de::Error| {
            invalid(e.span(), toml_message(text, e.span(), e.message()))
        })?;
        let mut config = Config::default();

        if let Some(v) = raw.master {
            check_master(v.get_ref())
                .map_err(|m| invalid(Some(v.span()), format!("master: {m}")))?;
            config.master = v.into_inner();
        }
        if let Some(v) = raw.oid_root {
            let oid: Oid = v.get_ref().parse().map_err(|e| {
                invalid(
                    Some(v.span()),
                    format!("oid_root: {:?} is not a numeric OID: {e}", v.get_ref()),
                )
            })?;
            check_root(&oid).map_err(|e| invalid(Some(v.span()), format!("oid_root: {e}")))?;
            config.oid_root = oid;
        }
        if let Some(v) = raw.poll_interval_secs {
            config.poll_interval_secs = interval(&v)
                .map_err(|m| invalid(Some(v.span()), format!("poll_interval_secs: {m}")))?;
        }
        if let Some(v) = raw.ping_interval_secs {
            config.ping_interval_secs = interval(&v)
                .map_err(|m| invalid(Some(v.span()), format!("ping_interval_secs: {m}")))?;
        }
        if let Some(v) = raw.description {
            let d = v.get_ref();
            if d.len() > MAX_DESCRIPTION_LEN {
                return Err(invalid(
                    Some(v.span()),
                    format!(
                        "description: {} bytes long, at most {MAX_DESCRIPTION_LEN} allowed",
                        d.len()
                    ),
                ));
            }
            if d.chars().any(char::is_control) {
                return Err(invalid(
                    Some(v.span()),
                    "description: must not contain control characters (e.g. newlines)".into(),
                ));
            }
            config.description = v.into_inner();
        }
        if let Some(v) = raw.log_level {
            let level = v.get_ref().to_ascii_lowercase();
            if !LOG_LEVELS.contains(&level.as_str()) {
                return Err(invalid(
                    Some(v.span()),
                    format!(
                        "log_level: {:?} is not one of {}",
                        v.get_ref(),
                        LOG_LEVELS.join(", ")
                    ),
                ));
            }
            config.log_level = level;
        }
        if let Some(v) = raw.alarms {
            let span = v.span();
            let alarms = v.into_inner();
            alarms.validate().map_err(|m| invalid(Some(span), m))?;
            config.alarms = alarms;
        }
        if let Some(v) = raw.ike {
            let span = v.span();
            let ike = v.into_inner();
            ike.validate().map_err(|m| invalid(Some(span), m))?;
            config.ike = ike;
        }
        if let Some(v) = raw.events {
            let span = v.span();
            let events = v.into_inner();
            if !HISTORY_SIZE_RANGE.contains(&events.history_size) {
                return Err(invalid(
                    Some(span),
                    format!(
                        "events.history_size: {} is out of range {}..={}",
                        events.history_size,
                        HISTORY_SIZE_RANGE.start(),
                        HISTORY_SIZE_RANGE.end()
                    ),
                ));
            }
            config.events = events;
        }
        Ok(config)
    }
}

fn interval(v: &Spanned<i64>) -> Result<u32, String> {
    let n = *v.get_ref();
    if INTERVAL_RANGE.contains(&n) {
        Ok(n as u32)
    } else {
        Err(format!(
            "{n} is out of range {}..={} (seconds)",
            INTERVAL_RANGE.start(),
            INTERVAL_RANGE.end()
        ))
    }
}

/// `unix:/PATH`, `/PATH` or `tcp:HOST:PORT` (HOST may be `[v6addr]`): the
/// transport's own parser, so what the config accepts is what connects.
fn check_master(s: &str) -> Result<(), String> {
    s.parse::<MasterAddr>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// toml's message, in our words where its own are about Rust types, and
/// naming the key when it is about a value.
fn toml_message(text: &str, span: Option<Range<usize>>, message: &str) -> String {
    let message = message.replace("expected i64", "expected an integer");
    if !message.starts_with("invalid type") && !message.starts_with("invalid value") {
        return message;
    }
    // `key = value` on the error's line, the span being the value.
    let key = span.and_then(|s| {
        let start = s.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let (key, _) = text.get(line_start..start)?.split_once('=')?;
        let key = key.trim();
        (!key.is_empty()).then(|| key.to_string())
    });
    match key {
        Some(k) => format!("{k}: {message}"),
        None => message,
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGED: &str = include_str!("../packaging/config.toml");

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "/etc/vti-agentx/config.toml")
    }

    fn err(text: &str) -> String {
        let e = parse(text).expect_err("should be rejected").to_string();
        assert!(!e.contains('\n'), "not one line: {e}");
        e
    }

    #[test]
    fn events_history_size_is_checked() {
        assert_eq!(
            parse("[events]\nhistory_size = 3\n")
                .unwrap()
                .events
                .history_size,
            3
        );
        let e = err("[events]\nhistory_size = 0\n");
        assert!(e.contains("events.history_size"), "{e}");
        let e = err("[events]\nsize = 3\n");
        assert!(e.contains("size"), "{e}");
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.master, "unix:/var/agentx/master");
        assert_eq!(c.oid_root.as_slice(), DEFAULT_ROOT);
        assert_eq!(c.poll_interval_secs, 10);
        assert_eq!(c.ping_interval_secs, 15);
        assert_eq!(c.log_level, "info");
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
            master = "tcp:127.0.0.1:705"
            oid_root = ".1.3.6.1.4.1.99999.1"
            poll_interval_secs = 30
            ping_interval_secs = 60
            description = "edge router tunnels"
            log_level = "DEBUG"
            "#,
        )
        .unwrap();
        assert_eq!(
            c,
            Config {
                master: "tcp:127.0.0.1:705".into(),
                oid_root: "1.3.6.1.4.1.99999.1".parse().unwrap(),
                poll_interval_secs: 30,
                ping_interval_secs: 60,
                description: "edge router tunnels".into(),
                log_level: "debug".into(),
                alarms: AlarmConfig::default(),
                ike: IkeConfig::default(),
                events: EventsConfig::default(),
            }
        );
    }

    #[test]
    fn alarm_errors_point_at_the_alarms_table() {
        let text = "poll_interval_secs = 5\n[alarms.categories.carrier]\nenabled = true\n\
                    interval_secs = 60\nrising = 1\nfalling = 4\n";
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains("alarms.categories.carrier"), "{e}");
        assert!(e.contains(":2:"), "line of the [alarms] table: {e}");
        let e = parse("[alarms]\nhold_down = 5\n").unwrap_err().to_string();
        assert!(e.contains(":2:1"), "{e}");
        assert!(e.contains("hold_down"), "{e}");
    }

    #[test]
    fn master_forms() {
        for ok in [
            "unix:/var/agentx/master",
            "tcp:localhost:705",
            "tcp:192.0.2.1:705",
            "tcp:[::1]:705",
            "/var/agentx/master",
        ] {
            assert!(check_master(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "unix:",
            "unix:var/agentx",
            "tcp:",
            "tcp:localhost",
            "tcp::705",
            "tcp:localhost:0",
            "tcp:localhost:70000",
            "tcp:localhost:x",
            "tcp:::1:705",
            "tcp:[::1:705",
            "tcp:[nope]:705",
            "udp:localhost:705",
        ] {
            assert!(check_master(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_toml_points_at_line_and_column() {
        let e = err("poll_interval_secs = 10\nmaster = \"unix:/x\n");
        assert!(e.starts_with("/etc/vti-agentx/config.toml:2:"), "{e}");
    }

    #[test]
    fn unknown_key_is_rejected_at_the_key() {
        let e = err("master = \"unix:/x\"\n  poll_intervall_secs = 5\n");
        assert!(e.starts_with("/etc/vti-agentx/config.toml:2:3: "), "{e}");
        assert!(e.contains("poll_intervall_secs"), "{e}");
    }

    #[test]
    fn wrong_type_is_rejected_at_the_value() {
        let e = err("poll_interval_secs = \"10\"\n");
        assert_eq!(
            e,
            "/etc/vti-agentx/config.toml:1:22: poll_interval_secs: \
             invalid type: string \"10\", expected an integer"
        );
        let e = err("\nmaster = 705\n");
        assert!(e.starts_with("/etc/vti-agentx/config.toml:2:10: "), "{e}");
    }

    #[test]
    fn out_of_range_intervals() {
        let e = err("\n\npoll_interval_secs = 0\n");
        assert_eq!(
            e,
            "/etc/vti-agentx/config.toml:3:22: poll_interval_secs: 0 is out of range 1..=3600 (seconds)"
        );
        let e = err("poll_interval_secs = 3601");
        assert!(e.contains("3601 is out of range"), "{e}");
        let e = err("ping_interval_secs = -5");
        assert!(
            e.contains(":1:22: ping_interval_secs: -5 is out of range"),
            "{e}"
        );
        assert_eq!(
            parse("poll_interval_secs = 3600")
                .unwrap()
                .poll_interval_secs,
            3600
        );
        assert_eq!(
            parse("poll_interval_secs = 1").unwrap().poll_interval_secs,
            1
        );
    }

    #[test]
    fn bad_oid_root() {
        let e = err("oid_root = \"1.3.6.x\"");
        assert!(
            e.starts_with("/etc/vti-agentx/config.toml:1:12: oid_root: "),
            "{e}"
        );
        assert!(e.contains("not a numeric OID"), "{e}");
        // Parses as an OID, but the MIB cannot be placed there.
        let e = err("oid_root = \"1.3.6.1.4.1\"");
        assert!(e.contains("oid_root: OID root 1.3.6.1.4.1"), "{e}");
        assert!(e.contains("enterprises"), "{e}");
        assert!(err("oid_root = \"\"").contains("oid_root"));
    }

    #[test]
    fn bad_master() {
        let e = err("master = \"localhost:705\"");
        assert_eq!(
            e,
            "/etc/vti-agentx/config.toml:1:10: master: \"localhost:705\": unsupported AgentX \
             address; use unix:/path, /path or tcp:HOST:PORT (UDP is not an AgentX transport)"
        );
    }

    #[test]
    fn bad_log_level_and_description() {
        let e = err("log_level = \"verbose\"");
        assert!(
            e.contains(":1:13: log_level: \"verbose\" is not one of off, error"),
            "{e}"
        );
        let long = format!("description = \"{}\"", "x".repeat(256));
        assert!(err(&long).contains("description: 256 bytes long"));
        assert!(err("description = \"a\\nb\"").contains("control characters"));
    }

    #[test]
    fn load_reports_missing_file_and_errors_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let e = Config::load(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read:", missing.display())),
            "{e}"
        );

        let file = dir.path().join("config.toml");
        std::fs::write(&file, "ping_interval_secs = 0\n").unwrap();
        let e = Config::load(&file).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:1:22: ", file.display())), "{e}");

        std::fs::write(&file, "ping_interval_secs = 20\n").unwrap();
        assert_eq!(Config::load(&file).unwrap().ping_interval_secs, 20);
    }

    #[test]
    fn line_column_counts_characters() {
        let t = "ab\nçd = 1";
        assert_eq!(line_column(t, 0), (1, 1));
        assert_eq!(line_column(t, 3), (2, 1));
        assert_eq!(line_column(t, 5), (2, 2)); // after the two-byte 'ç'
        assert_eq!(line_column(t, 100), (2, 7));
    }

    #[test]
    fn ike_section_parses_and_is_checked() {
        let c = parse("[ike]\nsocket = \"tcp:127.0.0.1:4502\"\ntimeout_ms = 500\n").unwrap();
        assert_eq!(c.ike.timeout_ms, 500);
        let options = c.ike.options().unwrap();
        assert_eq!(options.endpoint.to_string(), "tcp:127.0.0.1:4502");
        assert_eq!(options.timeout, std::time::Duration::from_millis(500));
        assert!(parse("[ike]\nenabled = false\n")
            .unwrap()
            .ike
            .options()
            .is_none());
        assert!(err("[ike]\nsocket = \"tcp:nohost\"\n").contains("ike.socket"));
        assert!(err("[ike]\ntimeout_ms = 5\n").contains("ike.timeout_ms"));
        assert!(err("[ike]\nstate_file = \"rel.json\"\n").contains("ike.state_file"));
        assert!(c.ike.options().unwrap().state_file.is_none());
        assert_eq!(
            c.ike.agent_options().unwrap().state_file.unwrap(),
            std::path::Path::new("/run/vti-agentx/ike-failures.json")
        );
        assert!(err("[ike]\nsockte = \"unix:/x\"\n").contains("sockte"));
    }

    #[test]
    fn packaged_config_is_the_defaults() {
        // As shipped (everything commented out) ...
        assert_eq!(
            Config::parse(PACKAGED, "packaging/config.toml").unwrap(),
            Config::default()
        );
        // ... and with every documented setting enabled (a "# key = value"
        // or "# [table]" line; indented examples stay comments), which
        // checks that the values it documents are the real defaults.
        let setting = |rest: &str| {
            rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
        };
        let mut seen = Vec::new();
        let enabled: String = PACKAGED
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if setting(rest) => {
                    seen.push(rest.split(" = ").next().unwrap_or(rest).to_string());
                    format!("{rest}\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        for key in [
            "master",
            "oid_root",
            "poll_interval_secs",
            "ping_interval_secs",
            "description",
            "log_level",
            "[alarms]",
            "hold_down_secs",
            "startup",
            "sa_expiring_margin_secs",
            "[alarms.notifications]",
            "[alarms.categories.dropped]",
            "[ike]",
            "socket",
            "timeout_ms",
            "[events]",
            "history_size",
        ] {
            assert!(seen.iter().any(|s| s == key), "{key} is not documented");
        }
        assert_eq!(
            Config::parse(&enabled, "packaging/config.toml").unwrap(),
            Config::default()
        );
    }
}
