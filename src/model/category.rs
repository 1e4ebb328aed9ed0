//! The TX error categories and one container for anything kept per
//! category (counters, thresholds, …).
//!
//! `ErrorCategory` names a category (its discriminant is the MIB's
//! VtiErrorCategory number); `PerCategory<T>` holds one `T` for each, with
//! the categories' names as field names (what the config file and
//! `show --json` use) and `ErrorCategory` as the index. The mapping between
//! the two is written once, in `get`/`get_mut`.

use serde::{Deserialize, Serialize};

/// vtiAlarmCategory / VtiErrorCategory (IPSEC-VTI-MIB numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    Carrier = 1,
    #[serde(rename = "loop")]
    Loop = 2,
    TooBig = 3,
    OutputErrors = 4,
    Dropped = 5,
    UnderlayDrops = 6,
}

impl ErrorCategory {
    pub const ALL: [ErrorCategory; 6] = [
        ErrorCategory::Carrier,
        ErrorCategory::Loop,
        ErrorCategory::TooBig,
        ErrorCategory::OutputErrors,
        ErrorCategory::Dropped,
        ErrorCategory::UnderlayDrops,
    ];

    /// The key used in the config file (and `show --json`).
    pub fn config_name(self) -> &'static str {
        match self {
            ErrorCategory::Carrier => "carrier",
            ErrorCategory::Loop => "loop",
            ErrorCategory::TooBig => "too_big",
            ErrorCategory::OutputErrors => "output_errors",
            ErrorCategory::Dropped => "dropped",
            ErrorCategory::UnderlayDrops => "underlay_drops",
        }
    }
}

/// One `T` per category. Serialized (and read from the config file) as a
/// table keyed by `ErrorCategory::config_name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    bound(deserialize = "T: CategoryDefault + Deserialize<'de>")
)]
pub struct PerCategory<T> {
    /// No route, policy or SA for the packet (tx_carrier_errors).
    pub carrier: T,
    /// The route to the peer points into the tunnel (collisions).
    #[serde(rename = "loop")]
    pub routing_loop: T,
    /// Above the path MTU (the rest of tx_errors).
    pub too_big: T,
    /// Failed after encapsulation (tx_aborted_errors).
    pub output_errors: T,
    /// tx_dropped: follows the others on vti6/xfrm.
    pub dropped: T,
    /// Estimated (a lower bound) drops below a vti/vti6 that the kernel
    /// counted as sent 1-byte packets. Always 0 for xfrm (they are
    /// output_errors there).
    pub underlay_drops: T,
}

/// Classified TX error counters of one tunnel.
pub type Categories = PerCategory<u64>;

/// What a category holds when nothing else is said (config defaults).
pub trait CategoryDefault: Sized {
    fn category_default(category: ErrorCategory) -> Self;
}

impl CategoryDefault for u64 {
    fn category_default(_: ErrorCategory) -> Self {
        0
    }
}

impl<T: CategoryDefault> Default for PerCategory<T> {
    fn default() -> Self {
        Self::from_fn(T::category_default)
    }
}

impl<T> PerCategory<T> {
    pub fn from_fn(mut f: impl FnMut(ErrorCategory) -> T) -> Self {
        PerCategory {
            carrier: f(ErrorCategory::Carrier),
            routing_loop: f(ErrorCategory::Loop),
            too_big: f(ErrorCategory::TooBig),
            output_errors: f(ErrorCategory::OutputErrors),
            dropped: f(ErrorCategory::Dropped),
            underlay_drops: f(ErrorCategory::UnderlayDrops),
        }
    }

    pub fn get(&self, c: ErrorCategory) -> &T {
        match c {
            ErrorCategory::Carrier => &self.carrier,
            ErrorCategory::Loop => &self.routing_loop,
            ErrorCategory::TooBig => &self.too_big,
            ErrorCategory::OutputErrors => &self.output_errors,
            ErrorCategory::Dropped => &self.dropped,
            ErrorCategory::UnderlayDrops => &self.underlay_drops,
        }
    }

    pub fn get_mut(&mut self, c: ErrorCategory) -> &mut T {
        match c {
            ErrorCategory::Carrier => &mut self.carrier,
            ErrorCategory::Loop => &mut self.routing_loop,
            ErrorCategory::TooBig => &mut self.too_big,
            ErrorCategory::OutputErrors => &mut self.output_errors,
            ErrorCategory::Dropped => &mut self.dropped,
            ErrorCategory::UnderlayDrops => &mut self.underlay_drops,
        }
    }

    /// Each category with its value, in `ErrorCategory::ALL` order.
    pub fn iter(&self) -> impl Iterator<Item = (ErrorCategory, &T)> {
        ErrorCategory::ALL
            .into_iter()
            .map(move |c| (c, self.get(c)))
    }
}

impl<T> std::ops::Index<ErrorCategory> for PerCategory<T> {
    type Output = T;
    fn index(&self, c: ErrorCategory) -> &T {
        self.get(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field names serde uses are the categories' config names, in the
    /// order of `ErrorCategory::ALL`.
    #[test]
    fn field_names_are_the_config_names() {
        let c = Categories::from_fn(|c| c as u64);
        let json = serde_json::to_value(c).unwrap();
        let names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want: Vec<&str> = ErrorCategory::ALL.map(ErrorCategory::config_name).to_vec();
        want.sort_unstable();
        let mut got = names.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        for c in ErrorCategory::ALL {
            assert_eq!(json[c.config_name()], c as u64, "{c:?}");
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                c.config_name(),
                "serde name of {c:?}"
            );
        }
    }
}
