//! Reads charon's log lines (the VICI `log` event, which charon caps at
//! level 1) for the reason an IKE or CHILD SA failed.
//!
//! The patterns are charon 5.9's own format strings (DBG0/DBG1 in
//! `src/libcharon/sa/ike_sa.c`, `sa/ikev2/task_manager_v2.c`,
//! `sa/ikev2/tasks/*.c`, `sa/ikev2/authenticators/*.c`,
//! `processing/jobs/*.c`). Only lines that match one are ever kept, so
//! arbitrary log text (which could carry anything) never leaves this module.

use super::sample::TermReason;

/// Longest message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// What one log line says about an SA's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A failure in itself (setup rejected, retransmits exhausted, rekey
    /// failed): recorded as the connection's last failure at once.
    Failed(TermReason),
    /// The retransmits of a request were exhausted: peerUnreachable, or
    /// dpdTimeout when the request was a DPD check (see [`Signal::DpdSent`]).
    GaveUp,
    /// A DELETE, from the peer (`by_peer`) or ours. Also part of every rekey,
    /// so it counts only when an SA then goes down without being rekeyed.
    Deleted { by_peer: bool },
    /// A DPD request was sent on this IKE SA.
    DpdSent,
    /// charon was told to stop (`SIGTERM received, shutting down`): it
    /// deletes every IKE SA next, without further lines on the VICI log
    /// stream (its log queue is not served any more while it shuts down).
    ShuttingDown,
}

/// The meaning of a charon log line, or `None` for lines of no interest.
pub fn classify(msg: &str) -> Option<Signal> {
    use Signal::*;
    use TermReason::*;

    if let Some(notify) = received_notify_error(msg) {
        return Some(Failed(notify_reason(notify)));
    }
    let starts = |p: &str| msg.starts_with(p);
    let has = |p: &str| msg.contains(p);
    let signal = if starts("tried ") && has("but MAC mismatched")
        || starts("no shared key found for")
        || starts("authentication of '") && msg.ends_with("(myself) failed")
        || starts("received ") && has(", EAP authentication failed")
        || starts("selected peer config '") && has("unacceptable")
        || starts("no trusted ") && has(" public key found for '")
    {
        Failed(AuthFailed)
    } else if starts("no acceptable proposal found")
        || starts("no proposal found")
        || starts("received proposals unacceptable")
    {
        Failed(NoProposalChosen)
    } else if starts("traffic selectors ") && msg.ends_with(" unacceptable")
        || starts("no matching CHILD_SA config found")
    {
        Failed(TsUnacceptable)
    } else if starts("giving up after ") && msg.ends_with(" retransmits")
        || starts("establishing IKE_SA failed, peer not responding")
    {
        GaveUp
    } else if starts("DPD check timed out") {
        Failed(DpdTimeout)
    } else if starts("CHILD_SA rekeying failed")
        || starts("rekeying IKE_SA failed")
        || starts("reauthentication failed")
    {
        Failed(RekeyFailed)
    } else if starts("received DELETE for IKE_SA ")
        || starts("received DELETE for ") && has(" CHILD_SA with SPI ")
    {
        Deleted { by_peer: true }
    } else if starts("deleting IKE_SA ") || starts("closing CHILD_SA ") {
        Deleted { by_peer: false }
    } else if starts("sending DPD request") {
        DpdSent
    } else if (starts("SIGTERM ") || starts("SIGINT ")) && msg.ends_with(" received, shutting down")
    {
        ShuttingDown
    } else if starts("unable to install ") && msg.ends_with(" in kernel") {
        Failed(Other)
    } else {
        return None;
    };
    Some(signal)
}

/// The peer of a responder's IKE SA before it has a config (and so a
/// name): charon's `%H is initiating an IKE_SA` line.
pub fn initiating_host(msg: &str) -> Option<&str> {
    let host = msg.strip_suffix(" is initiating an IKE_SA")?;
    (!host.is_empty() && !host.contains(' ')).then_some(host)
}

/// `received NO_PROPOSAL_CHOSEN notify error` (also `…, destroying IKE_SA`)
/// and the CHILD_SA variant `received TS_UNACCEPTABLE notify, no CHILD_SA
/// built`: the notify type's name.
fn received_notify_error(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("received ")?;
    let (notify, tail) = rest.split_once(' ')?;
    let is_error =
        tail.starts_with("notify error") || tail.starts_with("notify, no CHILD_SA built");
    let is_name = !notify.is_empty()
        && notify
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    (is_error && is_name).then_some(notify)
}

fn notify_reason(notify: &str) -> TermReason {
    match notify {
        "AUTHENTICATION_FAILED" => TermReason::AuthFailed,
        "NO_PROPOSAL_CHOSEN" => TermReason::NoProposalChosen,
        "TS_UNACCEPTABLE" | "SINGLE_PAIR_REQUIRED" => TermReason::TsUnacceptable,
        _ => TermReason::Other,
    }
}

/// A log line made safe to store and show: control characters become
/// spaces, runs of whitespace collapse, at most [`MAX_MESSAGE_CHARS`]
/// characters (an ellipsis marks a cut).
pub fn sanitise(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(MAX_MESSAGE_CHARS * 4));
    let mut chars = 0;
    let mut last_space = true;
    for c in msg.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if chars == MAX_MESSAGE_CHARS {
            out.pop_if_space();
            out.push('…');
            return out;
        }
        out.push(c);
        chars += 1;
        last_space = c == ' ';
    }
    out.pop_if_space();
    out
}

trait PopIfSpace {
    fn pop_if_space(&mut self);
}

impl PopIfSpace for String {
    fn pop_if_space(&mut self) {
        if self.ends_with(' ') {
            self.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Signal::*;
    use super::TermReason::*;
    use super::*;

    /// charon 5.9.8 lines, formatted as its DBG statements print them.
    #[test]
    fn classifies_charon_lines() {
        let cases: &[(&str, Option<Signal>)] = &[
            ("received AUTHENTICATION_FAILED notify error", Some(Failed(AuthFailed))),
            (
                "received NO_PROPOSAL_CHOSEN notify error, destroying IKE_SA",
                Some(Failed(NoProposalChosen)),
            ),
            (
                "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built",
                Some(Failed(NoProposalChosen)),
            ),
            (
                "received TS_UNACCEPTABLE notify, no CHILD_SA built",
                Some(Failed(TsUnacceptable)),
            ),
            ("received INVALID_SYNTAX notify error", Some(Failed(Other))),
            (
                "tried 1 shared key for '192.0.2.2' - '192.0.2.1', but MAC mismatched",
                Some(Failed(AuthFailed)),
            ),
            (
                "no shared key found for '192.0.2.1' - '192.0.2.2'",
                Some(Failed(AuthFailed)),
            ),
            ("authentication of '192.0.2.1' (myself) failed", Some(Failed(AuthFailed))),
            ("no acceptable proposal found", Some(Failed(NoProposalChosen))),
            ("no proposal found", Some(Failed(NoProposalChosen))),
            ("received proposals unacceptable", Some(Failed(NoProposalChosen))),
            (
                "no trusted RSA public key found for 'peer.example'",
                Some(Failed(AuthFailed)),
            ),
            (
                "traffic selectors 10.1.0.0/16 === 10.2.0.0/16 unacceptable",
                Some(Failed(TsUnacceptable)),
            ),
            ("giving up after 5 retransmits", Some(GaveUp)),
            ("establishing IKE_SA failed, peer not responding", Some(GaveUp)),
            ("DPD check timed out, enforcing DPD action", Some(Failed(DpdTimeout))),
            (
                "CHILD_SA rekeying failed, trying again in 30 seconds",
                Some(Failed(RekeyFailed)),
            ),
            ("rekeying IKE_SA failed, peer not responding", Some(Failed(RekeyFailed))),
            ("received DELETE for IKE_SA vti1[3]", Some(Deleted { by_peer: true })),
            (
                "received DELETE for ESP CHILD_SA with SPI c1a2b3c4",
                Some(Deleted { by_peer: true }),
            ),
            (
                "deleting IKE_SA vti1[3] between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]",
                Some(Deleted { by_peer: false }),
            ),
            (
                "closing CHILD_SA vti1-child{2} with SPIs c1a2b3c4_i (0 bytes) 0badf00d_o (0 bytes) and TS 0.0.0.0/0 === 0.0.0.0/0",
                Some(Deleted { by_peer: false }),
            ),
            ("sending DPD request", Some(DpdSent)),
            ("SIGTERM received, shutting down", Some(ShuttingDown)),
            ("SIGINT received, shutting down", Some(ShuttingDown)),
            (
                "closing CHILD_SA vti1-child{2} with SPIs c8e1f2a3_i (0 bytes) c2d4e6f8_o (0 bytes) and TS 10.1.0.0/16 === 10.2.0.0/16",
                Some(Deleted { by_peer: false }),
            ),
            (
                "unable to install inbound and outbound IPsec SA (SAD) in kernel",
                Some(Failed(Other)),
            ),
            // Lines of no interest.
            ("IKE_SA vti1[1] established between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]", None),
            ("received DELETE for different IKE_SA, ignored", None),
            ("SIGHUP received, reloading configuration", None),
            ("sending DELETE for IKE_SA vti1[3]", None),
            ("IKE_SA deleted", None),
            ("retransmit 1 of request with message ID 0", None),
            ("peer not responding, trying again (2/0)", None),
            ("received Received notify error", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(classify(line), *expected, "{line}");
        }
    }

    #[test]
    fn finds_the_initiating_host() {
        assert_eq!(
            initiating_host("192.0.2.1 is initiating an IKE_SA"),
            Some("192.0.2.1")
        );
        assert_eq!(
            initiating_host("2001:db8::1 is initiating an IKE_SA"),
            Some("2001:db8::1")
        );
        assert_eq!(
            initiating_host("initiating IKE_SA vti1[3] to 192.0.2.2"),
            None
        );
        assert_eq!(initiating_host(" is initiating an IKE_SA"), None);
    }

    #[test]
    fn sanitise_strips_controls_and_bounds_length() {
        assert_eq!(sanitise("a\n\tb\x1b[31m  c\u{7f}"), "a b [31m c");
        assert_eq!(sanitise("  x  "), "x");
        let long = "é".repeat(MAX_MESSAGE_CHARS + 10);
        let cut = sanitise(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            sanitise(&"y".repeat(MAX_MESSAGE_CHARS)).chars().count(),
            MAX_MESSAGE_CHARS
        );
    }
}
