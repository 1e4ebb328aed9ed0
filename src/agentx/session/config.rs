//! What a session needs to know: where the master is, who we are, what we
//! register, and how patient to be.

use std::time::Duration;

use crate::agentx::transport::MasterAddr;
use crate::oid::Oid;

#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub master: MasterAddr,
    /// The subtree we register, also our Open and sysORTable OID.
    pub root: Oid,
    /// Open's o.descr and the sysORTable description.
    pub description: String,
    /// How often to Ping the master.
    pub ping_interval: Duration,
    /// How long the master may take to answer a PDU of ours (and to accept
    /// a connection or a write) before we consider it dead.
    pub response_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt up to
    /// `backoff_max`.
    pub backoff_initial: Duration,
    /// Upper bound of the reconnect delay: a restarted master is re-joined
    /// at most this long after it is back.
    pub backoff_max: Duration,
    /// Notifications held while the master is away; the oldest are dropped
    /// beyond this.
    pub notify_queue_len: usize,
}

pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(4);
pub const DEFAULT_NOTIFY_QUEUE_LEN: usize = 256;

impl SessionConfig {
    /// The other fields take the defaults above.
    pub fn new(master: MasterAddr, root: Oid, description: impl Into<String>) -> Self {
        SessionConfig {
            master,
            root,
            description: description.into(),
            ping_interval: DEFAULT_PING_INTERVAL,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
            notify_queue_len: DEFAULT_NOTIFY_QUEUE_LEN,
        }
    }
}
