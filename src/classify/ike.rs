//! The IKE half of the classify stage: the collected `IkeSample` becomes
//! the served IKE view (one row per connection / CHILD_SA config, stable
//! row numbers), each row joined to the tunnel it drives, and the tunnels'
//! diagnoses say what IKE knows.
//!
//! The join uses only what the kernel and charon both state: the child's
//! if_id (xfrm interfaces), its outbound mark against the okey (vti/vti6),
//! its outbound SPI against the tunnel's outbound SAs, its reqid against
//! the tunnel's SAs — never names.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use crate::collect::ike::{ChildBinding, ChildSa, IkeSa, IkeSample};
use crate::model::{
    reason_label, Cause, ChildSaState, Diagnosis, IkeRow, IkeSaState, IkeView, OperStatus,
    SaDirection, SaRow, Snapshot, Tunnel, TunnelIke, TunnelKind,
};

/// Most rows kept (configured children); more are dropped, not served.
const MAX_ROWS: usize = 20_000;

/// Polls for which a row that was up keeps its last live data when its IKE
/// SA is missing from `list-sas` with no down event seen: charon's
/// `noblock` listing skips an IKE SA that is busy (e.g. rekeying), which
/// must not read as "down".
const BUSY_POLLS: u8 = 3;

/// Keeps the vtiIkeTable row numbers stable across polls.
#[derive(Default)]
pub struct IkeJoiner {
    indexes: HashMap<(String, String), u32>,
    next: u32,
    /// The rows served last, by (connection, child), and for how many
    /// polls each has been carried over (`BUSY_POLLS`).
    previous: HashMap<(String, String), (IkeRow, u8)>,
}

impl IkeJoiner {
    /// Fills `snapshot.ike` and each tunnel's `ike` from `sample` (`None`:
    /// the IKE view is disabled), then completes the tunnels' diagnoses.
    pub fn attach(&mut self, snapshot: &mut Snapshot, sample: Option<&IkeSample>) {
        let now_unix = snapshot
            .wall_time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        snapshot.ike = match sample {
            None => IkeView::default(),
            Some(sample) if !sample.available => IkeView {
                enabled: true,
                available: false,
                unavailable: sample.unavailable.clone(),
                rows: Vec::new(),
            },
            Some(sample) => {
                let mut rows = self.rows(sample, now_unix);
                for row in &mut rows {
                    row.tunnel_ifindex = join(row, &snapshot.tunnels, &snapshot.sas);
                }
                IkeView {
                    enabled: true,
                    available: true,
                    unavailable: None,
                    rows,
                }
            }
        };
        for t in &mut snapshot.tunnels {
            t.ike = tunnel_ike(t.tunnel.ifindex, &snapshot.ike.rows);
            complete_diagnosis(&t.tunnel, t.ike.as_ref(), &mut t.diagnosis);
        }
    }

    /// One row per configured child (a connection without children: one
    /// row), then one per live child whose config is gone; numbered stably.
    fn rows(&mut self, sample: &IkeSample, now: u64) -> Vec<IkeRow> {
        let mut rows = Vec::new();
        let mut seen: HashMap<(String, String), ()> = HashMap::new();
        let previous = std::mem::take(&mut self.previous);
        let mut add = |joiner: &mut Self, conn: &str, child: &str, row: IkeRow| {
            let key = (conn.to_owned(), child.to_owned());
            if seen.contains_key(&key) || rows.len() >= MAX_ROWS {
                return;
            }
            let index = joiner.index_of(&key);
            let (row, carried) = match previous.get(&key) {
                Some((before, n))
                    if row.ike_state == IkeSaState::None
                        && before.is_up()
                        && before.last_failure == row.last_failure
                        && *n < BUSY_POLLS =>
                {
                    (before.clone(), n + 1)
                }
                _ => (row, 0),
            };
            let row = IkeRow { index, ..row };
            joiner.previous.insert(key.clone(), (row.clone(), carried));
            seen.insert(key, ());
            rows.push(row);
        };
        for conn in &sample.connections {
            let children: Vec<(&str, Option<&ChildBinding>)> = if conn.children.is_empty() {
                vec![("", None)]
            } else {
                conn.children
                    .iter()
                    .map(|c| (c.name.as_str(), Some(&c.binding)))
                    .collect()
            };
            for (child, configured) in children {
                let mut row = live_row(&sample.ike_sas, &conn.name, child, now);
                row.version = match (row.version, conn.version.as_str()) {
                    (0, "IKEv1") => 1,
                    (0, "IKEv2") => 2,
                    (v, _) => v,
                };
                if row.local_host.is_empty() {
                    row.local_host = conn.local_addrs.join(",");
                }
                if row.remote_host.is_empty() {
                    row.remote_host = conn.remote_addrs.join(",");
                }
                if let Some(b) = configured.filter(|_| row.child_state == ChildSaState::None) {
                    apply_binding(&mut row, b);
                }
                row.last_failure = conn.last_failure.clone();
                add(self, &conn.name, child, row);
            }
        }
        for sa in &sample.ike_sas {
            for child in &sa.children {
                let row = live_row(&sample.ike_sas, &sa.name, &child.name, now);
                add(self, &sa.name, &child.name, row);
            }
        }
        let present: std::collections::HashSet<u32> = rows.iter().map(|r| r.index).collect();
        self.indexes.retain(|_, i| present.contains(i));
        rows.sort_by_key(|r| r.index);
        rows
    }

    fn index_of(&mut self, key: &(String, String)) -> u32 {
        if let Some(&i) = self.indexes.get(key) {
            return i;
        }
        // 1.., skipping numbers in use after a wrap.
        loop {
            self.next = self.next.checked_add(1).unwrap_or(1);
            if !self.indexes.values().any(|&i| i == self.next) {
                break;
            }
        }
        self.indexes.insert(key.clone(), self.next);
        self.next
    }
}

/// Which of several CHILD_SAs of one config speaks for it: one that carries
/// traffic (newest first), else the newest.
fn rank(child: &ChildSa) -> (bool, u32) {
    (ChildSaState::parse(&child.state).is_up(), child.uniqueid)
}

/// The row of (`conn`, `child`) from the live SAs (states `None` when there
/// are none).
fn live_row(sas: &[IkeSa], conn: &str, child: &str, now: u64) -> IkeRow {
    let mine = || sas.iter().filter(|sa| sa.name == conn);
    let best_child = mine()
        .flat_map(|sa| sa.children.iter().map(move |c| (sa, c)))
        .filter(|(_, c)| c.name == child && !child.is_empty())
        .max_by_key(|(_, c)| rank(c));
    let ike = best_child
        .map(|(sa, _)| sa)
        .or_else(|| mine().max_by_key(|sa| (IkeSaState::parse(&sa.state).is_up(), sa.uniqueid)));
    let mut row = IkeRow {
        conn: conn.to_owned(),
        child: child.to_owned(),
        ..IkeRow::default()
    };
    if let Some(sa) = ike {
        row.ike_state = IkeSaState::parse(&sa.state);
        row.version = sa.version;
        row.local_host = sa.local_host.clone();
        row.remote_host = sa.remote_host.clone();
        row.remote_id = sa.remote_id.clone();
        row.established_unix = sa.established_secs.map(|s| now.saturating_sub(s));
        row.ike_rekey_unix = sa.rekey_secs.map(|s| now.saturating_add(s));
        row.ike_reauth_unix = sa.reauth_secs.map(|s| now.saturating_add(s));
        row.ike_algorithms = algorithms(&[
            sa.encr_alg
                .as_deref()
                .map(|a| with_keysize(a, sa.encr_keysize)),
            sa.integ_alg.clone(),
            sa.prf_alg.clone(),
            sa.dh_group.clone(),
        ]);
    }
    if let Some((_, c)) = best_child {
        row.child_state = ChildSaState::parse(&c.state);
        row.child_rekey_unix = c.rekey_secs.map(|s| now.saturating_add(s));
        row.child_expire_unix = c.life_secs.map(|s| now.saturating_add(s));
        row.child_algorithms = algorithms(&[
            c.encr_alg
                .as_deref()
                .map(|a| with_keysize(a, c.encr_keysize)),
            c.integ_alg.clone(),
            c.dh_group.clone(),
        ]);
        row.spi_in = spi(c.spi_in.as_deref());
        row.spi_out = spi(c.spi_out.as_deref());
        apply_binding(&mut row, &c.binding);
    }
    row
}

fn apply_binding(row: &mut IkeRow, b: &ChildBinding) {
    row.reqid = b.reqid.unwrap_or(0);
    row.if_id_in = b.if_id_in.unwrap_or(0);
    row.if_id_out = b.if_id_out.unwrap_or(0);
    row.mark_in = b.mark_in.map_or(0, |m| m.value);
    row.mark_out = b.mark_out.map_or(0, |m| m.value);
}

fn with_keysize(alg: &str, keysize: Option<u32>) -> String {
    match keysize {
        Some(k) => format!("{alg}-{k}"),
        None => alg.to_owned(),
    }
}

fn algorithms(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("/")
}

/// charon prints SPIs as 8 hex digits.
fn spi(text: Option<&str>) -> u32 {
    text.and_then(|t| u32::from_str_radix(t, 16).ok())
        .unwrap_or(0)
}

/// The tunnel `row` drives: by if_id (xfrm), outbound mark = okey
/// (vti/vti6), then by its outbound SPI or reqid among the tunnels' SAs.
fn join(row: &IkeRow, tunnels: &[crate::model::TunnelRow], sas: &[SaRow]) -> u32 {
    let by_binding = tunnels.iter().find(|t| {
        let t = &t.tunnel;
        match t.kind {
            TunnelKind::Xfrm => t
                .if_id
                .is_some_and(|id| id != 0 && (row.if_id_out == id || row.if_id_in == id)),
            TunnelKind::Vti | TunnelKind::Vti6 => {
                t.okey.is_some_and(|k| k != 0 && row.mark_out == k)
            }
        }
    });
    if let Some(t) = by_binding {
        return t.tunnel.ifindex;
    }
    let attached = || sas.iter().filter(|s| s.tunnel_ifindex != 0);
    if row.spi_out != 0 {
        if let Some(s) =
            attached().find(|s| s.sa.direction == SaDirection::Out && s.sa.spi == row.spi_out)
        {
            return s.tunnel_ifindex;
        }
    }
    if row.reqid != 0 {
        if let Some(s) = attached().find(|s| s.sa.reqid == row.reqid) {
            return s.tunnel_ifindex;
        }
    }
    0
}

/// A tunnel's IKE summary: of the rows joined to it, one whose CHILD_SA is
/// up, else the one that failed last.
fn tunnel_ike(ifindex: u32, rows: &[IkeRow]) -> Option<TunnelIke> {
    let row = rows
        .iter()
        .filter(|r| r.tunnel_ifindex == ifindex)
        .max_by_key(|r| (r.is_up(), r.last_failure.as_ref().map(|f| f.unix_secs)))?;
    Some(TunnelIke {
        index: row.index,
        conn: row.conn.clone(),
        child: row.child.clone(),
        ike_state: row.ike_state,
        child_state: row.child_state,
        up: row.is_up(),
        last_failure: row.last_failure.clone(),
    })
}

/// The tunnel is administratively or operationally down.
pub fn is_down(t: &Tunnel) -> bool {
    !t.admin_up || matches!(t.oper, OperStatus::Down | OperStatus::LowerLayerDown)
}

/// What IKE says about a tunnel, for diagnosis texts: "CHILD_SA vti1
/// INSTALLED" or "CHILD_SA vti1 down since 12:03:07 UTC, authFailed:
/// received AUTHENTICATION_FAILED notify error".
pub fn ike_text(ike: &TunnelIke) -> String {
    let name = if ike.child.is_empty() {
        format!("IKE_SA {}", ike.conn)
    } else {
        format!("CHILD_SA {}", ike.child)
    };
    if ike.up {
        return format!("{name} {}", ike.child_state.label());
    }
    let mut text = match (ike.child_state, &ike.last_failure) {
        (ChildSaState::None, Some(f)) => format!("{name} down since {}", clock_utc(f.unix_secs)),
        (ChildSaState::None, None) => format!("{name} down"),
        (state, _) => format!("{name} {}", state.label()),
    };
    if let Some(f) = &ike.last_failure {
        text.push_str(&format!(", {}: {}", reason_label(f.reason), f.message));
    }
    text
}

/// HH:MM:SS UTC of a Unix time.
fn clock_utc(unix: u64) -> String {
    let s = unix % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// A down tunnel is diagnosed as such (it sends nothing, so no TX error
/// would ever say so); a missing SA or policy names the IKE reason.
fn complete_diagnosis(t: &Tunnel, ike: Option<&TunnelIke>, diagnosis: &mut Diagnosis) {
    if is_down(t) {
        let how = if !t.admin_up {
            "administratively down"
        } else {
            "operationally down"
        };
        let mut text = format!("{} is {how}", t.name);
        if let Some(ike) = ike {
            text.push_str(": ");
            text.push_str(&ike_text(ike));
        }
        *diagnosis = Diagnosis {
            cause: Cause::TunnelDown,
            text,
        };
        return;
    }
    if let (Cause::NoOutboundSa | Cause::NoPolicy, Some(ike)) = (diagnosis.cause, ike) {
        diagnosis.text = format!("{}; IKE: {}", diagnosis.text, ike_text(ike));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use super::*;
    use crate::classify::testutil::{sa, tunnel_row, vti_tunnel, xfrm_tunnel};
    use crate::collect::ike::{ChildConfig, IkeConnection, IkeFailure, Mark, TermReason};
    use crate::model::{Availability, TunnelRow};

    fn snapshot(tunnels: Vec<TunnelRow>, sas: Vec<SaRow>) -> Snapshot {
        Snapshot {
            taken_at: Instant::now(),
            wall_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
            poll_interval_secs: 10,
            kernel_release: "6.1.0-test".into(),
            xfrm_available: true,
            xfrm_stat: Availability::Available(vec![]),
            xfrm_stat_delta: vec![],
            tunnels,
            sas,
            policies: Availability::Available(vec![]),
            poll_failures: 0,
            ike: IkeView::default(),
        }
    }

    fn conn(name: &str, child: &str, binding: ChildBinding) -> IkeConnection {
        IkeConnection {
            name: name.into(),
            version: "IKEv2".into(),
            local_addrs: vec!["192.0.2.1".into()],
            remote_addrs: vec!["192.0.2.2".into()],
            children: vec![ChildConfig {
                name: child.into(),
                mode: "TUNNEL".into(),
                binding,
            }],
            last_failure: None,
        }
    }

    fn child(name: &str, id: u32, state: &str, spi_out: &str, binding: ChildBinding) -> ChildSa {
        ChildSa {
            name: name.into(),
            uniqueid: id,
            state: state.into(),
            spi_in: Some("c0000001".into()),
            spi_out: Some(spi_out.into()),
            binding,
            ..ChildSa::default()
        }
    }

    fn ike_sa(name: &str, children: Vec<ChildSa>) -> IkeSa {
        IkeSa {
            name: name.into(),
            uniqueid: 1,
            state: "ESTABLISHED".into(),
            version: 2,
            local_host: "192.0.2.1".into(),
            remote_host: "192.0.2.2".into(),
            remote_id: "192.0.2.2".into(),
            established_secs: Some(30),
            children,
            ..IkeSa::default()
        }
    }

    fn if_id(n: u32) -> ChildBinding {
        ChildBinding {
            if_id_in: Some(n),
            if_id_out: Some(n),
            ..ChildBinding::default()
        }
    }

    #[test]
    fn joins_by_if_id_mark_and_spi_never_by_name() {
        let x = xfrm_tunnel(5, "vti1", 2);
        let v = vti_tunnel(6, "peerA", "192.0.2.1", "192.0.2.2", 0x20);
        let y = xfrm_tunnel(7, "conn-c", 0x30);
        let mut out = sa(0xdead_beef, "192.0.2.1", "192.0.2.2", SaDirection::Out);
        out.if_id = Some(0x30);
        let sas = vec![SaRow {
            tunnel_ifindex: 7,
            index: 1,
            sa: out,
        }];
        let mut snap = snapshot(vec![tunnel_row(x), tunnel_row(v), tunnel_row(y)], sas);
        let mark = ChildBinding {
            mark_out: Some(Mark {
                value: 0x20,
                mask: 0xffff_ffff,
            }),
            ..ChildBinding::default()
        };
        let sample = IkeSample {
            available: true,
            connections: vec![
                // Named like another tunnel: the name must not matter.
                conn("peerA", "peerA", if_id(2)),
                conn("b", "b", ChildBinding::default()),
                conn("c", "c", ChildBinding::default()),
                conn("nowhere", "nowhere", if_id(99)),
            ],
            ike_sas: vec![
                ike_sa("b", vec![child("b", 3, "INSTALLED", "0000aaaa", mark)]),
                ike_sa(
                    "c",
                    vec![child(
                        "c",
                        4,
                        "INSTALLED",
                        "deadbeef",
                        ChildBinding::default(),
                    )],
                ),
            ],
            ..IkeSample::default()
        };
        let mut joiner = IkeJoiner::default();
        joiner.attach(&mut snap, Some(&sample));
        let joined: Vec<(&str, u32)> = snap
            .ike
            .rows
            .iter()
            .map(|r| (r.conn.as_str(), r.tunnel_ifindex))
            .collect();
        assert_eq!(joined, [("peerA", 5), ("b", 6), ("c", 7), ("nowhere", 0)]);
        assert_eq!(snap.tunnels[1].ike.as_ref().unwrap().conn, "b");
        assert_eq!(snap.ike.rows[1].child_state, ChildSaState::Installed);
        assert_eq!(snap.ike.rows[0].child_state, ChildSaState::None);
        assert_eq!(snap.ike.rows[1].established_unix, Some(1_000_000 - 30));
    }

    #[test]
    fn rows_keep_their_index_and_a_rekey_moves_to_the_new_spi() {
        let mut snap = snapshot(vec![tunnel_row(xfrm_tunnel(5, "vti1", 2))], vec![]);
        let mut joiner = IkeJoiner::default();
        let mut sample = IkeSample {
            available: true,
            connections: vec![conn("a", "a", if_id(2)), conn("b", "b", if_id(3))],
            ike_sas: vec![ike_sa(
                "a",
                vec![child("a", 1, "INSTALLED", "00000001", if_id(2))],
            )],
            ..IkeSample::default()
        };
        joiner.attach(&mut snap, Some(&sample));
        let index_b = snap.ike.rows[1].index;
        // A rekey: the old CHILD_SA REKEYED, a newer one INSTALLED; "a"'s
        // config removed and re-added keeps "b" where it was.
        sample.ike_sas[0].children = vec![
            child("a", 1, "REKEYED", "00000001", if_id(2)),
            child("a", 2, "INSTALLED", "00000002", if_id(2)),
        ];
        joiner.attach(&mut snap, Some(&sample));
        assert_eq!(snap.ike.rows[1].index, index_b);
        assert_eq!(snap.ike.rows[0].spi_out, 2);
        assert_eq!(snap.ike.rows[0].child_state, ChildSaState::Installed);
        assert!(snap.tunnels[0].ike.as_ref().unwrap().up);
        // charon's noblock listing skips a busy IKE SA: up for a few polls
        // while no down event says otherwise, then down.
        let busy = IkeSample {
            ike_sas: vec![],
            ..sample.clone()
        };
        for _ in 0..BUSY_POLLS {
            joiner.attach(&mut snap, Some(&busy));
            assert_eq!(snap.ike.rows[0].child_state, ChildSaState::Installed);
        }
        joiner.attach(&mut snap, Some(&busy));
        assert_eq!(snap.ike.rows[0].child_state, ChildSaState::None);
        // A down event (a new failure) is believed at once.
        joiner.attach(&mut snap, Some(&sample));
        let mut down = busy.clone();
        down.connections[0].last_failure = Some(IkeFailure {
            reason: TermReason::DeletedByPeer,
            message: "received DELETE for IKE_SA a[1]".into(),
            unix_secs: 5,
            ike_sa_uniqueid: Some(1),
            child: None,
        });
        joiner.attach(&mut snap, Some(&down));
        assert_eq!(snap.ike.rows[0].child_state, ChildSaState::None);
    }

    #[test]
    fn a_down_tunnel_is_diagnosed_with_the_ike_reason() {
        let mut t = xfrm_tunnel(5, "vti1", 2);
        t.admin_up = false;
        let mut snap = snapshot(vec![tunnel_row(t)], vec![]);
        let mut c = conn("peer", "vti1", if_id(2));
        c.last_failure = Some(IkeFailure {
            reason: TermReason::AuthFailed,
            message: "received AUTHENTICATION_FAILED notify error".into(),
            unix_secs: 12 * 3600 + 3 * 60 + 7,
            ike_sa_uniqueid: Some(1),
            child: None,
        });
        let sample = IkeSample {
            available: true,
            connections: vec![c],
            ..IkeSample::default()
        };
        IkeJoiner::default().attach(&mut snap, Some(&sample));
        let d = &snap.tunnels[0].diagnosis;
        assert_eq!(d.cause, Cause::TunnelDown);
        assert_eq!(
            d.text,
            "vti1 is administratively down: CHILD_SA vti1 down since 12:03:07 UTC, \
             authFailed: received AUTHENTICATION_FAILED notify error"
        );
    }

    #[test]
    fn no_outbound_sa_names_the_ike_reason_and_unavailable_ike_says_why() {
        let mut row = tunnel_row(xfrm_tunnel(5, "xfrm1", 2));
        row.diagnosis = Diagnosis {
            cause: Cause::NoOutboundSa,
            text: "no outbound SA".into(),
        };
        let mut snap = snapshot(vec![row], vec![]);
        let sample = IkeSample {
            available: true,
            connections: vec![conn("peer", "child", if_id(2))],
            ..IkeSample::default()
        };
        let mut joiner = IkeJoiner::default();
        joiner.attach(&mut snap, Some(&sample));
        assert_eq!(
            snap.tunnels[0].diagnosis.text,
            "no outbound SA; IKE: CHILD_SA child down"
        );
        let gone = IkeSample {
            available: false,
            unavailable: Some("no VICI socket".into()),
            ..IkeSample::default()
        };
        joiner.attach(&mut snap, Some(&gone));
        assert!(snap.ike.enabled && !snap.ike.available && snap.ike.rows.is_empty());
        assert!(snap.tunnels[0].ike.is_none());
    }
}
