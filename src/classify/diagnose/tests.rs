use super::*;
use crate::classify::testutil::{out_policy as policy, sa, vti_tunnel, xfrm_tunnel};
use crate::model::{
    AlgorithmNames, Categories, Family, PolicyAction, RouteAnswer, SaDirection, SaRow,
};

const LOCAL: &str = "192.0.2.1";
const REMOTE: &str = "198.51.100.7";

fn carrier(n: u64) -> Categories {
    Categories {
        carrier: n,
        dropped: n,
        ..Categories::default()
    }
}

fn healthy_vti() -> (Tunnel, Vec<SecurityAssociation>, Vec<Policy>) {
    let t = vti_tunnel(7, "vti5", LOCAL, REMOTE, 5);
    let mut out = sa(0x100, LOCAL, REMOTE, SaDirection::Out);
    out.mark = Some((5, 0xffff_ffff));
    let mut inb = sa(0x200, REMOTE, LOCAL, SaDirection::In);
    inb.mark = Some((5, 0xffff_ffff));
    (t, vec![out, inb], vec![policy(Some(5), None, REMOTE)])
}

fn healthy_xfrm() -> (Tunnel, Vec<SecurityAssociation>, Vec<Policy>) {
    let t = xfrm_tunnel(9, "xfrm1", 0x42);
    let mut out = sa(0x300, "203.0.113.1", "203.0.113.9", SaDirection::Out);
    out.if_id = Some(0x42);
    (t, vec![out], vec![policy(None, Some(0x42), "203.0.113.9")])
}

fn run(
    t: &Tunnel,
    delta: &Categories,
    sas: &[SecurityAssociation],
    policies: &[Policy],
    stats: &[(&str, u64)],
    route: Option<RouteAnswer>,
) -> Diagnosis {
    let stats: Vec<(String, u64)> = stats.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    let rows = rows(sas);
    diagnose(&Evidence {
        tunnel: t,
        delta,
        sas: Some(&rows),
        policies: Some(policies),
        default_out_blocks: Some(false),
        xfrm_stat_delta: &stats,
        peer: peer_of(t, &rows, policies),
        route,
        after_hard_expiry: false,
    })
}

fn rows(sas: &[SecurityAssociation]) -> Vec<SaRow> {
    sas.iter()
        .enumerate()
        .map(|(i, sa)| SaRow {
            tunnel_ifindex: 0,
            index: i as u32 + 1,
            sa: sa.clone(),
        })
        .collect()
}

fn via(oif: u32, mtu: u32) -> Option<RouteAnswer> {
    Some(RouteAnswer::Via {
        oif,
        oif_name: "eth0".into(),
        mtu,
    })
}

#[test]
fn nothing_rose_means_no_diagnosis() {
    let (t, sas, pols) = healthy_vti();
    let d = run(&t, &Categories::default(), &sas, &pols, &[], via(2, 1500));
    assert_eq!(d, Diagnosis::none());
}

#[test]
fn no_sa_names_the_missing_sa_and_the_counter() {
    let (t, mut sas, pols) = healthy_vti();
    sas.retain(|s| s.direction == SaDirection::In);
    let d = run(
        &t,
        &carrier(3),
        &sas,
        &pols,
        &[("XfrmOutNoStates", 3)],
        via(2, 1500),
    );
    assert_eq!(d.cause, Cause::NoOutboundSa);
    assert!(d.text.contains("192.0.2.1 -> 198.51.100.7"), "{}", d.text);
    assert!(d.text.contains("mark 0x5"), "{}", d.text);
    assert!(d.text.contains("XfrmOutNoStates +3"), "{}", d.text);
}

#[test]
fn no_policy_and_block_policy() {
    let (t, sas, mut pols) = healthy_vti();
    let d = run(&t, &carrier(3), &sas, &[], &[], via(2, 1500));
    assert_eq!(d.cause, Cause::NoPolicy);
    pols[0].action = PolicyAction::Block;
    let d = run(
        &t,
        &carrier(3),
        &sas,
        &pols,
        &[("XfrmOutPolBlock", 3)],
        via(2, 1500),
    );
    assert_eq!(d.cause, Cause::PolicyBlock);
    assert!(d.text.contains("XfrmOutPolBlock +3"));
}

#[test]
fn default_block_without_policy_is_policy_block() {
    let (t, sas, _) = healthy_vti();
    let sas = rows(&sas);
    let d = diagnose(&Evidence {
        tunnel: &t,
        delta: &carrier(1),
        sas: Some(&sas),
        policies: Some(&[]),
        default_out_blocks: Some(true),
        xfrm_stat_delta: &[],
        peer: None,
        route: None,
        after_hard_expiry: false,
    });
    assert_eq!(d.cause, Cause::PolicyBlock);
}

#[test]
fn no_route_to_peer() {
    let (t, sas, pols) = healthy_vti();
    let route = Some(RouteAnswer::Unreachable("Network is unreachable".into()));
    let d = run(
        &t,
        &carrier(3),
        &sas,
        &pols,
        &[("XfrmOutBundleGenError", 3)],
        route,
    );
    assert_eq!(d.cause, Cause::NoRouteToPeer);
    assert!(d.text.contains("198.51.100.7 from 192.0.2.1"), "{}", d.text);
}

#[test]
fn sa_towards_another_peer_is_an_endpoint_mismatch() {
    let (t, mut sas, pols) = healthy_vti();
    sas[0].dst = "203.0.113.5".parse().unwrap();
    let d = run(&t, &carrier(3), &sas, &pols, &[], via(2, 1500));
    assert_eq!(d.cause, Cause::SaEndpointMismatch);
    assert!(d.text.contains("203.0.113.5"), "{}", d.text);
}

#[test]
fn xfrm_sa_with_other_if_id_is_an_if_id_mismatch() {
    let (t, mut sas, pols) = healthy_xfrm();
    sas[0].if_id = Some(0x43);
    let d = run(
        &t,
        &carrier(3),
        &sas,
        &pols,
        &[("XfrmOutNoStates", 3)],
        None,
    );
    assert_eq!(d.cause, Cause::IfIdMismatch);
    assert!(d.text.contains("if_id 67"), "{}", d.text);
}

#[test]
fn xfrm_without_sa_is_no_outbound_sa() {
    let (t, _, pols) = healthy_xfrm();
    let d = run(&t, &carrier(3), &[], &pols, &[("XfrmOutNoStates", 3)], None);
    assert_eq!(d.cause, Cause::NoOutboundSa);
    assert!(d.text.contains("to 203.0.113.9"), "{}", d.text);
}

#[test]
fn vti6_carrying_ipv4_with_ipv6_selector() {
    let t = vti_tunnel(8, "vti6a", "2001:db8::1", "2001:db8::7", 6);
    let mut out = sa(0x500, "2001:db8::1", "2001:db8::7", SaDirection::Out);
    out.mark = Some((6, 0xffff_ffff));
    // Added without `sel`: the kernel gives the SA its outer family.
    out.selector_family = Family::Inet6;
    // The policy carries IPv4 (0.0.0.0/0 -> 0.0.0.0/0).
    let mut pols = vec![policy(Some(6), None, "2001:db8::7")];
    pols[0].selector_family = Family::Inet;
    let d = run(
        &t,
        &carrier(3),
        std::slice::from_ref(&out),
        &pols,
        &[("XfrmOutNoStates", 3)],
        via(2, 1500),
    );
    assert_eq!(d.cause, Cause::SelectorMismatch);
    assert!(
        d.text
            .contains("has an IPv6 selector but the tunnel's outbound policy carries IPv4"),
        "{}",
        d.text
    );
    // With its IPv4 selector (lab-results: `sel src 0.0.0.0/0 dst 0.0.0.0/0`) the SA
    // covers the packets: no selector problem.
    out.selector_family = Family::Inet;
    let d = run(
        &t,
        &carrier(3),
        &[out],
        &pols,
        &[("XfrmOutNoStates", 3)],
        via(2, 1500),
    );
    assert_eq!(d.cause, Cause::Unknown);
}

#[test]
fn matching_selector_is_not_a_selector_mismatch() {
    // Lab (alarms part): carrier errors counted while the SA was missing, looked up
    // after it came back (IPv4 in IPv4 xfrm, SA and policy selectors both IPv4), with
    // XfrmOutNoStates moving: nothing is wrong now — not a selector mismatch.
    let (t, mut sas, mut pols) = healthy_xfrm();
    sas[0].selector_family = Family::Inet;
    pols[0].selector_family = Family::Inet;
    let d = run(
        &t,
        &carrier(2),
        &sas,
        &pols,
        &[("XfrmOutNoStates", 2)],
        via(2, 1500),
    );
    assert_eq!(d.cause, Cause::Unknown, "{}", d.text);
}

#[test]
fn two_tunnels_failing_differently_get_their_own_causes() {
    // Same namespace-wide xfrm_stat for both; the per-tunnel look-ups differ.
    let (vti, mut sas, mut pols) = healthy_vti();
    let (xfrm, xsas, xpols) = healthy_xfrm();
    sas.retain(|s| s.direction == SaDirection::In); // vti: no SA
    pols.extend(xpols.into_iter().map(|mut p| {
        p.action = PolicyAction::Block; // xfrm: block policy
        p
    }));
    sas.extend(xsas);
    let stats = [("XfrmOutNoStates", 3), ("XfrmOutPolBlock", 3)];
    let a = run(&vti, &carrier(3), &sas, &pols, &stats, via(2, 1500));
    let b = run(&xfrm, &carrier(3), &sas, &pols, &stats, None);
    assert_eq!(
        (a.cause, b.cause),
        (Cause::NoOutboundSa, Cause::PolicyBlock)
    );
}

#[test]
fn routing_loop_names_the_tunnel_itself() {
    let (t, sas, pols) = healthy_vti();
    let delta = Categories {
        routing_loop: 3,
        ..Categories::default()
    };
    let route = Some(RouteAnswer::Via {
        oif: 7,
        oif_name: "vti5".into(),
        mtu: 1400,
    });
    let d = run(&t, &delta, &sas, &pols, &[], route);
    assert_eq!(d.cause, Cause::RoutingLoop);
    assert!(d.text.contains("goes out of vti5 itself"), "{}", d.text);
}

#[test]
fn too_big_reports_both_mtus() {
    let (mut t, sas, pols) = healthy_vti();
    t.mtu = 1500;
    let delta = Categories {
        too_big: 1,
        ..Categories::default()
    };
    let d = run(&t, &delta, &sas, &pols, &[], via(2, 1500));
    assert_eq!(d.cause, Cause::MtuExceeded);
    // What the kernel computes (and the lab's ping reported: "mtu=1438"):
    // ((1500 - 20 outer - 8 ESP - 16 IV - 16 ICV) & ~15) - 2.
    assert!(d.text.contains("tunnel MTU 1500"), "{}", d.text);
    assert!(d.text.contains("the path allows 1438"), "{}", d.text);
    assert!(
        d.text.contains("eth0 MTU 1500 minus 62 bytes"),
        "{}",
        d.text
    );
    assert!(d.text.contains("cbc(aes)+hmac(sha256)"), "{}", d.text);
    // Without the SAs (no CAP_NET_ADMIN) only an estimate.
    let d = diagnose(&Evidence {
        tunnel: &t,
        delta: &delta,
        sas: None,
        policies: None,
        default_out_blocks: None,
        xfrm_stat_delta: &[],
        peer: peer_of(&t, &[], &[]),
        route: via(2, 1500),
        after_hard_expiry: false,
    });
    assert_eq!(d.cause, Cause::MtuExceeded);
    assert!(d.text.contains("leaves about 1427"), "{}", d.text);
}

#[test]
fn esp_inner_mtu_is_the_kernels() {
    let mut v4 = sa(1, "192.0.2.1", "192.0.2.2", SaDirection::Out);
    let mut v6 = sa(1, "2001:db8::1", "2001:db8::2", SaDirection::Out);
    // Lab (6.1, 6.12): cbc(aes) + hmac(sha256)-128 → 1438 / 1406.
    assert_eq!(esp_inner_mtu(&v4, 1500), 1438);
    assert_eq!(esp_inner_mtu(&v6, 1500), 1406);
    // AES-GCM (8-byte IV, 16-byte ICV, 4-byte alignment):
    // (1500 - 20 - 8 - 8 - 16) & ~3 = 1448, - 2.
    for s in [&mut v4, &mut v6] {
        s.algorithms = AlgorithmNames {
            aead_alg: Some("rfc4106(gcm(aes))".into()),
            ..AlgorithmNames::default()
        }
        .into();
    }
    assert_eq!(esp_inner_mtu(&v4, 1500), 1446);
    assert_eq!(esp_inner_mtu(&v6, 1500), 1426);
    // 3DES + SHA1-96: (1400 - 20 - 8 - 8 - 12) & ~7 = 1352, - 2.
    v4.algorithms = AlgorithmNames {
        enc_alg: Some("cbc(des3_ede)".into()),
        auth_alg: Some("hmac(sha1)".into()),
        ..AlgorithmNames::default()
    }
    .into();
    assert_eq!(esp_inner_mtu(&v4, 1400), 1350);
    // A path too small for anything does not underflow.
    assert_eq!(esp_inner_mtu(&v4, 40), 0);
}

#[test]
fn output_errors_by_xfrm_stat() {
    let (t, sas, pols) = healthy_vti();
    let aborted = |n| Categories {
        output_errors: n,
        ..Categories::default()
    };
    let d = run(
        &t,
        &aborted(3),
        &sas,
        &pols,
        &[("XfrmOutStateSeqError", 3)],
        None,
    );
    assert_eq!(d.cause, Cause::SeqOverflow);
    // Hard limit: 1 aborted (expired) + 1 carrier (SA gone) → the expiry.
    let mut both = aborted(1);
    both.carrier = 1;
    let stats = [("XfrmOutStateExpired", 1), ("XfrmOutNoStates", 1)];
    let d = run(&t, &both, &[], &pols, &stats, None);
    assert_eq!(d.cause, Cause::SaHardExpired);
    let d = run(&t, &aborted(2), &sas, &pols, &[], None);
    assert_eq!(d.cause, Cause::OutputError);
}

#[test]
fn xfrm_aborted_without_xfrm_counters_is_an_underlay_drop() {
    let (t, sas, pols) = healthy_xfrm();
    let delta = Categories {
        output_errors: 3,
        ..Categories::default()
    };
    let d = run(&t, &delta, &sas, &pols, &[], None);
    assert_eq!(d.cause, Cause::UnderlayDrop);
}

#[test]
fn vti_one_byte_packets_are_an_underlay_drop() {
    let (t, sas, pols) = healthy_vti();
    let delta = Categories {
        underlay_drops: 3,
        ..Categories::default()
    };
    let d = run(&t, &delta, &sas, &pols, &[], None);
    assert_eq!(d.cause, Cause::UnderlayDrop);
}

#[test]
fn unreadable_xfrm_data_gives_unknown_not_a_guess() {
    let (t, _, _) = healthy_vti();
    let d = diagnose(&Evidence {
        tunnel: &t,
        delta: &carrier(1),
        sas: None,
        policies: None,
        default_out_blocks: None,
        xfrm_stat_delta: &[],
        peer: None,
        route: None,
        after_hard_expiry: false,
    });
    assert_eq!(d.cause, Cause::Unknown);
    assert!(d.text.contains("CAP_NET_ADMIN"));
}

#[test]
fn no_sa_right_after_a_hard_expiry_is_still_the_expiry() {
    // Lab "SA hard limit": the packet hitting the limit is aborted, the next one
    // finds no SA; when the two fall into different polls (or traffic goes on),
    // the second poll sees carrier errors and no SA.
    let (t, mut sas, pols) = healthy_vti();
    sas.retain(|s| s.direction == SaDirection::In);
    let rows = rows(&sas);
    let stats = vec![("XfrmOutNoStates".to_string(), 1)];
    let mut e = Evidence {
        tunnel: &t,
        delta: &carrier(1),
        sas: Some(&rows),
        policies: Some(&pols),
        default_out_blocks: Some(false),
        xfrm_stat_delta: &stats,
        peer: peer_of(&t, &rows, &pols),
        route: via(2, 1500),
        after_hard_expiry: true,
    };
    let d = diagnose(&e);
    assert_eq!(d.cause, Cause::SaHardExpired);
    assert!(
        d.text.contains("hard-expired and was not replaced"),
        "{}",
        d.text
    );
    assert!(d.text.contains("mark 0x5"), "{}", d.text);
    e.after_hard_expiry = false;
    assert_eq!(diagnose(&e).cause, Cause::NoOutboundSa);
}

#[test]
fn routing_loop_on_xfrm_names_the_sa_peer() {
    let (t, sas, pols) = healthy_xfrm();
    let delta = Categories {
        routing_loop: 3,
        dropped: 3,
        ..Categories::default()
    };
    let route = Some(RouteAnswer::Via {
        oif: 9,
        oif_name: "xfrm1".into(),
        mtu: 1500,
    });
    let d = run(&t, &delta, &sas, &pols, &[], route);
    assert_eq!(d.cause, Cause::RoutingLoop);
    assert!(
        d.text
            .contains("the route to 203.0.113.9 goes out of xfrm1 itself"),
        "{}",
        d.text
    );
}

/// SA rows as the builder makes them: each names the tunnel that uses it.
fn owned_rows(tunnels: &[Tunnel], sas: &[SecurityAssociation]) -> Vec<SaRow> {
    let owners = crate::classify::mapping::map_sas(tunnels, sas);
    sas.iter()
        .zip(owners)
        .enumerate()
        .map(|(i, (sa, owner))| SaRow {
            tunnel_ifindex: owner,
            index: i as u32 + 1,
            sa: sa.clone(),
        })
        .collect()
}

fn run_among(
    tunnels: &[Tunnel],
    t: &Tunnel,
    sas: &[SecurityAssociation],
    pols: &[Policy],
) -> Diagnosis {
    let rows = owned_rows(tunnels, sas);
    let stats = vec![("XfrmOutNoStates".to_string(), 3)];
    diagnose(&Evidence {
        tunnel: t,
        delta: &carrier(3),
        sas: Some(&rows),
        policies: Some(pols),
        default_out_blocks: Some(false),
        xfrm_stat_delta: &stats,
        peer: peer_of(t, &rows, pols),
        route: via(2, 1500),
        after_hard_expiry: false,
    })
}

#[test]
fn xfrm_siblings_to_one_peer_are_not_blamed_for_a_missing_sa() {
    // Four XFRM interfaces to one peer (if_id 0x42..0x45): the first two have their
    // SAs, the last two lost theirs. Each tunnel's SA is its own: the two without one
    // have no outbound SA, not an if_id mismatch with a working neighbour.
    const PEER: &str = "203.0.113.9";
    let tunnels: Vec<Tunnel> = (0..4)
        .map(|i| xfrm_tunnel(9 + i, &format!("xfrm{}", i + 1), 0x42 + i))
        .collect();
    let mut sas = Vec::new();
    for i in 0..2 {
        let mut out = sa(0x300 + i, "203.0.113.1", PEER, SaDirection::Out);
        out.if_id = Some(0x42 + i);
        let mut inb = sa(0x400 + i, PEER, "203.0.113.1", SaDirection::In);
        inb.if_id = Some(0x42 + i);
        sas.extend([out, inb]);
    }
    let pols: Vec<Policy> = (0..4).map(|i| policy(None, Some(0x42 + i), PEER)).collect();
    for t in &tunnels[2..] {
        let d = run_among(&tunnels, t, &sas, &pols);
        assert_eq!(d.cause, Cause::NoOutboundSa, "{}: {}", t.name, d.text);
        let if_id = t.if_id.unwrap();
        assert!(d.text.contains(&format!("if_id {if_id}")), "{}", d.text);
        assert!(d.text.contains(&format!("to {PEER}")), "{}", d.text);
        assert!(!d.text.contains("spi"), "{}", d.text);
    }
    // An SA towards that peer that no interface uses (if_id 0x99) is the near miss:
    // the if_id mismatch is named, for each tunnel without an SA.
    let mut orphan = sa(0x999, "203.0.113.1", PEER, SaDirection::Out);
    orphan.if_id = Some(0x99);
    sas.push(orphan);
    for t in &tunnels[2..] {
        let d = run_among(&tunnels, t, &sas, &pols);
        assert_eq!(d.cause, Cause::IfIdMismatch, "{}: {}", t.name, d.text);
        assert!(d.text.contains("spi 0x00000999"), "{}", d.text);
        assert!(d.text.contains("has if_id 153"), "{}", d.text);
    }
    // Without the other interfaces (deleted), their SAs are nobody's: near misses.
    let d = run_among(&tunnels[2..3], &tunnels[2], &sas[..4], &pols);
    assert_eq!(d.cause, Cause::IfIdMismatch, "{}", d.text);
}

#[test]
fn vti_siblings_sharing_a_mark_are_not_an_endpoint_mismatch() {
    // Per-subnet tunnels to one peer, from different local addresses, with the same
    // mark: each sibling's SA is a near miss of the others (same mark, other source),
    // but it is a working tunnel's own. IPv4 and IPv6 outer.
    for (locals, peer, other_peer) in [
        (
            ["192.0.2.1", "192.0.2.3", "192.0.2.5"],
            "198.51.100.7",
            "203.0.113.5",
        ),
        (
            ["2001:db8::1", "2001:db8::3", "2001:db8::5"],
            "2001:db8::7",
            "2001:db8:ffff::5",
        ),
    ] {
        let tunnels: Vec<Tunnel> = locals
            .iter()
            .enumerate()
            .map(|(i, l)| vti_tunnel(7 + i as u32, &format!("vti{i}"), l, peer, 5))
            .collect();
        let marked = |spi, src, dst, dir| {
            let mut s = sa(spi, src, dst, dir);
            s.mark = Some((5, 0xffff_ffff));
            s
        };
        // The first tunnel has its SAs; the other two have lost theirs.
        let mut sas = vec![
            marked(0x100, locals[0], peer, SaDirection::Out),
            marked(0x200, peer, locals[0], SaDirection::In),
        ];
        let pols = vec![policy(Some(5), None, peer)];
        for t in &tunnels[1..] {
            let d = run_among(&tunnels, t, &sas, &pols);
            assert_eq!(d.cause, Cause::NoOutboundSa, "{}: {}", t.name, d.text);
            let local = t.local.unwrap();
            assert!(d.text.contains(&format!("{local} -> {peer}")), "{}", d.text);
        }
        // An SA with that mark no tunnel uses (towards another peer): the endpoint
        // mismatch is named.
        sas.push(marked(0x999, locals[2], other_peer, SaDirection::Out));
        let d = run_among(&tunnels, &tunnels[2], &sas, &pols);
        assert_eq!(d.cause, Cause::SaEndpointMismatch, "{}", d.text);
        assert!(d.text.contains("spi 0x00000999"), "{}", d.text);
        assert!(d.text.contains(other_peer), "{}", d.text);
    }
}
