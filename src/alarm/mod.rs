//! Threshold alarms and notifications: RMON-style rising/falling alarms per
//! (tunnel, category), SA down/up/expiring events (`event`), their varbinds
//! (`notify`) and the history of them all (`history`, vtiEventTable).

pub mod config;
pub mod engine;
pub mod event;
mod glob;
pub mod history;
pub mod notify;
mod stamp;
mod table;
mod updown;
mod window;

pub use config::AlarmConfig;
pub use engine::AlarmEngine;
pub use event::{Detail, Event, EventKind, Notified};
pub use history::{EventHistory, EventRecord, EventTable};
pub use table::{AlarmRow, AlarmState, AlarmTable};
