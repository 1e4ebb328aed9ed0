//! Kernel enumerations the model keeps typed: the XFRM mode of an SA or
//! template, an address family, and the /proc/net/xfrm_stat counters the
//! diagnosis reads. Each converts from and to the kernel's number, and is
//! serialized as that number (`show --json` prints what the kernel said).

use serde::Serialize;

/// `XFRM_MODE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "u8")]
pub enum XfrmMode {
    Transport,
    Tunnel,
    RouteOptimization,
    InTrigger,
    Beet,
    /// A number this program does not know.
    Other(u8),
}

impl From<u8> for XfrmMode {
    fn from(n: u8) -> Self {
        match n {
            0 => XfrmMode::Transport,
            1 => XfrmMode::Tunnel,
            2 => XfrmMode::RouteOptimization,
            3 => XfrmMode::InTrigger,
            4 => XfrmMode::Beet,
            n => XfrmMode::Other(n),
        }
    }
}

impl From<XfrmMode> for u8 {
    fn from(m: XfrmMode) -> u8 {
        match m {
            XfrmMode::Transport => 0,
            XfrmMode::Tunnel => 1,
            XfrmMode::RouteOptimization => 2,
            XfrmMode::InTrigger => 3,
            XfrmMode::Beet => 4,
            XfrmMode::Other(n) => n,
        }
    }
}

/// `AF_*` of a selector: which inner traffic an SA or policy is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "u16")]
pub enum Family {
    /// AF_UNSPEC: any.
    Any,
    Inet,
    Inet6,
    Other(u16),
}

impl From<u16> for Family {
    fn from(n: u16) -> Self {
        match n {
            0 => Family::Any,
            2 => Family::Inet,
            10 => Family::Inet6,
            n => Family::Other(n),
        }
    }
}

impl From<Family> for u16 {
    fn from(f: Family) -> u16 {
        match f {
            Family::Any => 0,
            Family::Inet => 2,
            Family::Inet6 => 10,
            Family::Other(n) => n,
        }
    }
}

/// The /proc/net/xfrm_stat counters the diagnosis corroborates with. The
/// file itself is kept as (name, value) pairs: the kernel adds counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XfrmStat {
    OutNoStates,
    OutStateExpired,
    OutStateSeqError,
    OutStateInvalid,
    OutStateProtoError,
    OutStateModeError,
    OutPolBlock,
    OutBundleGenError,
}

impl XfrmStat {
    /// The counter's name in /proc/net/xfrm_stat.
    pub fn name(self) -> &'static str {
        match self {
            XfrmStat::OutNoStates => "XfrmOutNoStates",
            XfrmStat::OutStateExpired => "XfrmOutStateExpired",
            XfrmStat::OutStateSeqError => "XfrmOutStateSeqError",
            XfrmStat::OutStateInvalid => "XfrmOutStateInvalid",
            XfrmStat::OutStateProtoError => "XfrmOutStateProtoError",
            XfrmStat::OutStateModeError => "XfrmOutStateModeError",
            XfrmStat::OutPolBlock => "XfrmOutPolBlock",
            XfrmStat::OutBundleGenError => "XfrmOutBundleGenError",
        }
    }

    /// This counter's value in `stats` ((name, value) pairs); 0 when absent.
    pub fn value_in(self, stats: &[(String, u64)]) -> u64 {
        stats
            .iter()
            .find(|(n, _)| n == self.name())
            .map_or(0, |(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..=u8::MAX {
            assert_eq!(u8::from(XfrmMode::from(n)), n);
        }
        for n in [0, 2, 10, 17] {
            assert_eq!(u16::from(Family::from(n)), n);
        }
        assert_eq!(serde_json::to_value(XfrmMode::Tunnel).unwrap(), 1);
        assert_eq!(serde_json::to_value(Family::Inet6).unwrap(), 10);
    }

    #[test]
    fn counters_are_read_by_their_kernel_name() {
        let stats = vec![
            ("XfrmOutNoStates".to_string(), 3),
            ("XfrmOutPolBlock".to_string(), 1),
        ];
        assert_eq!(XfrmStat::OutNoStates.value_in(&stats), 3);
        assert_eq!(XfrmStat::OutPolBlock.value_in(&stats), 1);
        assert_eq!(XfrmStat::OutStateExpired.value_in(&stats), 0);
    }
}
