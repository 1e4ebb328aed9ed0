//! What a tunnel's TX error counters mean, category by category.
//!
//! Linux counts IPsec tunnel TX errors in fields whose names say nothing
//! about the cause (README, "What each TX error means"; lab-confirmed on
//! 6.1 and 6.12 for vti, vti6 and xfrm):
//!
//! | category       | kernel field                        | condition |
//! |----------------|-------------------------------------|-----------|
//! | `carrier`      | tx_carrier_errors                   | no route to peer, no policy, block policy, no SA, SA endpoint/if_id mismatch |
//! | `loop`         | collisions                          | route to the peer points into the tunnel itself |
//! | `output_errors`| tx_aborted_errors                   | failure after encapsulation: SA hard-expired, sequence overflow, xfrm interface underlay drop |
//! | `too_big`      | tx_errors − the three above         | packet above the path MTU (or malformed) |
//! | `dropped`      | tx_dropped                          | on vti6/xfrm it rises with *every* pre-output error: not independent |
//!
//! plus `underlay_drops`: on vti/vti6 a drop below the tunnel (qdisc, driver)
//! is counted as a *successful 1-byte packet*; only bytes-per-packet betrays it.
//!
//! The categories are kept as monotonic accumulators over per-poll deltas,
//! so they never go backwards even if the kernel's fields are read at
//! slightly different moments; they restart from the kernel's totals at a
//! counter discontinuity.

use crate::model::{Categories, ErrorCategory, LinkStats, TunnelKind};

/// Smallest real packet a tunnel can send: an IPv4 header. Anything that
/// averages below this per packet contains 1-byte "packets" (NET_XMIT_DROP
/// returned below a vti/vti6, counted as length 1).
const MIN_REAL_PACKET_BYTES: u64 = 20;

impl Categories {
    /// The categories of the kernel's totals since the interface started
    /// counting (used at the first poll and after a discontinuity).
    pub fn from_totals(s: &LinkStats) -> Self {
        Categories {
            carrier: s.tx_carrier_errors,
            routing_loop: s.collisions,
            too_big: residual(
                s.tx_errors,
                s.tx_carrier_errors,
                s.collisions,
                s.tx_aborted_errors,
            ),
            output_errors: s.tx_aborted_errors,
            dropped: s.tx_dropped,
            // Not recoverable from totals: real packets hide the 1-byte ones.
            underlay_drops: 0,
        }
    }

    /// The increase between two consecutive readings of the same interface
    /// (`after` ≥ `before` field by field; see `went_backwards`).
    pub fn delta(kind: TunnelKind, before: &LinkStats, after: &LinkStats) -> Self {
        let d = |b: u64, a: u64| a.saturating_sub(b);
        let carrier = d(before.tx_carrier_errors, after.tx_carrier_errors);
        let routing_loop = d(before.collisions, after.collisions);
        let output_errors = d(before.tx_aborted_errors, after.tx_aborted_errors);
        let tx_errors = d(before.tx_errors, after.tx_errors);
        let underlay_drops = match kind {
            TunnelKind::Vti | TunnelKind::Vti6 => one_byte_packets(
                d(before.tx_packets, after.tx_packets),
                d(before.tx_bytes, after.tx_bytes),
            ),
            TunnelKind::Xfrm => 0,
        };
        Categories {
            carrier,
            routing_loop,
            too_big: residual(tx_errors, carrier, routing_loop, output_errors),
            output_errors,
            dropped: d(before.tx_dropped, after.tx_dropped),
            underlay_drops,
        }
    }

    pub fn add(&mut self, d: &Categories) {
        for (c, v) in d.iter() {
            let sum = self.get_mut(c);
            *sum = sum.wrapping_add(*v);
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Categories::default()
    }

    /// Did any error category (not `dropped`, which follows the others on
    /// vti6/xfrm) move?
    pub fn any_error(&self) -> bool {
        self.iter()
            .any(|(c, v)| c != ErrorCategory::Dropped && *v > 0)
    }
}

/// tx_errors minus the categories counted elsewhere: too big / malformed.
fn residual(tx_errors: u64, carrier: u64, routing_loop: u64, aborted: u64) -> u64 {
    tx_errors.saturating_sub(carrier.saturating_add(routing_loop).saturating_add(aborted))
}

/// The fewest 1-byte packets that explain `packets` sent in `bytes`: with
/// n fake packets and every real one ≥ 20 bytes, bytes ≥ n + 20·(packets−n),
/// so n ≥ (20·packets − bytes) / 19.
fn one_byte_packets(packets: u64, bytes: u64) -> u64 {
    let floor = packets.saturating_mul(MIN_REAL_PACKET_BYTES);
    if bytes >= floor {
        return 0;
    }
    (floor - bytes)
        .div_ceil(MIN_REAL_PACKET_BYTES - 1)
        .min(packets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(tx_errors: u64, carrier: u64, loops: u64, aborted: u64, dropped: u64) -> LinkStats {
        LinkStats {
            tx_errors,
            tx_carrier_errors: carrier,
            collisions: loops,
            tx_aborted_errors: aborted,
            tx_dropped: dropped,
            ..LinkStats::default()
        }
    }

    #[test]
    fn lab_rows_classify_into_one_category_each() {
        // Deltas measured on 6.1/6.12 (shared/reference/lab-results.md).
        let zero = LinkStats::default();
        let cases = [
            // (kind, after, expected)
            (TunnelKind::Vti, stats(3, 3, 0, 0, 0), (3, 0, 0, 0, 0)), // no SA
            (TunnelKind::Vti6, stats(3, 3, 0, 0, 3), (3, 0, 0, 0, 3)), // no SA, vti6
            (TunnelKind::Xfrm, stats(3, 0, 3, 0, 3), (0, 3, 0, 0, 3)), // routing loop
            (TunnelKind::Vti, stats(1, 0, 0, 0, 0), (0, 0, 1, 0, 0)), // too big
            (TunnelKind::Xfrm, stats(3, 0, 0, 3, 0), (0, 0, 0, 3, 0)), // seq overflow
            // SA hard limit: aborted 1 (expired) + carrier 1 (SA gone), dropped 1 on vti6.
            (TunnelKind::Vti6, stats(2, 1, 0, 1, 1), (1, 0, 0, 1, 1)),
        ];
        for (kind, after, (carrier, lp, big, out, drop)) in cases {
            let c = Categories::delta(kind, &zero, &after);
            assert_eq!(
                (
                    c.carrier,
                    c.routing_loop,
                    c.too_big,
                    c.output_errors,
                    c.dropped
                ),
                (carrier, lp, big, out, drop),
                "{kind:?} {after:?}"
            );
            assert_eq!(Categories::from_totals(&after).too_big, big);
        }
    }

    #[test]
    fn one_byte_packets_below_vti_are_estimated() {
        let before = LinkStats::default();
        // 3 drops below the tunnel: +3 packets, +3 bytes (lab row 8a).
        let after = LinkStats {
            tx_packets: 3,
            tx_bytes: 3,
            ..LinkStats::default()
        };
        assert_eq!(
            Categories::delta(TunnelKind::Vti, &before, &after).underlay_drops,
            3
        );
        assert_eq!(
            Categories::delta(TunnelKind::Xfrm, &before, &after).underlay_drops,
            0
        );
        // Healthy 84-byte pings: nothing suspected.
        let healthy = LinkStats {
            tx_packets: 3,
            tx_bytes: 252,
            ..LinkStats::default()
        };
        assert_eq!(
            Categories::delta(TunnelKind::Vti, &before, &healthy).underlay_drops,
            0
        );
        // Mixed: 2 real 84-byte packets and 3 fake ones → 171 bytes in 5.
        // The bound finds the 3 only if real packets were minimal, so it is
        // a lower bound: (100 - 171) < 0 → 0 here. A mix of 1 real minimal
        // (20 B) and 4 fake (4 B) = 24 B in 5 packets → ≥ 4.
        let mixed = LinkStats {
            tx_packets: 5,
            tx_bytes: 24,
            ..LinkStats::default()
        };
        assert_eq!(
            Categories::delta(TunnelKind::Vti6, &before, &mixed).underlay_drops,
            4
        );
    }

    #[test]
    fn residual_never_underflows() {
        let c = Categories::from_totals(&stats(1, 3, 0, 0, 0));
        assert_eq!(c.too_big, 0);
    }
}
