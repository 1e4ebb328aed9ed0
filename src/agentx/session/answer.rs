//! Answering the master's requests (RFC 2741 §7.2.2-7.2.4) from one view
//! of the served objects. Pure: no I/O, no waiting, so it is tested directly.

use super::objects::{NoObjects, Objects};
use crate::agentx::pdu::{
    Body, EncodeError, ErrorStatus, GetBulk, Pdu, Response, SearchRange, VarBind,
};
use crate::oid::Oid;
use crate::value::Value;

/// Past this many payload bytes a GetBulk stops adding repetitions
/// (§7.2.3.3 allows stopping at an implementation constraint). SNMP
/// responses rarely exceed one UDP datagram, so more would be discarded by
/// the master anyway.
pub const BULK_BUDGET: usize = 64 * 1024;

/// The reply to `request`, or `None` when the protocol wants silence
/// (CleanupSet, and Responses and Closes which the connection handles).
///
/// `session_id` is ours; a request for another session gets `notOpen`.
/// `root` is the registered subtree: nothing outside it is ever returned.
/// `objects` is one view, used for the whole PDU.
pub fn answer(request: &Pdu, session_id: u32, root: &Oid, objects: &impl Objects) -> Option<Pdu> {
    if matches!(request.body, Body::Response(_) | Body::Close { .. }) {
        return None;
    }
    let res = if request.session_id != session_id {
        Some(response(ErrorStatus::NotOpen, 0, Vec::new()))
    } else if request.body.context().is_some() {
        // We register in the default context only, so we instantiate nothing
        // in any other: Get finds noSuchObject, GetNext endOfMibView.
        respond(&request.body, root, &NoObjects)
    } else {
        respond(&request.body, root, objects)
    }?;
    Some(reply_to(request, res))
}

fn response(error: ErrorStatus, index: u16, varbinds: Vec<VarBind>) -> Response {
    Response {
        sys_uptime: 0, // ignored by the master (§6.2.16)
        error,
        index,
        varbinds,
    }
}

/// The Response to a request of our session, or `None` for silence.
fn respond(body: &Body, root: &Oid, objects: &impl Objects) -> Option<Response> {
    let res = match body {
        Body::Get { ranges, .. } => response(ErrorStatus::NoError, 0, get(objects, ranges)),
        Body::GetNext { ranges, .. } => {
            let vbs = ranges
                .iter()
                .map(|sr| get_next(objects, root, sr))
                .collect();
            response(ErrorStatus::NoError, 0, vbs)
        }
        Body::GetBulk(bulk) => response(ErrorStatus::NoError, 0, get_bulk(objects, root, bulk)),
        // Everything we serve is read-only (§7.2.4.1: fail the first
        // varbind). Without varbinds there is nothing to refuse.
        Body::TestSet { varbinds, .. } if varbinds.is_empty() => {
            response(ErrorStatus::NoError, 0, Vec::new())
        }
        Body::TestSet { .. } => response(ErrorStatus::NotWritable, 1, Vec::new()),
        // Reached only after a TestSet without varbinds: nothing was
        // changed, so committing or undoing it trivially succeeds.
        Body::CommitSet | Body::UndoSet => response(ErrorStatus::NoError, 0, Vec::new()),
        // §7.2.4.4: no response to CleanupSet (net-snmp expects none).
        Body::CleanupSet => return None,
        Body::Ping { .. } => response(ErrorStatus::NoError, 0, Vec::new()),
        // Subagent-to-master PDUs: a master never sends these to us.
        Body::Open(_)
        | Body::Register(_)
        | Body::Unregister(_)
        | Body::Notify { .. }
        | Body::IndexAllocate(_)
        | Body::IndexDeallocate(_)
        | Body::AddAgentCaps(_)
        | Body::RemoveAgentCaps { .. } => response(ErrorStatus::ProcessingError, 0, Vec::new()),
        Body::Response(_) | Body::Close { .. } => return None,
    };
    Some(res)
}

/// A Response PDU with the request's header identifiers (§7.2.2).
pub fn reply_to(request: &Pdu, res: Response) -> Pdu {
    reply_to_header(
        request.session_id,
        request.transaction_id,
        request.packet_id,
        res,
    )
}

/// [`reply_to`] for a request known only by its header identifiers.
pub fn reply_to_header(session_id: u32, transaction_id: u32, packet_id: u32, res: Response) -> Pdu {
    Pdu {
        session_id,
        transaction_id,
        packet_id,
        body: Body::Response(res),
    }
}

/// Encodes `reply`, or — when it cannot be encoded (too large for a PDU) —
/// an error reply without varbinds, which always can be.
pub fn encode_reply(reply: &Pdu) -> Result<Vec<u8>, EncodeError> {
    match reply.encode() {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let error = match e {
                EncodeError::PayloadTooLarge { .. } => ErrorStatus::TooBig,
                _ => ErrorStatus::GenErr,
            };
            tracing::warn!(
                "cannot encode reply to packet {}: {e}; answering {error:?}",
                reply.packet_id
            );
            let fallback = Pdu {
                body: Body::Response(Response {
                    sys_uptime: 0,
                    error,
                    index: 0,
                    varbinds: Vec::new(),
                }),
                ..reply.clone()
            };
            fallback.encode()
        }
    }
}

/// §7.2.3.1.
fn get(objects: &impl Objects, ranges: &[SearchRange]) -> Vec<VarBind> {
    ranges
        .iter()
        .map(|sr| VarBind::new(sr.start.clone(), objects.get(&sr.start)))
        .collect()
}

/// §7.2.3.2: the first object in the range, else endOfMibView named by the
/// starting OID. Objects outside our registered root are never returned.
fn get_next(objects: &impl Objects, root: &Oid, sr: &SearchRange) -> VarBind {
    objects
        .next(&sr.start, sr.include)
        .filter(|(oid, _)| oid.starts_with(root))
        .filter(|(oid, _)| sr.end.is_empty() || *oid < sr.end)
        .map(|(oid, value)| VarBind::new(oid, value))
        .unwrap_or_else(|| VarBind::new(sr.start.clone(), Value::EndOfMibView))
}

/// Where one repeated search range of a GetBulk stands.
enum Cursor {
    /// Still walking: the next repetition searches this range.
    Searching(SearchRange),
    /// Hit endOfMibView; later repetitions repeat that varbind's name.
    Ended(Oid),
}

/// §7.2.3.3.
fn get_bulk(objects: &impl Objects, root: &Oid, bulk: &GetBulk) -> Vec<VarBind> {
    let n = usize::from(bulk.non_repeaters).min(bulk.ranges.len());
    let (non_repeaters, repeaters) = bulk.ranges.split_at(n);
    let mut out: Vec<VarBind> = non_repeaters
        .iter()
        .map(|sr| get_next(objects, root, sr))
        .collect();
    let mut size: usize = out.iter().map(VarBind::encoded_len).sum();
    let mut cursors: Vec<Cursor> = repeaters.iter().cloned().map(Cursor::Searching).collect();
    for rep in 0..bulk.max_repetitions {
        // The first repetition is always answered in full; later ones stop
        // at the size budget.
        if cursors.is_empty() || (rep > 0 && size >= BULK_BUDGET) {
            break;
        }
        let mut all_ended = true;
        for cursor in &mut cursors {
            let vb = match cursor {
                Cursor::Searching(sr) => {
                    let vb = get_next(objects, root, sr);
                    if vb.value == Value::EndOfMibView {
                        *cursor = Cursor::Ended(vb.name.clone());
                    } else {
                        all_ended = false;
                        sr.start = vb.name.clone();
                        sr.include = false;
                    }
                    vb
                }
                Cursor::Ended(name) => VarBind::new(name.clone(), Value::EndOfMibView),
            };
            size += vb.encoded_len();
            out.push(vb);
        }
        if all_ended {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests;
