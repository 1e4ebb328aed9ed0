//! The running agent's last failure per connection, kept in a runtime
//! state file so that the one-shot `show` (which polls charon afresh and
//! has no event history) can tell why a connection went down.
//!
//! What is written is exactly what vtiIkeTable serves per connection: the
//! reason, charon's sanitised line and its time; nothing else. The file is
//! replaced atomically (temp file + rename, mode 0640) only when the
//! records change. Reading is bounded in size and tolerant: a missing file
//! is no record, a corrupt one an error for the caller to report.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::reason::sanitise;
use super::sample::{IkeConnection, IkeFailure, TermReason};

pub const DEFAULT_STATE_FILE: &str = "/run/vti-agentx/ike-failures.json";
/// A state file larger than this is refused (4,096 connections × a
/// 200-character message fit many times over).
const MAX_FILE_BYTES: u64 = 4 << 20;

/// One connection's last failure as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFailure {
    pub reason: TermReason,
    pub message: String,
    pub unix_secs: u64,
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentFailures {
    /// When the agent wrote it, seconds since the Unix epoch.
    pub written_unix: u64,
    /// By connection name.
    pub failures: BTreeMap<String, StoredFailure>,
}

impl AgentFailures {
    /// The records of `connections` that have a last failure.
    pub fn of(connections: &[IkeConnection]) -> BTreeMap<String, StoredFailure> {
        connections
            .iter()
            .filter_map(|c| {
                let f = c.last_failure.as_ref()?;
                Some((
                    c.name.clone(),
                    StoredFailure {
                        reason: f.reason,
                        message: sanitise(&f.message),
                        unix_secs: f.unix_secs,
                    },
                ))
            })
            .collect()
    }

    /// The failure of `conn` in the model's form.
    pub fn failure(&self, conn: &str) -> Option<IkeFailure> {
        self.failures.get(conn).map(|s| IkeFailure {
            reason: s.reason,
            message: s.message.clone(),
            unix_secs: s.unix_secs,
            ike_sa_uniqueid: None,
            child: None,
        })
    }
}

/// Writes the state file when the records change; one warning per run of
/// failed writes.
#[derive(Debug)]
pub struct StateWriter {
    path: PathBuf,
    written: Option<BTreeMap<String, StoredFailure>>,
    failing: bool,
}

impl StateWriter {
    pub fn new(path: PathBuf) -> Self {
        StateWriter {
            path,
            written: None,
            failing: false,
        }
    }

    pub fn update(&mut self, failures: BTreeMap<String, StoredFailure>, now_unix: u64) {
        if self.written.as_ref() == Some(&failures) {
            return;
        }
        let file = AgentFailures {
            written_unix: now_unix,
            failures,
        };
        match write(&self.path, &file) {
            Ok(()) => {
                self.failing = false;
                self.written = Some(file.failures);
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot write the IKE failure state file");
                }
                self.failing = true;
            }
        }
    }
}

/// Replaces `path` atomically with `file`.
pub fn write(path: &Path, file: &AgentFailures) -> std::io::Result<()> {
    let json = serde_json::to_vec(file).map_err(std::io::Error::other)?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)?;
        // The service's UMask would take the group's read bit away.
        f.set_permissions(std::fs::Permissions::from_mode(0o640))?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The state file at `path`: `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<AgentFailures>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    let mut file: AgentFailures = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    for stored in file.failures.values_mut() {
        stored.message = sanitise(&stored.message);
    }
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(name: &str, failure: Option<IkeFailure>) -> IkeConnection {
        IkeConnection {
            name: name.into(),
            last_failure: failure,
            ..IkeConnection::default()
        }
    }

    fn auth_failed() -> IkeFailure {
        IkeFailure {
            reason: TermReason::AuthFailed,
            message: "received AUTHENTICATION_FAILED notify error".into(),
            unix_secs: 1_700_000_000,
            ike_sa_uniqueid: Some(3),
            child: Some("vti1".into()),
        }
    }

    #[test]
    fn written_records_read_back_and_only_changes_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ike-failures.json");
        assert_eq!(read(&path), Ok(None));
        let mut writer = StateWriter::new(path.clone());
        let conns = [conn("peer1", Some(auth_failed())), conn("peer2", None)];
        writer.update(AgentFailures::of(&conns), 10);
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back.written_unix, 10);
        assert_eq!(back.failures.len(), 1);
        let f = back.failure("peer1").unwrap();
        assert_eq!(f.reason, TermReason::AuthFailed);
        assert_eq!(f.message, auth_failed().message);
        assert_eq!(f.unix_secs, 1_700_000_000);
        assert!(back.failure("peer2").is_none());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // Same records: not rewritten.
        writer.update(AgentFailures::of(&conns), 20);
        assert_eq!(read(&path).unwrap().unwrap().written_unix, 10);
        writer.update(AgentFailures::of(&[conn("peer1", None)]), 30);
        let back = read(&path).unwrap().unwrap();
        assert_eq!((back.written_unix, back.failures.len()), (30, 0));
        assert!(!dir.path().join("ike-failures.json.tmp").exists());
    }

    #[test]
    fn corrupt_or_oversized_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        for bad in [
            &b"{\"writtenUnix\": 1, \"failures\": {\"x\": {\"reason\": \"nope\""[..],
            b"\xff\x00",
            b"",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(read(&path).is_err());
        }
        std::fs::write(&path, vec![b' '; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        assert!(read(&path).unwrap_err().contains("larger"));
    }

    #[test]
    fn stored_messages_are_sanitised_again_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let long = "x".repeat(1000);
        let json = format!(
            "{{\"writtenUnix\":1,\"failures\":{{\"c\":{{\"reason\":\"other\",\"message\":\"{long}\\u0007\",\"unixSecs\":5}}}}}}"
        );
        std::fs::write(&path, json).unwrap();
        let back = read(&path).unwrap().unwrap();
        let m = &back.failures["c"].message;
        // At most MAX_MESSAGE_CHARS, plus the ellipsis marking the cut.
        assert_eq!(
            m.chars().count(),
            super::super::reason::MAX_MESSAGE_CHARS + 1
        );
        assert!(m.ends_with('…'));
        assert!(!m.contains('\u{7}'));
    }
}
