//! The message type of our NETLINK_XFRM connection: dump requests (and the
//! default-policy question) out, SA and policy dump entries (and the
//! default policies) in, parsed straight into key-free model values.
//!
//! Why not `netlink_packet_xfrm::XfrmMessage`: its SA types copy the key
//! bytes of every XFRMA_ALG_* attribute into `Vec`s and derive `Debug`, and
//! netlink-proto Debug-prints every decoded message at trace level and
//! hex-dumps any message whose decoding fails at error level. Here the
//! fixed-size structs are still parsed with netlink-packet-xfrm
//! (`UserSaInfo`, `UserPolicyInfo`, `UserTemplate`, `Mark`, `Replay`), but
//! the attributes are walked by hand so only the algorithm *name* (the
//! first 64 bytes of `struct xfrm_algo*`) is ever read, and decoding never
//! fails: a message we cannot use becomes `Unparsed` with a reason and no
//! bytes. The key bytes exist only in netlink-proto's receive buffer.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkPayload, NetlinkSerializable, NlaBuffer,
    NlasIterator,
};
use netlink_packet_xfrm::{
    Address, Mark, Replay, UserPolicyInfo, UserSaInfo, UserTemplate, AF_INET, AF_INET6,
    XFRMA_ALG_AEAD, XFRMA_ALG_AUTH, XFRMA_ALG_AUTH_TRUNC, XFRMA_ALG_COMP, XFRMA_ALG_CRYPT,
    XFRMA_IF_ID, XFRMA_MARK, XFRMA_REPLAY_ESN_VAL, XFRMA_REPLAY_VAL, XFRMA_SET_MARK,
    XFRMA_SET_MARK_MASK, XFRMA_TMPL, XFRM_ALG_NAME_LEN, XFRM_MSG_GETDEFAULT, XFRM_MSG_GETPOLICY,
    XFRM_MSG_GETSA, XFRM_MSG_NEWPOLICY, XFRM_MSG_NEWSA, XFRM_POLICY_ALLOW, XFRM_POLICY_BLOCK,
    XFRM_POLICY_FWD, XFRM_POLICY_IN, XFRM_POLICY_OUT, XFRM_STATE_ESN, XFRM_USERPOLICY_BLOCK,
    XFRM_USER_POLICY_INFO_LEN, XFRM_USER_SA_INFO_LEN, XFRM_USER_TEMPLATE_LEN,
};

use crate::model::{
    AlgorithmNames, Algorithms, Policy, PolicyAction, PolicyDirection, PolicyTemplate, SaCurrent,
    SaDirection, SaLifetime, SaReplay, SaStats, SecurityAssociation,
};

/// `XFRMA_SA_DIR` (Linux 6.10+, `__u8`); not in netlink-packet-xfrm 0.5.
pub const XFRMA_SA_DIR: u16 = 33;
const XFRM_SA_DIR_IN: u8 = 1;
const XFRM_SA_DIR_OUT: u8 = 2;

/// An SA from the dump, before its direction is settled (see
/// `xfrm::SaDump`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedSa {
    /// `direction` is a placeholder until resolved.
    pub sa: SecurityAssociation,
    /// `XFRMA_SA_DIR`, when the kernel sent it.
    pub kernel_direction: Option<SaDirection>,
}

/// One message on the XFRM connection. Contains no key material, so its
/// `Debug` output is safe to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XfrmDumpMessage {
    /// Request: XFRM_MSG_GETSA with NLM_F_DUMP (empty payload: no filter).
    DumpSas,
    /// Request: XFRM_MSG_GETPOLICY with NLM_F_DUMP.
    DumpPolicies,
    /// Request: XFRM_MSG_GETDEFAULT (Linux ≥ 5.16), not a dump.
    GetDefaults,
    Sa(Box<DumpedSa>),
    Policy(Box<Policy>),
    /// The answer to `GetDefaults`.
    Defaults(DefaultPolicies),
    /// A message we could not use: its type and why (never its bytes).
    Unparsed {
        message_type: u16,
        reason: String,
    },
}

impl NetlinkSerializable for XfrmDumpMessage {
    fn message_type(&self) -> u16 {
        match self {
            XfrmDumpMessage::DumpSas | XfrmDumpMessage::Sa(_) => XFRM_MSG_GETSA,
            XfrmDumpMessage::DumpPolicies | XfrmDumpMessage::Policy(_) => XFRM_MSG_GETPOLICY,
            XfrmDumpMessage::GetDefaults | XfrmDumpMessage::Defaults(_) => XFRM_MSG_GETDEFAULT,
            XfrmDumpMessage::Unparsed { message_type, .. } => *message_type,
        }
    }

    /// Dump requests have no payload; GETDEFAULT carries a (zeroed, ignored)
    /// `struct xfrm_userpolicy_default`, which the kernel requires.
    fn buffer_len(&self) -> usize {
        match self {
            XfrmDumpMessage::GetDefaults => XFRM_USERPOLICY_DEFAULT_LEN,
            _ => 0,
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer.fill(0);
    }
}

impl NetlinkDeserializable for XfrmDumpMessage {
    type Error = Infallible;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Infallible> {
        let message_type = header.message_type;
        let parsed = match message_type {
            XFRM_MSG_NEWSA => parse_sa(payload).map(|sa| XfrmDumpMessage::Sa(Box::new(sa))),
            XFRM_MSG_NEWPOLICY => {
                parse_policy(payload).map(|p| XfrmDumpMessage::Policy(Box::new(p)))
            }
            XFRM_MSG_GETDEFAULT => DefaultPolicies::parse(payload).map(XfrmDumpMessage::Defaults),
            _ => Err("unexpected message type".to_owned()),
        };
        Ok(parsed.unwrap_or_else(|reason| XfrmDumpMessage::Unparsed {
            message_type,
            reason,
        }))
    }
}

impl From<XfrmDumpMessage> for NetlinkPayload<XfrmDumpMessage> {
    fn from(message: XfrmDumpMessage) -> Self {
        NetlinkPayload::InnerMessage(message)
    }
}

/// `sizeof(struct xfrm_userpolicy_default)`: `__u8 in, fwd, out`.
const XFRM_USERPOLICY_DEFAULT_LEN: usize = 3;

/// What the kernel does with traffic no policy matches, per direction
/// (`XFRM_USERPOLICY_*`: 0 unspecified, 1 block, 2 accept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultPolicies {
    pub inbound: u8,
    pub forward: u8,
    pub outbound: u8,
}

impl DefaultPolicies {
    fn parse(payload: &[u8]) -> Result<DefaultPolicies, String> {
        match payload {
            [inbound, forward, outbound, ..] => Ok(DefaultPolicies {
                inbound: *inbound,
                forward: *forward,
                outbound: *outbound,
            }),
            _ => Err(format!(
                "default policy message of {} bytes, expected {XFRM_USERPOLICY_DEFAULT_LEN}",
                payload.len()
            )),
        }
    }

    /// Unmatched outbound traffic is dropped (`ip xfrm policy setdefault out
    /// block`).
    pub fn outbound_blocks(&self) -> bool {
        self.outbound == XFRM_USERPOLICY_BLOCK
    }
}

/// An address of `family` from the 16-byte `xfrm_address_t`.
fn ip(family: u16, a: &Address) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(a.to_ipv4())),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(a.addr))),
        _ => None,
    }
}

/// Like `ip`, but the unspecified address (a wildcard) is `None`.
fn specified_ip(family: u16, a: &Address) -> Option<IpAddr> {
    ip(family, a).filter(|ip| !ip.is_unspecified())
}

fn ne_u32(value: &[u8], offset: usize) -> Option<u32> {
    let bytes = value.get(offset..offset + 4)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

/// The algorithm name of a `struct xfrm_algo` / `xfrm_algo_auth` /
/// `xfrm_algo_aead`: all three start with `char alg_name[64]`. Only those
/// 64 bytes are read; the key that follows is never touched.
fn alg_name(value: &[u8]) -> Option<String> {
    let name = value.get(..XFRM_ALG_NAME_LEN)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Some(String::from_utf8_lossy(&name[..end]).into_owned())
}

/// The attributes after a fixed header of `header_len` bytes (the kernel
/// aligns the header to 4 bytes; both xfrm headers already are). Iteration
/// stops at the first malformed attribute.
fn attributes(payload: &[u8], header_len: usize) -> impl Iterator<Item = NlaBuffer<&[u8]>> {
    let rest = payload.get(header_len..).unwrap_or(&[]);
    NlasIterator::new(rest).map_while(Result::ok)
}

/// Parses an XFRM_MSG_NEWSA payload (`xfrm_usersa_info` + attributes).
pub fn parse_sa(payload: &[u8]) -> Result<DumpedSa, String> {
    let info = UserSaInfo::parse(payload).map_err(|e| format!("xfrm_usersa_info: {e}"))?;
    let family = info.family;
    let dst = ip(family, &info.id.daddr).ok_or_else(|| format!("SA family {family}"))?;
    let src = ip(family, &info.saddr).ok_or_else(|| format!("SA family {family}"))?;
    let cfg = &info.lifetime_cfg;
    let cur = &info.lifetime_cur;
    let mut sa = SecurityAssociation {
        spi: info.id.spi,
        proto: info.id.proto,
        mode: info.mode.into(),
        src,
        dst,
        reqid: info.reqid,
        direction: SaDirection::Out,
        mark: None,
        set_mark: None,
        if_id: None,
        algorithms: Algorithms::default(),
        selector_family: info.selector.family.into(),
        lifetime: SaLifetime {
            soft_byte_limit: cfg.soft_byte_limit,
            hard_byte_limit: cfg.hard_byte_limit,
            soft_packet_limit: cfg.soft_packet_limit,
            hard_packet_limit: cfg.hard_packet_limit,
            soft_add_expires_seconds: cfg.soft_add_expires_seconds,
            hard_add_expires_seconds: cfg.hard_add_expires_seconds,
            soft_use_expires_seconds: cfg.soft_use_expires_seconds,
            hard_use_expires_seconds: cfg.hard_use_expires_seconds,
        }
        .into(),
        current: SaCurrent {
            bytes: cur.bytes,
            packets: cur.packets,
            add_time: cur.add_time,
            use_time: cur.use_time,
        },
        stats: SaStats {
            replay_window: info.stats.replay_window,
            replay: info.stats.replay,
            integrity_failed: info.stats.integrity_failed,
        },
        replay: SaReplay {
            oseq: 0,
            seq: 0,
            window: u32::from(info.replay_window),
            esn: info.flags & XFRM_STATE_ESN != 0,
        },
    };
    let mut kernel_direction = None;
    let mut set_mark_value = None;
    let mut set_mark_mask = None;
    let mut names = AlgorithmNames::default();
    let mut auth = None;
    let mut auth_trunc = None;
    for nla in attributes(payload, XFRM_USER_SA_INFO_LEN) {
        let value = nla.value();
        match nla.kind() {
            XFRMA_ALG_CRYPT => names.enc_alg = alg_name(value),
            XFRMA_ALG_AUTH => auth = alg_name(value),
            XFRMA_ALG_AUTH_TRUNC => auth_trunc = alg_name(value),
            XFRMA_ALG_AEAD => names.aead_alg = alg_name(value),
            XFRMA_ALG_COMP => names.comp_alg = alg_name(value),
            XFRMA_MARK => sa.mark = Mark::parse(value).ok().map(|m| (m.value, m.mask)),
            XFRMA_SET_MARK => set_mark_value = ne_u32(value, 0),
            XFRMA_SET_MARK_MASK => set_mark_mask = ne_u32(value, 0),
            XFRMA_IF_ID => sa.if_id = ne_u32(value, 0),
            XFRMA_REPLAY_VAL => {
                if let Ok(r) = Replay::parse(value) {
                    sa.replay.oseq = u64::from(r.oseq);
                    sa.replay.seq = u64::from(r.seq);
                }
            }
            XFRMA_REPLAY_ESN_VAL => {
                // struct xfrm_replay_state_esn: bmp_len, oseq, seq, oseq_hi,
                // seq_hi, replay_window, then the bitmap (not needed).
                let field = |i: usize| ne_u32(value, 4 * i);
                if let (Some(oseq), Some(seq), Some(oseq_hi), Some(seq_hi), Some(window)) =
                    (field(1), field(2), field(3), field(4), field(5))
                {
                    sa.replay.oseq = u64::from(oseq_hi) << 32 | u64::from(oseq);
                    sa.replay.seq = u64::from(seq_hi) << 32 | u64::from(seq);
                    sa.replay.window = window;
                }
            }
            XFRMA_SA_DIR => {
                kernel_direction = match value.first() {
                    Some(&XFRM_SA_DIR_IN) => Some(SaDirection::In),
                    Some(&XFRM_SA_DIR_OUT) => Some(SaDirection::Out),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    // The kernel sends the truncated form and, for old tools, the plain one.
    names.auth_alg = auth_trunc.or(auth);
    sa.algorithms = names.into();
    // Without XFRMA_SET_MARK_MASK the kernel uses an all-ones mask.
    sa.set_mark = set_mark_value.map(|v| (v, set_mark_mask.unwrap_or(u32::MAX)));
    Ok(DumpedSa {
        sa,
        kernel_direction,
    })
}

/// Parses an XFRM_MSG_NEWPOLICY payload (`xfrm_userpolicy_info` + attributes).
pub fn parse_policy(payload: &[u8]) -> Result<Policy, String> {
    let info = UserPolicyInfo::parse(payload).map_err(|e| format!("xfrm_userpolicy_info: {e}"))?;
    let direction = match info.direction {
        XFRM_POLICY_IN => PolicyDirection::In,
        XFRM_POLICY_OUT => PolicyDirection::Out,
        XFRM_POLICY_FWD => PolicyDirection::Fwd,
        d => return Err(format!("policy direction {d}")),
    };
    let action = match info.action {
        XFRM_POLICY_ALLOW => PolicyAction::Allow,
        XFRM_POLICY_BLOCK => PolicyAction::Block,
        a => return Err(format!("policy action {a}")),
    };
    let sel = &info.selector;
    let mut policy = Policy {
        index: info.index,
        direction,
        action,
        priority: info.priority,
        selector_family: sel.family.into(),
        selector_src: ip(sel.family, &sel.saddr).map(|a| (a, sel.prefixlen_s)),
        selector_dst: ip(sel.family, &sel.daddr).map(|a| (a, sel.prefixlen_d)),
        mark: None,
        if_id: None,
        templates: Vec::new(),
    };
    for nla in attributes(payload, XFRM_USER_POLICY_INFO_LEN) {
        let value = nla.value();
        match nla.kind() {
            XFRMA_MARK => policy.mark = Mark::parse(value).ok().map(|m| (m.value, m.mask)),
            XFRMA_IF_ID => policy.if_id = ne_u32(value, 0),
            XFRMA_TMPL => {
                policy.templates = value
                    .chunks_exact(XFRM_USER_TEMPLATE_LEN)
                    .filter_map(|chunk| UserTemplate::parse(chunk).ok())
                    .map(|t| PolicyTemplate {
                        src: specified_ip(t.family, &t.saddr),
                        dst: specified_ip(t.family, &t.id.daddr),
                        proto: t.id.proto,
                        mode: t.mode.into(),
                        reqid: t.reqid,
                        spi: t.id.spi,
                    })
                    .collect();
            }
            _ => {}
        }
    }
    Ok(policy)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Family, XfrmMode};
    use netlink_packet_core::{Emitable, NetlinkMessage};
    use netlink_packet_xfrm::{
        LifetimeConfig, Selector, UserTemplate, XFRM_MODE_TUNNEL, XFRM_POLICY_OUT as OUT,
    };

    /// Appends one netlink attribute (4-byte aligned).
    pub(crate) fn nla(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        buf.extend_from_slice(&(len as u16).to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(value);
        while !buf.len().is_multiple_of(4) {
            buf.push(0);
        }
    }

    /// `struct xfrm_algo` (+ trunc/icv length for the auth/aead forms).
    fn algo(name: &str, extra: Option<u32>, key: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; XFRM_ALG_NAME_LEN];
        v[..name.len()].copy_from_slice(name.as_bytes());
        v.extend_from_slice(&(key.len() as u32 * 8).to_ne_bytes());
        if let Some(e) = extra {
            v.extend_from_slice(&e.to_ne_bytes());
        }
        v.extend_from_slice(key);
        v
    }

    pub(crate) const CRYPT_KEY: &[u8] = b"SECRET-CRYPT-KEY-0123456789abcdef";
    pub(crate) const AUTH_KEY: &[u8] = &[0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, 0x99];

    fn sa_info(src: IpAddr, dst: IpAddr, spi: u32) -> UserSaInfo {
        let mut info = UserSaInfo::default();
        info.source(&src);
        info.destination(&dst);
        info.id.spi = spi;
        info.id.proto = 50;
        info.mode = XFRM_MODE_TUNNEL;
        info.reqid = 7;
        info.replay_window = 32;
        info.lifetime_cfg = LifetimeConfig {
            hard_packet_limit: 1000,
            soft_add_expires_seconds: 3000,
            hard_add_expires_seconds: 3600,
            ..LifetimeConfig::default()
        };
        info.lifetime_cur.bytes = 4242;
        info.lifetime_cur.packets = 42;
        info.lifetime_cur.add_time = 1_700_000_000;
        info.stats.integrity_failed = 3;
        info.selector.family = AF_INET;
        info
    }

    fn emit<T: Emitable>(v: &T) -> Vec<u8> {
        let mut buf = vec![0u8; v.buffer_len()];
        v.emit(&mut buf);
        buf
    }

    /// An ESP tunnel SA carrying real key material in CRYPT, AUTH and
    /// AUTH_TRUNC, as `ip xfrm state add … enc cbc(aes) … auth-trunc …` dumps.
    pub(crate) fn keyed_sa_payload() -> Vec<u8> {
        let mut p = emit(&sa_info(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            0x1000_0001,
        ));
        assert_eq!(p.len(), XFRM_USER_SA_INFO_LEN);
        nla(
            &mut p,
            XFRMA_ALG_AUTH,
            &algo("hmac(sha256)", None, AUTH_KEY),
        );
        nla(
            &mut p,
            XFRMA_ALG_AUTH_TRUNC,
            &algo("hmac(sha256)", Some(128), AUTH_KEY),
        );
        nla(&mut p, XFRMA_ALG_CRYPT, &algo("cbc(aes)", None, CRYPT_KEY));
        nla(&mut p, XFRMA_MARK, &[5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        nla(&mut p, XFRMA_SET_MARK, &9u32.to_ne_bytes());
        nla(&mut p, XFRMA_SET_MARK_MASK, &0xffu32.to_ne_bytes());
        let mut replay = Vec::new();
        for v in [77u32, 66, 0xffff_ffff] {
            replay.extend_from_slice(&v.to_ne_bytes());
        }
        nla(&mut p, XFRMA_REPLAY_VAL, &replay);
        nla(&mut p, 15, &1_700_000_100u64.to_ne_bytes()); // XFRMA_LASTUSED
        nla(&mut p, 99, &[1, 2, 3]); // some future attribute
        p
    }

    fn deserialize(message_type: u16, payload: &[u8]) -> XfrmDumpMessage {
        let mut header = NetlinkHeader::default();
        header.message_type = message_type;
        XfrmDumpMessage::deserialize(&header, payload).unwrap()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn sa_keys_are_dropped_and_names_kept() {
        let payload = keyed_sa_payload();
        assert!(contains(&payload, CRYPT_KEY), "test input carries the key");
        let XfrmDumpMessage::Sa(dumped) = deserialize(XFRM_MSG_NEWSA, &payload) else {
            panic!("not an SA");
        };
        let sa = &dumped.sa;
        assert_eq!(sa.algorithms.enc_alg.as_deref(), Some("cbc(aes)"));
        assert_eq!(sa.algorithms.auth_alg.as_deref(), Some("hmac(sha256)"));
        assert_eq!(
            (
                sa.algorithms.aead_alg.as_deref(),
                sa.algorithms.comp_alg.as_deref()
            ),
            (None, None)
        );
        assert_eq!(sa.spi, 0x1000_0001);
        assert_eq!((sa.proto, sa.mode, sa.reqid), (50, XfrmMode::Tunnel, 7));
        assert_eq!(sa.src, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(sa.dst, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(sa.mark, Some((5, 0xffff_ffff)));
        assert_eq!(sa.set_mark, Some((9, 0xff)));
        assert_eq!(sa.if_id, None);
        assert_eq!(sa.selector_family, Family::Inet);
        assert_eq!(sa.lifetime.get().hard_packet_limit, 1000);
        assert_eq!(sa.lifetime.get().soft_byte_limit, u64::MAX);
        assert_eq!(sa.lifetime.get().hard_add_expires_seconds, 3600);
        assert_eq!(sa.current.bytes, 4242);
        assert_eq!(sa.current.packets, 42);
        assert_eq!(sa.current.add_time, 1_700_000_000);
        assert_eq!(sa.stats.integrity_failed, 3);
        assert_eq!(
            sa.replay,
            SaReplay {
                oseq: 77,
                seq: 66,
                window: 32,
                esn: false
            }
        );
        assert_eq!(dumped.kernel_direction, None);

        // Nothing we produce, Debug or JSON, carries key bytes.
        let debug = format!("{dumped:?} {dumped:#?}");
        let json = serde_json::to_string(&dumped.sa).unwrap();
        for text in [&debug, &json] {
            assert!(!text.contains("SECRET"), "{text}");
            assert!(!contains(text.as_bytes(), CRYPT_KEY));
            // Decimal and hex renderings of the auth key.
            assert!(!text.contains("222, 173, 190, 239"), "{text}");
            assert!(!text.to_lowercase().contains("deadbeef"), "{text}");
            assert!(!text.contains("0xde"), "{text}");
        }
        // The message type itself has no field that could hold bytes.
        let full = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(deserialize(XFRM_MSG_NEWSA, &payload)),
        );
        assert!(!format!("{full:?}").contains("SECRET"));
    }

    #[test]
    fn esn_aead_if_id_and_direction_attribute() {
        let mut p = emit(&sa_info(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            0xc0ff_ee00,
        ));
        // flags live at byte 216 of xfrm_usersa_info.
        p[216] = XFRM_STATE_ESN;
        nla(
            &mut p,
            XFRMA_ALG_AEAD,
            &algo("rfc4106(gcm(aes))", Some(128), CRYPT_KEY),
        );
        nla(&mut p, XFRMA_ALG_COMP, &algo("deflate", None, &[]));
        nla(&mut p, XFRMA_IF_ID, &0x42u32.to_ne_bytes());
        let mut esn = Vec::new();
        for v in [4u32, 10, 20, 1, 2, 128, 0, 0, 0, 0] {
            esn.extend_from_slice(&v.to_ne_bytes());
        }
        nla(&mut p, XFRMA_REPLAY_ESN_VAL, &esn);
        nla(&mut p, XFRMA_SA_DIR, &[XFRM_SA_DIR_IN]);
        let XfrmDumpMessage::Sa(d) = deserialize(XFRM_MSG_NEWSA, &p) else {
            panic!()
        };
        assert_eq!(d.sa.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
        assert_eq!(
            d.sa.algorithms.aead_alg.as_deref(),
            Some("rfc4106(gcm(aes))")
        );
        assert_eq!(d.sa.algorithms.comp_alg.as_deref(), Some("deflate"));
        assert_eq!(d.sa.if_id, Some(0x42));
        assert_eq!(
            d.sa.replay,
            SaReplay {
                oseq: (1 << 32) | 10,
                seq: (2 << 32) | 20,
                window: 128,
                esn: true
            }
        );
        assert_eq!(d.kernel_direction, Some(SaDirection::In));
        assert!(!format!("{d:?}").contains("SECRET"));
    }

    #[test]
    fn larval_acquire_sa_is_kept() {
        // What XFRM_MSG_ACQUIRE leaves behind: SPI 0, no algorithms.
        let mut info = sa_info("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 0);
        info.replay_window = 0;
        let p = emit(&info);
        let XfrmDumpMessage::Sa(d) = deserialize(XFRM_MSG_NEWSA, &p) else {
            panic!()
        };
        assert_eq!(d.sa.spi, 0);
        assert_eq!(d.sa.algorithms.enc_alg, None);
        assert_eq!(d.kernel_direction, None);
    }

    #[test]
    fn garbage_never_fails_or_panics() {
        let full = keyed_sa_payload();
        for len in 0..full.len() {
            let m = deserialize(XFRM_MSG_NEWSA, &full[..len]);
            if len < XFRM_USER_SA_INFO_LEN {
                assert!(matches!(m, XfrmDumpMessage::Unparsed { .. }), "{len}");
            } else {
                assert!(matches!(m, XfrmDumpMessage::Sa(_)), "{len}");
            }
            // Truncated algorithm attributes must not leak key bytes either.
            assert!(!format!("{m:?}").contains("SECRET"));
            let _ = deserialize(XFRM_MSG_NEWPOLICY, &full[..len]);
        }
        // Unknown family.
        let mut bad = full.clone();
        bad[212..214].copy_from_slice(&99u16.to_ne_bytes());
        assert!(matches!(
            deserialize(XFRM_MSG_NEWSA, &bad),
            XfrmDumpMessage::Unparsed { ref reason, .. } if reason.contains("family")
        ));
        // Lying attribute lengths.
        let mut lying = full[..XFRM_USER_SA_INFO_LEN].to_vec();
        lying.extend_from_slice(&[0xff, 0xff, 2, 0, 1, 2, 3, 4]);
        assert!(matches!(
            deserialize(XFRM_MSG_NEWSA, &lying),
            XfrmDumpMessage::Sa(_)
        ));
        lying.truncate(XFRM_USER_SA_INFO_LEN);
        nla(&mut lying, XFRMA_ALG_CRYPT, b"short");
        nla(&mut lying, XFRMA_MARK, &[1]);
        nla(&mut lying, XFRMA_REPLAY_ESN_VAL, &[1, 2, 3]);
        nla(&mut lying, XFRMA_SA_DIR, &[]);
        let XfrmDumpMessage::Sa(d) = deserialize(XFRM_MSG_NEWSA, &lying) else {
            panic!()
        };
        assert_eq!(
            (
                d.sa.algorithms.enc_alg.clone(),
                d.sa.mark,
                d.kernel_direction
            ),
            (None, None, None)
        );
        assert!(matches!(
            deserialize(0x7777, &full),
            XfrmDumpMessage::Unparsed {
                message_type: 0x7777,
                ..
            }
        ));
    }

    fn policy_info(dir: u8, action: u8) -> UserPolicyInfo {
        let mut sel = Selector::default();
        sel.source_prefix(&"10.1.0.0".parse().unwrap(), 16);
        sel.destination_prefix(&"0.0.0.0".parse().unwrap(), 0);
        UserPolicyInfo {
            selector: sel,
            priority: 100,
            index: 0x1234,
            direction: dir,
            action,
            ..UserPolicyInfo::default()
        }
    }

    #[test]
    fn policy_with_templates_mark_and_if_id() {
        let mut p = emit(&policy_info(OUT, XFRM_POLICY_ALLOW));
        assert_eq!(p.len(), XFRM_USER_POLICY_INFO_LEN);
        let mut t1 = UserTemplate::default();
        t1.source(&"192.0.2.1".parse().unwrap());
        t1.destination(&"192.0.2.2".parse().unwrap());
        t1.id.proto = 50;
        t1.mode = XFRM_MODE_TUNNEL;
        t1.reqid = 7;
        let mut t2 = UserTemplate {
            family: AF_INET6,
            ..UserTemplate::default()
        };
        t2.id.proto = 108;
        let tmpls = [emit(&t1), emit(&t2)].concat();
        nla(&mut p, XFRMA_TMPL, &tmpls);
        nla(&mut p, XFRMA_MARK, &[5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        nla(&mut p, XFRMA_IF_ID, &3u32.to_ne_bytes());
        nla(&mut p, 16, &[0u8; 8]); // XFRMA_POLICY_TYPE
        let XfrmDumpMessage::Policy(pol) = deserialize(XFRM_MSG_NEWPOLICY, &p) else {
            panic!()
        };
        assert_eq!(pol.index, 0x1234);
        assert_eq!(pol.direction, PolicyDirection::Out);
        assert_eq!(pol.action, PolicyAction::Allow);
        assert_eq!(pol.priority, 100);
        assert_eq!(pol.selector_family, Family::Inet);
        assert_eq!(pol.selector_src, Some(("10.1.0.0".parse().unwrap(), 16)));
        assert_eq!(pol.selector_dst, Some(("0.0.0.0".parse().unwrap(), 0)));
        assert_eq!(pol.mark, Some((5, 0xffff_ffff)));
        assert_eq!(pol.if_id, Some(3));
        assert_eq!(
            pol.templates,
            vec![
                PolicyTemplate {
                    src: Some("192.0.2.1".parse().unwrap()),
                    dst: Some("192.0.2.2".parse().unwrap()),
                    proto: 50,
                    mode: XfrmMode::Tunnel,
                    reqid: 7,
                    spi: 0
                },
                PolicyTemplate {
                    src: None,
                    dst: None,
                    proto: 108,
                    mode: XfrmMode::Transport,
                    reqid: 0,
                    spi: 0
                },
            ]
        );
    }

    #[test]
    fn policy_block_and_bad_values() {
        let p = emit(&policy_info(XFRM_POLICY_IN, XFRM_POLICY_BLOCK));
        let XfrmDumpMessage::Policy(pol) = deserialize(XFRM_MSG_NEWPOLICY, &p) else {
            panic!()
        };
        assert_eq!(
            (pol.direction, pol.action),
            (PolicyDirection::In, PolicyAction::Block)
        );
        assert!(pol.templates.is_empty());
        let p = emit(&policy_info(5, XFRM_POLICY_ALLOW));
        assert!(matches!(
            deserialize(XFRM_MSG_NEWPOLICY, &p),
            XfrmDumpMessage::Unparsed { .. }
        ));
        let p = emit(&policy_info(OUT, 9));
        assert!(matches!(
            deserialize(XFRM_MSG_NEWPOLICY, &p),
            XfrmDumpMessage::Unparsed { .. }
        ));
    }

    #[test]
    fn dump_requests_serialize_empty() {
        let mut msg = NetlinkMessage::from(XfrmDumpMessage::DumpSas);
        msg.finalize();
        assert_eq!(msg.header.message_type, XFRM_MSG_GETSA);
        assert_eq!(msg.buffer_len(), 16);
        let mut msg = NetlinkMessage::from(XfrmDumpMessage::DumpPolicies);
        msg.finalize();
        assert_eq!(msg.header.message_type, XFRM_MSG_GETPOLICY);
    }

    #[test]
    fn default_policy_request_and_answer() {
        let mut msg = NetlinkMessage::from(XfrmDumpMessage::GetDefaults);
        msg.finalize();
        assert_eq!(msg.header.message_type, XFRM_MSG_GETDEFAULT);
        // The kernel rejects a GETDEFAULT shorter than its struct.
        assert_eq!(msg.buffer_len(), 16 + 3);
        let mut bytes = vec![0xff; msg.buffer_len()];
        msg.serialize(&mut bytes);
        assert_eq!(&bytes[16..], [0, 0, 0]);

        // in accept, fwd unspecified, out block (+ padding as the kernel sends it)
        let XfrmDumpMessage::Defaults(d) = deserialize(XFRM_MSG_GETDEFAULT, &[2, 0, 1, 0]) else {
            panic!("not parsed as defaults");
        };
        assert_eq!((d.inbound, d.forward, d.outbound), (2, 0, 1));
        assert!(d.outbound_blocks());
        let XfrmDumpMessage::Defaults(d) = deserialize(XFRM_MSG_GETDEFAULT, &[1, 1, 2]) else {
            panic!("not parsed as defaults");
        };
        assert!(!d.outbound_blocks());
        assert!(matches!(
            deserialize(XFRM_MSG_GETDEFAULT, &[1, 1]),
            XfrmDumpMessage::Unparsed { .. }
        ));
    }
}
