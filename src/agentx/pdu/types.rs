//! The decoded form of AgentX PDUs (RFC 2741 §6.2). Plain data; the codec is
//! in `body` and `fields`.
//!
//! A context (§6.1.1) appears only in the variants whose PDU type may carry
//! one, so a context on, say, an Open cannot even be expressed. Likewise the
//! header flags with a meaning for one PDU type live in that type's struct.

use std::num::NonZeroU8;

use super::header::PduType;
use super::status::{CloseReason, ErrorStatus};
use crate::oid::Oid;
use crate::value::Value;

/// An optional non-default context (`None` = default context).
pub type Context = Option<Vec<u8>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub session_id: u32,
    pub transaction_id: u32,
    pub packet_id: u32,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Open(Open),
    Close {
        reason: CloseReason,
    },
    Register(Register),
    Unregister(Unregister),
    Get {
        context: Context,
        ranges: Vec<SearchRange>,
    },
    GetNext {
        context: Context,
        ranges: Vec<SearchRange>,
    },
    GetBulk(GetBulk),
    TestSet {
        context: Context,
        varbinds: Vec<VarBind>,
    },
    CommitSet,
    UndoSet,
    CleanupSet,
    Notify {
        context: Context,
        varbinds: Vec<VarBind>,
    },
    Ping {
        context: Context,
    },
    IndexAllocate(IndexRequest),
    IndexDeallocate(IndexRequest),
    AddAgentCaps(AgentCaps),
    RemoveAgentCaps {
        context: Context,
        id: Oid,
    },
    Response(Response),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// Seconds; 0 = master's default.
    pub timeout: u8,
    pub id: Oid,
    pub descr: Vec<u8>,
}

/// `r.range_subid` / `r.upper_bound`: sub-identifier number `subid` (1-based,
/// counted in the uncompressed OID) of the subtree ranges up to `upper_bound`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubidRange {
    pub subid: NonZeroU8,
    pub upper_bound: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    pub context: Context,
    /// Seconds; 0 = session default.
    pub timeout: u8,
    /// 1..=255, smaller wins; 127 is the conventional default.
    pub priority: u8,
    pub subtree: Oid,
    pub range: Option<SubidRange>,
    /// INSTANCE_REGISTRATION: `subtree` is one fully qualified instance.
    pub instance: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unregister {
    pub context: Context,
    pub priority: u8,
    pub subtree: Oid,
    pub range: Option<SubidRange>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetBulk {
    pub context: Context,
    pub non_repeaters: u16,
    pub max_repetitions: u16,
    pub ranges: Vec<SearchRange>,
}

/// Body of IndexAllocate and IndexDeallocate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexRequest {
    pub context: Context,
    pub new_index: bool,
    pub any_index: bool,
    pub varbinds: Vec<VarBind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCaps {
    pub context: Context,
    pub id: Oid,
    pub descr: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Meaningful only from the master (its sysUpTime in ticks).
    pub sys_uptime: u32,
    pub error: ErrorStatus,
    /// 1-based index of the failed varbind, 0 when none.
    pub index: u16,
    pub varbinds: Vec<VarBind>,
}

/// RFC 2741 §5.2. An empty `end` means unbounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRange {
    pub start: Oid,
    /// Whether `start` itself is in the range.
    pub include: bool,
    /// Exclusive upper bound; empty = none.
    pub end: Oid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub name: Oid,
    pub value: Value,
}

impl VarBind {
    pub fn new(name: Oid, value: Value) -> Self {
        VarBind { name, value }
    }
}

impl Body {
    pub fn pdu_type(&self) -> PduType {
        match self {
            Body::Open(_) => PduType::Open,
            Body::Close { .. } => PduType::Close,
            Body::Register(_) => PduType::Register,
            Body::Unregister(_) => PduType::Unregister,
            Body::Get { .. } => PduType::Get,
            Body::GetNext { .. } => PduType::GetNext,
            Body::GetBulk(_) => PduType::GetBulk,
            Body::TestSet { .. } => PduType::TestSet,
            Body::CommitSet => PduType::CommitSet,
            Body::UndoSet => PduType::UndoSet,
            Body::CleanupSet => PduType::CleanupSet,
            Body::Notify { .. } => PduType::Notify,
            Body::Ping { .. } => PduType::Ping,
            Body::IndexAllocate(_) => PduType::IndexAllocate,
            Body::IndexDeallocate(_) => PduType::IndexDeallocate,
            Body::AddAgentCaps(_) => PduType::AddAgentCaps,
            Body::RemoveAgentCaps { .. } => PduType::RemoveAgentCaps,
            Body::Response(_) => PduType::Response,
        }
    }

    /// The non-default context, for the PDU types that can carry one.
    pub fn context(&self) -> Option<&[u8]> {
        let ctx = match self {
            Body::Register(r) => &r.context,
            Body::Unregister(u) => &u.context,
            Body::Get { context, .. }
            | Body::GetNext { context, .. }
            | Body::TestSet { context, .. }
            | Body::Notify { context, .. }
            | Body::Ping { context }
            | Body::RemoveAgentCaps { context, .. } => context,
            Body::GetBulk(g) => &g.context,
            Body::IndexAllocate(i) | Body::IndexDeallocate(i) => &i.context,
            Body::AddAgentCaps(a) => &a.context,
            Body::Open(_)
            | Body::Close { .. }
            | Body::CommitSet
            | Body::UndoSet
            | Body::CleanupSet
            | Body::Response(_) => return None,
        };
        ctx.as_deref()
    }
}
