//! Threshold alarms and notifications: RMON-style rising/falling alarms per
//! (tunnel, category), SA down/up/expiring events, tunnel and IKE
//! down/up events (`updown`), and their varbinds.

pub mod config;
pub mod engine;
mod glob;
pub mod notify;
mod stamp;
mod table;
mod updown;
mod window;

pub use config::AlarmConfig;
pub use engine::{AlarmEngine, Event};
pub use table::{AlarmRow, AlarmState, AlarmTable};
