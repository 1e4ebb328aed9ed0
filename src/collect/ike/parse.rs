//! charon's `list-sa` / `list-conn` / updown event messages → plain data.
//! Unknown keys are ignored and missing ones left empty, so a newer or older
//! charon never makes a poll fail; only the message shape is required.

use crate::vici::Message;

use super::reason::sanitise;
use super::sample::{ChildBinding, ChildConfig, ChildSa, IkeConnection, IkeSa, Mark};

/// One IKE SA from a section `<connection name> = { uniqueid = …, … }` as
/// `list-sa`, `ike-updown` and `child-updown` carry it.
pub fn ike_sa(name: &str, m: &Message) -> IkeSa {
    IkeSa {
        name: sanitise(name),
        uniqueid: number(m, "uniqueid").unwrap_or(0),
        state: text(m, "state"),
        version: number(m, "version").unwrap_or(0),
        local_host: text(m, "local-host"),
        local_port: number(m, "local-port"),
        local_id: text(m, "local-id"),
        remote_host: text(m, "remote-host"),
        remote_port: number(m, "remote-port"),
        remote_id: text(m, "remote-id"),
        initiator: m.value("initiator") == Some(b"yes"),
        if_id_in: hex(m, "if-id-in"),
        if_id_out: hex(m, "if-id-out"),
        encr_alg: opt_text(m, "encr-alg"),
        encr_keysize: number(m, "encr-keysize"),
        integ_alg: opt_text(m, "integ-alg"),
        prf_alg: opt_text(m, "prf-alg"),
        dh_group: opt_text(m, "dh-group"),
        established_secs: number(m, "established"),
        rekey_secs: number(m, "rekey-time"),
        reauth_secs: number(m, "reauth-time"),
        children: m
            .section("child-sas")
            .map(|children| children.sections().map(|(_, c)| child_sa(c)).collect())
            .unwrap_or_default(),
    }
}

/// One CHILD_SA from `child-sas = { <name>-<uniqueid> = { … } }`.
pub fn child_sa(m: &Message) -> ChildSa {
    ChildSa {
        name: text(m, "name"),
        uniqueid: number(m, "uniqueid").unwrap_or(0),
        state: text(m, "state"),
        mode: text(m, "mode"),
        protocol: text(m, "protocol"),
        spi_in: opt_text(m, "spi-in"),
        spi_out: opt_text(m, "spi-out"),
        binding: ChildBinding {
            reqid: number(m, "reqid"),
            if_id_in: hex(m, "if-id-in"),
            if_id_out: hex(m, "if-id-out"),
            mark_in: mark(m, "mark-in", "mark-mask-in"),
            mark_out: mark(m, "mark-out", "mark-mask-out"),
        },
        encr_alg: opt_text(m, "encr-alg"),
        encr_keysize: number(m, "encr-keysize"),
        integ_alg: opt_text(m, "integ-alg"),
        dh_group: opt_text(m, "dh-group"),
        install_secs: number(m, "install-time"),
        rekey_secs: number(m, "rekey-time"),
        life_secs: number(m, "life-time"),
        bytes_in: number(m, "bytes-in").unwrap_or(0),
        packets_in: number(m, "packets-in").unwrap_or(0),
        bytes_out: number(m, "bytes-out").unwrap_or(0),
        packets_out: number(m, "packets-out").unwrap_or(0),
        local_ts: texts(m, "local-ts"),
        remote_ts: texts(m, "remote-ts"),
    }
}

/// Every IKE SA in a `list-sa` event (one, in practice).
pub fn list_sa(m: &Message) -> Vec<IkeSa> {
    m.sections().map(|(name, sa)| ike_sa(name, sa)).collect()
}

/// Every connection in a `list-conn` event (one, in practice).
pub fn list_conn(m: &Message) -> Vec<IkeConnection> {
    m.sections()
        .map(|(name, c)| IkeConnection {
            name: sanitise(name),
            version: text(c, "version"),
            local_addrs: texts(c, "local_addrs"),
            remote_addrs: texts(c, "remote_addrs"),
            children: c
                .section("children")
                .map(|children| {
                    children
                        .sections()
                        .map(|(name, child)| ChildConfig {
                            name: sanitise(name),
                            mode: text(child, "mode"),
                            // Not reported by charon 5.9; read should a later one add them.
                            binding: ChildBinding {
                                reqid: None,
                                if_id_in: hex(child, "if_id_in"),
                                if_id_out: hex(child, "if_id_out"),
                                mark_in: mark(child, "mark_in", "mark_in_mask"),
                                mark_out: mark(child, "mark_out", "mark_out_mask"),
                            },
                        })
                        .collect()
                })
                .unwrap_or_default(),
            last_failure: None,
        })
        .collect()
}

fn opt_text(m: &Message, key: &str) -> Option<String> {
    m.value(key).map(|v| sanitise(&String::from_utf8_lossy(v)))
}

fn text(m: &Message, key: &str) -> String {
    opt_text(m, key).unwrap_or_default()
}

fn texts(m: &Message, key: &str) -> Vec<String> {
    m.list(key)
        .unwrap_or_default()
        .iter()
        .map(|item| sanitise(&String::from_utf8_lossy(item)))
        .collect()
}

fn number<T: std::str::FromStr>(m: &Message, key: &str) -> Option<T> {
    std::str::from_utf8(m.value(key)?).ok()?.trim().parse().ok()
}

fn hex(m: &Message, key: &str) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(m.value(key)?).ok()?.trim(), 16).ok()
}

/// A mark and its mask; charon omits the mask when it is all ones.
fn mark(m: &Message, value_key: &str, mask_key: &str) -> Option<Mark> {
    Some(Mark {
        value: hex(m, value_key)?,
        mask: hex(m, mask_key).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vici::Element;

    fn section(entries: Vec<(&str, Element)>) -> Element {
        Element::Section(Message {
            entries: entries
                .into_iter()
                .map(|(k, e)| (k.to_owned(), e))
                .collect(),
        })
    }
    fn v(s: &str) -> Element {
        Element::Value(s.as_bytes().to_vec())
    }
    fn l(items: &[&str]) -> Element {
        Element::List(items.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    /// A `list-sa` event shaped as charon 5.9.8 sends it (keys from
    /// vici_query.c list_ike / list_child).
    fn list_sa_event() -> Message {
        let child = section(vec![
            ("name", v("vti1-child")),
            ("uniqueid", v("7")),
            ("reqid", v("1")),
            ("state", v("INSTALLED")),
            ("mode", v("TUNNEL")),
            ("protocol", v("ESP")),
            ("spi-in", v("c1a2b3c4")),
            ("spi-out", v("0badf00d")),
            ("mark-in", v("00000010")),
            ("mark-out", v("00000010")),
            ("mark-mask-out", v("000000ff")),
            ("if-id-in", v("00000002")),
            ("if-id-out", v("00000002")),
            ("encr-alg", v("AES_GCM_16")),
            ("encr-keysize", v("128")),
            ("bytes-in", v("1200")),
            ("packets-in", v("10")),
            ("bytes-out", v("2400")),
            ("packets-out", v("20")),
            ("rekey-time", v("3000")),
            ("life-time", v("3500")),
            ("install-time", v("100")),
            ("local-ts", l(&["0.0.0.0/0"])),
            ("remote-ts", l(&["0.0.0.0/0", "::/0"])),
        ]);
        let sa = section(vec![
            ("uniqueid", v("3")),
            ("version", v("2")),
            ("state", v("ESTABLISHED")),
            ("local-host", v("192.0.2.1")),
            ("local-port", v("4500")),
            ("local-id", v("192.0.2.1")),
            ("remote-host", v("192.0.2.2")),
            ("remote-port", v("4500")),
            ("remote-id", v("peer\x1b[2J")),
            ("initiator", v("yes")),
            ("encr-alg", v("AES_CBC")),
            ("encr-keysize", v("128")),
            ("integ-alg", v("HMAC_SHA2_256_128")),
            ("prf-alg", v("PRF_HMAC_SHA2_256")),
            ("dh-group", v("MODP_2048")),
            ("established", v("15")),
            ("rekey-time", v("14254")),
            ("child-sas", section(vec![("vti1-child-7", child)])),
        ]);
        Message {
            entries: vec![("vti1".to_owned(), sa)],
        }
    }

    #[test]
    fn parses_an_ike_sa_with_its_child() {
        let sas = list_sa(&list_sa_event());
        assert_eq!(sas.len(), 1);
        let sa = &sas[0];
        assert_eq!((sa.name.as_str(), sa.uniqueid, sa.version), ("vti1", 3, 2));
        assert_eq!(sa.state, "ESTABLISHED");
        assert_eq!((sa.local_port, sa.remote_port), (Some(4500), Some(4500)));
        assert_eq!(sa.remote_id, "peer [2J", "control characters sanitised");
        assert!(sa.initiator);
        assert_eq!(sa.dh_group.as_deref(), Some("MODP_2048"));
        assert_eq!(
            (sa.established_secs, sa.rekey_secs, sa.reauth_secs),
            (Some(15), Some(14254), None)
        );

        let child = &sa.children[0];
        assert_eq!((child.name.as_str(), child.uniqueid), ("vti1-child", 7));
        assert_eq!(child.spi_in.as_deref(), Some("c1a2b3c4"));
        assert_eq!(
            child.binding,
            ChildBinding {
                reqid: Some(1),
                if_id_in: Some(2),
                if_id_out: Some(2),
                mark_in: Some(Mark {
                    value: 0x10,
                    mask: u32::MAX
                }),
                mark_out: Some(Mark {
                    value: 0x10,
                    mask: 0xff
                }),
            }
        );
        assert_eq!((child.bytes_in, child.packets_out), (1200, 20));
        assert_eq!(child.remote_ts, vec!["0.0.0.0/0", "::/0"]);
        assert_eq!(
            (child.install_secs, child.life_secs),
            (Some(100), Some(3500))
        );
    }

    #[test]
    fn parses_a_connection_without_sa() {
        let conn = Message {
            entries: vec![(
                "vti1".to_owned(),
                section(vec![
                    ("local_addrs", l(&["192.0.2.1"])),
                    ("remote_addrs", l(&["192.0.2.2"])),
                    ("version", v("IKEv2")),
                    (
                        "children",
                        section(vec![("vti1-child", section(vec![("mode", v("TUNNEL"))]))]),
                    ),
                ]),
            )],
        };
        let conns = list_conn(&conn);
        assert_eq!(conns[0].name, "vti1");
        assert_eq!(conns[0].version, "IKEv2");
        assert_eq!(conns[0].remote_addrs, vec!["192.0.2.2"]);
        assert_eq!(conns[0].children[0].name, "vti1-child");
        assert_eq!(conns[0].children[0].binding, ChildBinding::default());
    }

    #[test]
    fn garbage_values_become_absent_not_errors() {
        let m = Message::new()
            .with_value("uniqueid", "x")
            .with_value("if-id-in", "zz")
            .with_value("local-port", "70000");
        let sa = ike_sa("n", &m);
        assert_eq!((sa.uniqueid, sa.if_id_in, sa.local_port), (0, None, None));
    }
}
