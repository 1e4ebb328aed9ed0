//! What the alarm stage reports: one `Event` per notification-worthy thing
//! that happened to a tunnel (or to an IKE connection, with the tunnel it
//! drives, if any), whether or not its notification goes out.
//!
//! Every event has the same shape — kind, tunnel, cause, peer, text, how it
//! was notified — plus the few numbers only its notification carries
//! (`Detail`). The event history (`history`) records that common part for
//! any kind, so a new kind of notification is recorded by its `EventKind`
//! value alone (numbered as vtiEventKind in the MIB). Sending it takes its switch in
//! `NotificationEnables::allows` and, in `notify`, the objects of its
//! NOTIFICATION-TYPE (a `Detail` of its own if it carries numbers); the
//! common tail (cause, peer, event index) is added there for every kind.

use serde::Serialize;

use crate::model::{
    Cause, ChildSaState, ErrorCategory, IkeSaState, OperStatus, Peer, TermReason, TunnelRow,
};

/// vtiEventKind (IPSEC-VTI-MIB); the numbers are the MIB's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    TxErrorRising = 1,
    TxErrorFalling = 2,
    SaDown = 3,
    SaUp = 4,
    SaExpiring = 5,
    IkeDown = 6,
    IkeUp = 7,
    TunnelDown = 8,
    TunnelUp = 9,
}

/// vtiEventNotification: what became of the event's notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Notified {
    /// Handed to the AgentX session (which queues it while the master is
    /// away).
    Sent = 1,
    /// This kind of notification, or all of them, is switched off.
    Disabled = 2,
    /// Inside the hold-down after the previous one: held back, and sent
    /// once the hold-down ends if the condition still holds (a later
    /// event).
    HeldDown = 3,
    /// The notification queue was full: lost (the agent logs it).
    QueueFull = 4,
}

/// The numbers of one kind of notification beyond what every event has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// vtiTxErrorRising/Falling: the alarm's category, its delta, the
    /// threshold crossed and the interval.
    Threshold {
        category: ErrorCategory,
        delta: u64,
        threshold: u32,
        interval_secs: u32,
    },
    /// vtiSaDown/Up: the tunnel's outbound SAs now.
    OutboundSas(u32),
    /// vtiSaExpiring: seconds to the hard expiry.
    SecondsToHardExpiry(i64),
    /// vtiTunnelDown/Up: the interface's states now.
    Link { admin_up: bool, oper: OperStatus },
    /// vtiIkeDown/Up: the vtiIkeTable row, its names and states, and (down)
    /// the failure reason and charon's line.
    Ike {
        index: u32,
        conn: String,
        child: String,
        ike_state: IkeSaState,
        child_state: ChildSaState,
        reason: Option<TermReason>,
        message: String,
    },
}

/// Something notification-worthy that happened to a tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub ifindex: u32,
    pub name: String,
    /// The tunnel's vtiIfCause when it happened.
    pub cause: Cause,
    pub peer: Peer,
    /// One line for humans: the diagnosis, or what happened.
    pub text: String,
    pub detail: Detail,
    pub notified: Notified,
}

impl Event {
    /// An event of `kind` about `row`, to be sent.
    pub fn about(row: &TunnelRow, kind: EventKind, text: String, detail: Detail) -> Event {
        Event {
            kind,
            ifindex: row.tunnel.ifindex,
            name: row.tunnel.name.clone(),
            cause: row.diagnosis.cause,
            peer: row.peer,
            text,
            detail,
            notified: Notified::Sent,
        }
    }

    /// The category of a threshold event.
    pub fn category(&self) -> Option<ErrorCategory> {
        match self.detail {
            Detail::Threshold { category, .. } => Some(category),
            _ => None,
        }
    }

    pub fn is_sent(&self) -> bool {
        self.notified == Notified::Sent
    }
}
