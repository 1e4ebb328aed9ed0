//! The running kernel's release string (uname(2)) and the version rules that
//! depend on it.

use crate::model::TunnelKind;

/// `major.minor` of a kernel release string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    /// Parses the leading `major.minor` of a release such as
    /// `6.1.0-56-cloud-amd64`, `5.10.0-28-amd64` or `4.19.94+`.
    /// `None` when the string does not start that way.
    pub fn parse(release: &str) -> Option<KernelVersion> {
        let (major, rest) = leading_number(release)?;
        let (minor, _) = leading_number(rest.strip_prefix('.')?)?;
        Some(KernelVersion { major, minor })
    }
}

/// The decimal number at the start of `s`, and what follows it.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let number = s.get(..end)?.parse().ok()?;
    Some((number, &s[end..]))
}

/// Whether the kernel exports the TX error counters (tx_errors,
/// tx_carrier_errors, collisions, tx_aborted_errors) of an interface of
/// `kind` through IFLA_STATS64.
///
/// Rule: XFRM interfaces on kernels **≤ 5.10** fill IFLA_STATS64 from their
/// own `xfrmi_get_stats64()`, which copies only rx/tx packets and bytes plus
/// rx_dropped/tx_dropped. The errors are counted but never exported until the
/// driver switched to `dev_get_tstats64` (5.11). On those kernels the error
/// columns read zero while errors happen, so they are *unavailable*, not zero.
/// vti and vti6 always export them (ip_tunnel_get_stats64 / dev->stats).
///
/// An unparseable release string is treated as a current kernel (counters
/// valid): every real release starts with `major.minor`.
pub fn error_counters_valid(kind: TunnelKind, version: Option<KernelVersion>) -> bool {
    match (kind, version) {
        (TunnelKind::Xfrm, Some(v)) => {
            v > KernelVersion {
                major: 5,
                minor: 10,
            }
        }
        _ => true,
    }
}

/// `uname -r` of the running kernel, from uname(2). Empty if the call
/// fails (it cannot on Linux).
pub fn kernel_release() -> String {
    // SAFETY: `utsname` is plain old data; uname(2) fills it completely
    // on success and the release field is NUL-terminated.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::uname(&mut uts) };
    if rc != 0 {
        return String::new();
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> Option<KernelVersion> {
        Some(KernelVersion { major, minor })
    }

    #[test]
    fn parses_release_strings() {
        assert_eq!(KernelVersion::parse("6.1.0-56-cloud-amd64"), v(6, 1));
        assert_eq!(KernelVersion::parse("6.12.117+deb12-cloud-amd64"), v(6, 12));
        assert_eq!(KernelVersion::parse("5.10.0-28-amd64"), v(5, 10));
        assert_eq!(KernelVersion::parse("4.19.94+"), v(4, 19));
        assert_eq!(KernelVersion::parse("6.8"), v(6, 8));
        assert_eq!(KernelVersion::parse("3.15-rc1"), v(3, 15));
        assert_eq!(KernelVersion::parse(""), None);
        assert_eq!(KernelVersion::parse("linux"), None);
        assert_eq!(KernelVersion::parse("6"), None);
        assert_eq!(KernelVersion::parse("6-foo.1"), None);
        assert_eq!(KernelVersion::parse("6.x"), None);
    }

    #[test]
    fn xfrm_counters_hidden_up_to_5_10() {
        use TunnelKind::*;
        assert!(!error_counters_valid(Xfrm, v(4, 19)));
        assert!(!error_counters_valid(Xfrm, v(5, 10)));
        assert!(error_counters_valid(Xfrm, v(5, 11)));
        assert!(error_counters_valid(Xfrm, v(6, 1)));
        assert!(error_counters_valid(Xfrm, None));
        assert!(error_counters_valid(Vti, v(4, 19)));
        assert!(error_counters_valid(Vti6, v(5, 10)));
    }

    #[test]
    fn uname_release_is_parseable() {
        let release = kernel_release();
        assert!(KernelVersion::parse(&release).is_some(), "{release}");
    }
}
