//! Per-PDU-type payload layouts (RFC 2741 §6.2).

use std::num::NonZeroU8;

use super::error::{DecodeError, EncodeError};
use super::fields::*;
use super::header::{Flags, Header, PduType};
use super::status::{CloseReason, ErrorStatus};
use super::types::*;
use super::wire::{Reader, Writer};

/// Roughly the encoded payload size of `body`: exact for a Response (the
/// hot path), a small guess for the rest. Only sizes a buffer.
pub(crate) fn size_hint(body: &Body) -> usize {
    match body {
        Body::Response(res) => 8 + res.varbinds.iter().map(VarBind::encoded_len).sum::<usize>(),
        _ => 128,
    }
}

/// Decodes the payload that follows `header`. The whole payload must be
/// consumed: leftovers mean the peer and we disagree about the layout.
pub(crate) fn decode_body(header: &Header, payload: &[u8]) -> Result<Body, DecodeError> {
    let mut r = Reader::new(payload, header.flags.byte_order());
    let flags = header.flags;
    let context = if header.pdu_type.carries_context() && flags.contains(Flags::NON_DEFAULT_CONTEXT)
    {
        Some(read_octets(&mut r)?)
    } else {
        None
    };
    let body = match header.pdu_type {
        PduType::Open => {
            let timeout = r.u8("o.timeout")?;
            r.take(3, "o.timeout")?;
            let (id, _) = read_oid(&mut r)?;
            let descr = read_octets(&mut r)?;
            Body::Open(Open { timeout, id, descr })
        }
        PduType::Close => {
            let reason = CloseReason::from_code(r.u8("c.reason")?);
            r.take(3, "c.reason")?;
            Body::Close { reason }
        }
        PduType::Register => {
            let timeout = r.u8("r.timeout")?;
            let priority = r.u8("r.priority")?;
            let range_subid = r.u8("r.range_subid")?;
            r.take(1, "r.range_subid")?;
            let (subtree, _) = read_oid(&mut r)?;
            let range = read_upper_bound(&mut r, range_subid)?;
            Body::Register(Register {
                context,
                timeout,
                priority,
                subtree,
                range,
                instance: flags.contains(Flags::INSTANCE_REGISTRATION),
            })
        }
        PduType::Unregister => {
            r.take(1, "u.priority")?;
            let priority = r.u8("u.priority")?;
            let range_subid = r.u8("u.range_subid")?;
            r.take(1, "u.range_subid")?;
            let (subtree, _) = read_oid(&mut r)?;
            let range = read_upper_bound(&mut r, range_subid)?;
            Body::Unregister(Unregister {
                context,
                priority,
                subtree,
                range,
            })
        }
        PduType::Get => Body::Get {
            context,
            ranges: read_search_ranges(&mut r)?,
        },
        PduType::GetNext => Body::GetNext {
            context,
            ranges: read_search_ranges(&mut r)?,
        },
        PduType::GetBulk => Body::GetBulk(GetBulk {
            context,
            non_repeaters: r.u16("g.non_repeaters")?,
            max_repetitions: r.u16("g.max_repetitions")?,
            ranges: read_search_ranges(&mut r)?,
        }),
        PduType::TestSet => Body::TestSet {
            context,
            varbinds: read_varbinds(&mut r)?,
        },
        PduType::CommitSet => Body::CommitSet,
        PduType::UndoSet => Body::UndoSet,
        PduType::CleanupSet => Body::CleanupSet,
        PduType::Notify => Body::Notify {
            context,
            varbinds: read_varbinds(&mut r)?,
        },
        PduType::Ping => Body::Ping { context },
        PduType::IndexAllocate => Body::IndexAllocate(read_index_request(&mut r, flags, context)?),
        PduType::IndexDeallocate => {
            Body::IndexDeallocate(read_index_request(&mut r, flags, context)?)
        }
        PduType::AddAgentCaps => {
            let (id, _) = read_oid(&mut r)?;
            let descr = read_octets(&mut r)?;
            Body::AddAgentCaps(AgentCaps { context, id, descr })
        }
        PduType::RemoveAgentCaps => Body::RemoveAgentCaps {
            context,
            id: read_oid(&mut r)?.0,
        },
        PduType::Response => Body::Response(Response {
            sys_uptime: r.u32("res.sysUpTime")?,
            error: ErrorStatus::from_code(r.u16("res.error")?),
            index: r.u16("res.index")?,
            varbinds: read_varbinds(&mut r)?,
        }),
    };
    match r.remaining() {
        0 => Ok(body),
        n => Err(DecodeError::TrailingBytes(n)),
    }
}

fn read_upper_bound(
    r: &mut Reader<'_>,
    range_subid: u8,
) -> Result<Option<SubidRange>, DecodeError> {
    NonZeroU8::new(range_subid)
        .map(|subid| {
            Ok(SubidRange {
                subid,
                upper_bound: r.u32("upper_bound")?,
            })
        })
        .transpose()
}

fn read_index_request(
    r: &mut Reader<'_>,
    flags: Flags,
    context: Context,
) -> Result<IndexRequest, DecodeError> {
    Ok(IndexRequest {
        context,
        new_index: flags.contains(Flags::NEW_INDEX),
        any_index: flags.contains(Flags::ANY_INDEX),
        varbinds: read_varbinds(r)?,
    })
}

/// The header flags a body implies (besides NETWORK_BYTE_ORDER, which the
/// header encoder always sets).
pub(crate) fn flags_for(body: &Body) -> Flags {
    let mut flags = Flags::default();
    flags.set(Flags::NON_DEFAULT_CONTEXT, body.context().is_some());
    match body {
        Body::Register(reg) => flags.set(Flags::INSTANCE_REGISTRATION, reg.instance),
        Body::IndexAllocate(req) | Body::IndexDeallocate(req) => {
            flags.set(Flags::NEW_INDEX, req.new_index);
            flags.set(Flags::ANY_INDEX, req.any_index);
        }
        _ => {}
    }
    flags
}

pub(crate) fn encode_body(w: &mut Writer, body: &Body) -> Result<(), EncodeError> {
    if let Some(ctx) = body.context() {
        write_octets(w, ctx)?;
    }
    match body {
        Body::Open(open) => {
            w.bytes(&[open.timeout, 0, 0, 0]);
            write_oid(w, &open.id, false)?;
            write_octets(w, &open.descr)?;
        }
        Body::Close { reason } => w.bytes(&[reason.code(), 0, 0, 0]),
        Body::Register(reg) => {
            w.bytes(&[reg.timeout, reg.priority, range_subid(reg.range), 0]);
            write_oid(w, &reg.subtree, false)?;
            write_upper_bound(w, reg.range);
        }
        Body::Unregister(unreg) => {
            w.bytes(&[0, unreg.priority, range_subid(unreg.range), 0]);
            write_oid(w, &unreg.subtree, false)?;
            write_upper_bound(w, unreg.range);
        }
        Body::Get { ranges, .. } | Body::GetNext { ranges, .. } => write_search_ranges(w, ranges)?,
        Body::GetBulk(bulk) => {
            w.u16(bulk.non_repeaters);
            w.u16(bulk.max_repetitions);
            write_search_ranges(w, &bulk.ranges)?;
        }
        Body::TestSet { varbinds, .. } | Body::Notify { varbinds, .. } => {
            write_varbinds(w, varbinds)?
        }
        Body::IndexAllocate(req) | Body::IndexDeallocate(req) => write_varbinds(w, &req.varbinds)?,
        Body::CommitSet | Body::UndoSet | Body::CleanupSet | Body::Ping { .. } => {}
        Body::AddAgentCaps(caps) => {
            write_oid(w, &caps.id, false)?;
            write_octets(w, &caps.descr)?;
        }
        Body::RemoveAgentCaps { id, .. } => write_oid(w, id, false)?,
        Body::Response(res) => {
            w.u32(res.sys_uptime);
            w.u16(res.error.code());
            w.u16(res.index);
            write_varbinds(w, &res.varbinds)?;
        }
    }
    Ok(())
}

fn range_subid(range: Option<SubidRange>) -> u8 {
    range.map_or(0, |r| r.subid.get())
}

fn write_upper_bound(w: &mut Writer, range: Option<SubidRange>) {
    if let Some(r) = range {
        w.u32(r.upper_bound);
    }
}
