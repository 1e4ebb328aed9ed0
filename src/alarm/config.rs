//! The `[alarms]` section of the config file: thresholds per category,
//! overridden per tunnel name (glob), plus enables, startup behaviour and
//! hold-down.

use serde::{Deserialize, Serialize};

use super::event::EventKind;
use super::glob::glob_match;
use crate::model::{CategoryDefault, ErrorCategory, PerCategory};

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmConfig {
    /// Master switch for all notifications.
    pub enabled: bool,
    /// RMON alarmStartupAlarm: which event the first sample may raise.
    pub startup: Startup,
    /// Minimum seconds between two notifications for the same (tunnel,
    /// category) — or the same tunnel's SA notifications. A crossing inside
    /// the hold-down is counted as suppressed and reported when the
    /// hold-down ends if the condition still holds.
    pub hold_down_secs: u64,
    /// vtiSaExpiring is sent when an SA's hard expiry is this close.
    pub sa_expiring_margin_secs: u64,
    pub notifications: NotificationEnables,
    pub categories: CategoryThresholds,
    /// Later entries win.
    #[serde(rename = "override")]
    pub overrides: Vec<Override>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Startup {
    Rising,
    Falling,
    Both,
}

impl Startup {
    pub fn allows_rising(self) -> bool {
        matches!(self, Startup::Rising | Startup::Both)
    }
    pub fn allows_falling(self) -> bool {
        matches!(self, Startup::Falling | Startup::Both)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationEnables {
    pub tx_error_rising: bool,
    pub tx_error_falling: bool,
    pub sa_down: bool,
    pub sa_up: bool,
    pub sa_expiring: bool,
    pub ike_down: bool,
    pub ike_up: bool,
    pub tunnel_down: bool,
    pub tunnel_up: bool,
}

impl NotificationEnables {
    /// Is this kind of notification switched on?
    pub fn allows(&self, kind: EventKind) -> bool {
        match kind {
            EventKind::TxErrorRising => self.tx_error_rising,
            EventKind::TxErrorFalling => self.tx_error_falling,
            EventKind::SaDown => self.sa_down,
            EventKind::SaUp => self.sa_up,
            EventKind::SaExpiring => self.sa_expiring,
            EventKind::IkeDown => self.ike_down,
            EventKind::IkeUp => self.ike_up,
            EventKind::TunnelDown => self.tunnel_down,
            EventKind::TunnelUp => self.tunnel_up,
        }
    }
}

impl Default for NotificationEnables {
    fn default() -> Self {
        NotificationEnables {
            tx_error_rising: true,
            tx_error_falling: true,
            sa_down: true,
            sa_up: true,
            sa_expiring: true,
            ike_down: true,
            ike_up: true,
            tunnel_down: true,
            tunnel_up: true,
        }
    }
}

/// One category's threshold settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub enabled: bool,
    /// Delta is taken over this many seconds.
    pub interval_secs: u32,
    /// Rising event when the delta is ≥ this.
    pub rising: u32,
    /// Falling event (after a rising one) when the delta is ≤ this.
    pub falling: u32,
}

impl Threshold {
    const fn on(rising: u32) -> Threshold {
        Threshold {
            enabled: true,
            interval_secs: 60,
            rising,
            falling: 0,
        }
    }
}

/// The thresholds of each category (`[alarms.categories.NAME]`).
pub type CategoryThresholds = PerCategory<Threshold>;

impl CategoryDefault for Threshold {
    fn category_default(category: ErrorCategory) -> Self {
        match category {
            // tx_dropped rises with every pre-output error on vti6/xfrm: an
            // alarm on it would duplicate the others. Opt in if wanted.
            ErrorCategory::Dropped => Threshold {
                enabled: false,
                ..Threshold::on(1)
            },
            _ => Threshold::on(1),
        }
    }
}

/// Per-tunnel overrides: any field left out keeps the category's value.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Interface-name glob (`*` and `?`), e.g. "vti*" or "xfrm-hub?".
    pub tunnels: String,
    /// Category the override applies to; all when absent.
    pub category: Option<ErrorCategory>,
    pub enabled: Option<bool>,
    pub interval_secs: Option<u32>,
    pub rising: Option<u32>,
    pub falling: Option<u32>,
}

impl Default for AlarmConfig {
    fn default() -> Self {
        AlarmConfig {
            enabled: true,
            startup: Startup::Rising,
            hold_down_secs: 60,
            sa_expiring_margin_secs: 300,
            notifications: NotificationEnables::default(),
            categories: CategoryThresholds::default(),
            overrides: Vec::new(),
        }
    }
}

impl AlarmConfig {
    /// The thresholds in force for one tunnel and category.
    pub fn threshold(&self, tunnel: &str, category: ErrorCategory) -> Threshold {
        let mut t = *self.categories.get(category);
        for o in &self.overrides {
            if o.category.is_some_and(|c| c != category) || !glob_match(&o.tunnels, tunnel) {
                continue;
            }
            t.enabled = o.enabled.unwrap_or(t.enabled);
            t.interval_secs = o.interval_secs.unwrap_or(t.interval_secs);
            t.rising = o.rising.unwrap_or(t.rising);
            t.falling = o.falling.unwrap_or(t.falling);
        }
        t
    }

    /// Problems serde cannot see: each message names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        for (c, t) in self.categories.iter() {
            check_threshold(&format!("alarms.categories.{}", c.config_name()), t)?;
        }
        for (i, o) in self.overrides.iter().enumerate() {
            if o.tunnels.is_empty() {
                return Err(format!("alarms.override[{i}].tunnels is empty"));
            }
            if o.interval_secs == Some(0) {
                return Err(format!(
                    "alarms.override[{i}].interval_secs must be at least 1"
                ));
            }
        }
        // Overrides may set rising and falling separately; check the result
        // for every category on a name every glob matches is impossible, so
        // check each override's own pair.
        for (i, o) in self.overrides.iter().enumerate() {
            if let (Some(r), Some(f)) = (o.rising, o.falling) {
                if f >= r {
                    return Err(format!(
                        "alarms.override[{i}]: falling ({f}) must be below rising ({r})"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_threshold(key: &str, t: &Threshold) -> Result<(), String> {
    if t.interval_secs == 0 {
        return Err(format!("{key}.interval_secs must be at least 1"));
    }
    if t.rising == 0 {
        return Err(format!("{key}.rising must be at least 1"));
    }
    if t.falling >= t.rising {
        return Err(format!(
            "{key}: falling ({}) must be below rising ({})",
            t.falling, t.rising
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_alarm_on_any_error_but_not_on_dropped() {
        let c = AlarmConfig::default();
        let t = c.threshold("vti1", ErrorCategory::Carrier);
        assert_eq!(
            (t.enabled, t.rising, t.falling, t.interval_secs),
            (true, 1, 0, 60)
        );
        assert!(!c.threshold("vti1", ErrorCategory::Dropped).enabled);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn overrides_apply_by_glob_and_category_later_wins() {
        let c: AlarmConfig = toml::from_str(
            r#"
            [[override]]
            tunnels = "hub*"
            rising = 10
            falling = 2
            [[override]]
            tunnels = "hub7"
            category = "carrier"
            enabled = false
            "#,
        )
        .unwrap();
        let t = c.threshold("hub3", ErrorCategory::TooBig);
        assert_eq!((t.rising, t.falling, t.enabled), (10, 2, true));
        assert!(!c.threshold("hub7", ErrorCategory::Carrier).enabled);
        assert!(c.threshold("hub7", ErrorCategory::Loop).enabled);
        assert_eq!(c.threshold("vti1", ErrorCategory::TooBig).rising, 1);
    }

    #[test]
    fn validation_names_the_key() {
        let c: AlarmConfig = toml::from_str(
            "[categories.carrier]\nenabled = true\ninterval_secs = 60\nrising = 2\nfalling = 2\n",
        )
        .unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.contains("alarms.categories.carrier"), "{e}");
    }
}
