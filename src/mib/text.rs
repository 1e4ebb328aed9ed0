//! The MIB file itself, and the same module placed at another root.
//!
//! `vti-agentx mib` prints [`rerooted`] for the configured `oid_root`, so a
//! site that serves the tree under its own enterprise number gets a MIB whose
//! OIDs match what the agent answers.
//!
//! SMIv2 requires the MODULE-IDENTITY to be the module's first definition, so
//! a new root cannot be built from intermediate node definitions: the
//! `::= { ... }` value names the deepest well-known ancestor of the root
//! (`netSnmpPlaypen`, `enterprises`, `mib-2`, `experimental`, `internet`, or
//! the ASN.1 roots `iso`, `ccitt`, `joint-iso-ccitt`) followed by the
//! remaining numbers, e.g. `{ enterprises 99999 1 }`. Both smilint and
//! net-snmp accept that; smilint adds one "implicit node definition" warning
//! (severity 5) per number after the first, which is inherent to the form.

use std::fmt;

use super::oids::DEFAULT_ROOT;
use crate::oid::{Oid, MAX_OID_LEN};

/// `mibs/IPSEC-VTI-MIB.txt`, placed at [`DEFAULT_ROOT`].
pub const MIB_TEXT: &str = include_str!("../../mibs/IPSEC-VTI-MIB.txt");

/// The MODULE-IDENTITY value in [`MIB_TEXT`].
const DEFAULT_CLAUSE: &str = "::= { netSnmpPlaypen 2741 }";
/// The import of `netSnmpPlaypen`, the last one in the IMPORTS clause.
const NET_SNMP_IMPORT: &str = "\n    netSnmpPlaypen\n        FROM NET-SNMP-MIB;";
/// The end of the SNMPv2-SMI import list, where another descriptor goes.
const SMI_IMPORT_TAIL: &str = "Unsigned32\n        FROM SNMPv2-SMI";

/// Sub-identifiers below the root in the longest instance OID the agent
/// serves: `root.1.4.1.column.vtiSaIfIndex.vtiSaIndex` (the alarm table's
/// instances are as long).
const DEEPEST_BELOW_ROOT: usize = 6;

/// Where a root's ancestor descriptor comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// Already imported by [`MIB_TEXT`].
    NetSnmpMib,
    /// Must be added to the SNMPv2-SMI import list.
    SnmpV2Smi,
    /// ASN.1 built-in, needs no import.
    Builtin,
}

struct Anchor {
    name: &'static str,
    oid: &'static [u32],
    source: Source,
}

/// Ancestors a root may be expressed from, most specific first.
const ANCHORS: &[Anchor] = &[
    Anchor {
        name: "netSnmpPlaypen",
        oid: &[1, 3, 6, 1, 4, 1, 8072, 9999, 9999],
        source: Source::NetSnmpMib,
    },
    Anchor {
        name: "enterprises",
        oid: &[1, 3, 6, 1, 4, 1],
        source: Source::SnmpV2Smi,
    },
    Anchor {
        name: "mib-2",
        oid: &[1, 3, 6, 1, 2, 1],
        source: Source::SnmpV2Smi,
    },
    Anchor {
        name: "experimental",
        oid: &[1, 3, 6, 1, 3],
        source: Source::SnmpV2Smi,
    },
    Anchor {
        name: "internet",
        oid: &[1, 3, 6, 1],
        source: Source::SnmpV2Smi,
    },
    Anchor {
        name: "ccitt",
        oid: &[0],
        source: Source::Builtin,
    },
    Anchor {
        name: "iso",
        oid: &[1],
        source: Source::Builtin,
    },
    Anchor {
        name: "joint-iso-ccitt",
        oid: &[2],
        source: Source::Builtin,
    },
];

/// Registered nodes the module must neither sit on nor above: the module's
/// own subtree (root.0, root.1, root.2) would collide with them.
const RESERVED: &[(&str, &[u32])] = &[
    ("zeroDotZero", &[0, 0]),
    ("org", &[1, 3]),
    ("dod", &[1, 3, 6]),
    ("internet", &[1, 3, 6, 1]),
    ("directory", &[1, 3, 6, 1, 1]),
    ("mgmt", &[1, 3, 6, 1, 2]),
    ("mib-2", &[1, 3, 6, 1, 2, 1]),
    ("transmission", &[1, 3, 6, 1, 2, 1, 10]),
    ("experimental", &[1, 3, 6, 1, 3]),
    ("private", &[1, 3, 6, 1, 4]),
    ("enterprises", &[1, 3, 6, 1, 4, 1]),
    ("security", &[1, 3, 6, 1, 5]),
    ("snmpV2", &[1, 3, 6, 1, 6]),
    ("snmpDomains", &[1, 3, 6, 1, 6, 1]),
    ("snmpProxys", &[1, 3, 6, 1, 6, 2]),
    ("snmpModules", &[1, 3, 6, 1, 6, 3]),
    ("netSnmp", &[1, 3, 6, 1, 4, 1, 8072]),
    ("netSnmpExperimental", &[1, 3, 6, 1, 4, 1, 8072, 9999]),
    ("netSnmpPlaypen", &[1, 3, 6, 1, 4, 1, 8072, 9999, 9999]),
];

/// Why a root cannot carry the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootError {
    /// Fewer than two sub-identifiers.
    TooShort(Oid),
    /// The first arc must be 0, 1 or 2 (ASN.1).
    BadFirstArc(Oid),
    /// Under 0 and 1 the second arc must be below 40 (BER encoding).
    BadSecondArc(Oid),
    /// The agent's longest OIDs would exceed 128 sub-identifiers.
    TooLong(Oid),
    /// The root is, or contains, a registered node.
    Reserved { root: Oid, node: &'static str },
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootError::TooShort(r) => write!(
                f,
                "OID root {r} is too short: it needs at least two sub-identifiers (e.g. 1.3.6.1.4.1.<PEN>.1)"
            ),
            RootError::BadFirstArc(r) => {
                write!(f, "OID root {r} must start with 0, 1 or 2")
            }
            RootError::BadSecondArc(r) => write!(
                f,
                "OID root {r}: under 0 and 1 the second sub-identifier must be below 40"
            ),
            RootError::TooLong(r) => write!(
                f,
                "OID root {r} is too long: the MIB adds up to {DEEPEST_BELOW_ROOT} sub-identifiers and OIDs are limited to {MAX_OID_LEN}"
            ),
            RootError::Reserved { root, node } => write!(
                f,
                "OID root {root} would place the MIB on or above the registered node {node}; \
                 use an arc below it, e.g. 1.3.6.1.4.1.<PEN>.1"
            ),
        }
    }
}

impl std::error::Error for RootError {}

/// Checks that `root` can carry the module, and returns the anchor to
/// express it from with the numbers that follow it.
fn anchor_for(root: &Oid) -> Result<(&'static Anchor, &[u32]), RootError> {
    let r = root.as_slice();
    if r.len() < 2 {
        return Err(RootError::TooShort(root.clone()));
    }
    if r[0] > 2 {
        return Err(RootError::BadFirstArc(root.clone()));
    }
    if r[0] < 2 && r[1] >= 40 {
        return Err(RootError::BadSecondArc(root.clone()));
    }
    if r.len() + DEEPEST_BELOW_ROOT > MAX_OID_LEN {
        return Err(RootError::TooLong(root.clone()));
    }
    if let Some((node, _)) = RESERVED.iter().find(|(_, oid)| oid.starts_with(r)) {
        return Err(RootError::Reserved {
            root: root.clone(),
            node,
        });
    }
    let anchor = ANCHORS
        .iter()
        .find(|a| r.len() > a.oid.len() && r.starts_with(a.oid))
        .expect("every root starting with 0, 1 or 2 has an ASN.1 root anchor");
    Ok((anchor, &r[anchor.oid.len()..]))
}

/// Whether [`rerooted`] can place the module at `root`.
pub fn check_root(root: &Oid) -> Result<(), RootError> {
    anchor_for(root).map(|_| ())
}

/// The MODULE-IDENTITY's value for `root`, e.g. `{ enterprises 99999 1 }`.
pub fn root_value(root: &Oid) -> Result<String, RootError> {
    let (anchor, rest) = anchor_for(root)?;
    let mut s = format!("{{ {}", anchor.name);
    for n in rest {
        s.push_str(&format!(" {n}"));
    }
    s.push_str(" }");
    Ok(s)
}

/// The MIB with the module placed at `root` instead of netSnmpPlaypen.2741.
/// For [`DEFAULT_ROOT`] this is [`MIB_TEXT`] unchanged.
pub fn rerooted(root: &Oid) -> Result<String, RootError> {
    if root.as_slice() == DEFAULT_ROOT {
        return Ok(MIB_TEXT.to_string());
    }
    let (anchor, _) = anchor_for(root)?;
    let value = root_value(root)?;
    let mut text = MIB_TEXT.replacen(DEFAULT_CLAUSE, &format!("::= {value}"), 1);
    match anchor.source {
        Source::NetSnmpMib => {}
        Source::SnmpV2Smi => {
            text = text.replacen(NET_SNMP_IMPORT, ";", 1);
            text = text.replacen(
                SMI_IMPORT_TAIL,
                &format!("Unsigned32, {}\n        FROM SNMPv2-SMI", anchor.name),
                1,
            );
        }
        Source::Builtin => {
            text = text.replacen(NET_SNMP_IMPORT, ";", 1);
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    #[test]
    fn the_rewritten_pieces_occur_exactly_once() {
        for needle in [DEFAULT_CLAUSE, NET_SNMP_IMPORT, SMI_IMPORT_TAIL] {
            assert_eq!(MIB_TEXT.matches(needle).count(), 1, "{needle:?}");
        }
        assert!(MIB_TEXT.starts_with("IPSEC-VTI-MIB DEFINITIONS ::= BEGIN"));
        assert!(MIB_TEXT.trim_end().ends_with("END"));
    }

    #[test]
    fn mib_text_is_plain_ascii_within_72_columns() {
        for (i, line) in MIB_TEXT.lines().enumerate() {
            assert!(line.is_ascii(), "line {}: not ASCII: {line}", i + 1);
            assert!(!line.contains('\t'), "line {}: tab", i + 1);
            assert!(line.len() <= 72, "line {}: {} columns", i + 1, line.len());
        }
    }

    #[test]
    fn default_root_is_the_file_unchanged() {
        let root = Oid::from_slice(DEFAULT_ROOT);
        assert_eq!(rerooted(&root).unwrap(), MIB_TEXT);
        // The generic path would write the very same value.
        assert_eq!(root_value(&root).unwrap(), "{ netSnmpPlaypen 2741 }");
    }

    #[test]
    fn another_playpen_arc_keeps_the_net_snmp_import() {
        let text = rerooted(&oid("1.3.6.1.4.1.8072.9999.9999.42")).unwrap();
        assert!(text.contains("::= { netSnmpPlaypen 42 }"));
        assert!(text.contains(NET_SNMP_IMPORT));
        assert!(!text.contains(DEFAULT_CLAUSE));
    }

    #[test]
    fn enterprise_root_imports_enterprises() {
        let text = rerooted(&oid("1.3.6.1.4.1.99999.1")).unwrap();
        assert!(text.contains("::= { enterprises 99999 1 }"));
        assert!(text.contains("Unsigned32, enterprises\n        FROM SNMPv2-SMI"));
        assert!(!text.contains("NET-SNMP-MIB"));
        assert!(text.contains("        FROM HCNUM-TC;"));
        // Nothing else changed: undoing the three edits gives the original.
        let undone = text
            .replacen("::= { enterprises 99999 1 }", DEFAULT_CLAUSE, 1)
            .replacen("Unsigned32, enterprises\n", "Unsigned32\n", 1)
            .replacen(
                "FROM HCNUM-TC;",
                &format!("FROM HCNUM-TC{NET_SNMP_IMPORT}"),
                1,
            );
        assert_eq!(undone, MIB_TEXT);
    }

    #[test]
    fn picks_the_deepest_anchor() {
        let v = |s: &str| root_value(&oid(s)).unwrap();
        assert_eq!(
            v("1.3.6.1.4.1.8072.9999.9999.7.1"),
            "{ netSnmpPlaypen 7 1 }"
        );
        assert_eq!(v("1.3.6.1.4.1.8072.1.99"), "{ enterprises 8072 1 99 }");
        assert_eq!(v("1.3.6.1.2.1.9999"), "{ mib-2 9999 }");
        assert_eq!(v("1.3.6.1.3.12345"), "{ experimental 12345 }");
        assert_eq!(v("1.3.6.1.6.9"), "{ internet 6 9 }");
        assert_eq!(v("1.2.840.10000.1"), "{ iso 2 840 10000 1 }");
        assert_eq!(v("0.5.7"), "{ ccitt 5 7 }");
        assert_eq!(v("2.99.1"), "{ joint-iso-ccitt 99 1 }");
    }

    #[test]
    fn builtin_anchor_drops_the_net_snmp_import() {
        let text = rerooted(&oid("1.2.840.10000.1")).unwrap();
        assert!(text.contains("::= { iso 2 840 10000 1 }"));
        assert!(!text.contains("NET-SNMP-MIB"));
        assert!(text.contains("Unsigned32\n        FROM SNMPv2-SMI"));
    }

    #[test]
    fn rejects_roots_it_cannot_express() {
        let e = |s: &str| rerooted(&oid(s)).unwrap_err();
        assert_eq!(e("1"), RootError::TooShort(oid("1")));
        assert_eq!(e("3.1"), RootError::BadFirstArc(oid("3.1")));
        assert_eq!(e("1.40.1"), RootError::BadSecondArc(oid("1.40.1")));
        assert!(matches!(
            e("1.3.6.1.4.1"),
            RootError::Reserved {
                node: "enterprises",
                ..
            }
        ));
        assert!(matches!(
            e("1.3.6"),
            RootError::Reserved { node: "dod", .. }
        ));
        assert!(matches!(
            e("1.3.6.1.4.1.8072.9999.9999"),
            RootError::Reserved {
                node: "netSnmpPlaypen",
                ..
            }
        ));
        assert!(matches!(e("1.3.6.1.6.3"), RootError::Reserved { .. }));
        let long = Oid::new(
            [1, 3, 6, 1, 4, 1, 99999]
                .iter()
                .copied()
                .chain(std::iter::repeat_n(1, 120))
                .collect(),
        );
        assert!(matches!(rerooted(&long), Err(RootError::TooLong(_))));
        let ok = Oid::new(
            [1u32, 3, 6, 1, 4, 1]
                .iter()
                .copied()
                .chain(std::iter::repeat_n(1, MAX_OID_LEN - DEEPEST_BELOW_ROOT - 6))
                .collect(),
        );
        assert!(rerooted(&ok).is_ok());
    }

    #[test]
    fn errors_read_as_one_line() {
        let msg = rerooted(&oid("1.3.6.1.4.1")).unwrap_err().to_string();
        assert!(
            msg.contains("1.3.6.1.4.1") && msg.contains("enterprises"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }
}
