//! vtiAlarmTable as served: one row per (tunnel, category), stored as a key
//! and an index into the distinct row contents.
//!
//! Almost all rows are the same quiet alarm (armed, delta 0, nothing sent)
//! with the same thresholds, and the table has six rows per tunnel: keeping
//! each distinct content once makes a row 12 bytes instead of 64. The
//! layout is private; readers get plain `AlarmRow`s.

use std::collections::HashMap;
use std::time::Instant;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::model::ErrorCategory;

/// vtiAlarmState.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AlarmState {
    ArmedRising = 1,
    ArmedFalling = 2,
    Disabled = 3,
}

/// One vtiAlarmTable row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AlarmRow {
    pub ifindex: u32,
    pub category: ErrorCategory,
    /// Thresholds in force.
    pub interval_secs: u32,
    pub rising: u32,
    pub falling: u32,
    pub state: AlarmState,
    pub last_delta: u64,
    #[serde(skip)]
    pub last_event_at: Option<Instant>,
    pub sent: u64,
    pub suppressed: u64,
}

/// An alarm row without its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct AlarmCells {
    interval_secs: u32,
    rising: u32,
    falling: u32,
    state: AlarmState,
    last_delta: u64,
    last_event_at: Option<Instant>,
    sent: u64,
    suppressed: u64,
}

/// The rows in the order they were pushed (the alarm engine pushes them
/// sorted by (ifindex, category)).
#[derive(Clone, Debug, Default)]
pub struct AlarmTable {
    /// (ifindex, category, index into `distinct`).
    rows: Vec<(u32, ErrorCategory, u32)>,
    distinct: Vec<AlarmCells>,
}

/// Builds an [`AlarmTable`], sharing equal row contents.
#[derive(Default)]
pub(super) struct AlarmTableBuilder {
    table: AlarmTable,
    seen: HashMap<AlarmCells, u32>,
}

impl AlarmTableBuilder {
    pub(super) fn with_capacity(rows: usize) -> Self {
        AlarmTableBuilder {
            table: AlarmTable {
                rows: Vec::with_capacity(rows),
                distinct: Vec::new(),
            },
            seen: HashMap::new(),
        }
    }

    pub(super) fn push(&mut self, row: AlarmRow) {
        let cells = AlarmCells {
            interval_secs: row.interval_secs,
            rising: row.rising,
            falling: row.falling,
            state: row.state,
            last_delta: row.last_delta,
            last_event_at: row.last_event_at,
            sent: row.sent,
            suppressed: row.suppressed,
        };
        let distinct = &mut self.table.distinct;
        let at = *self.seen.entry(cells).or_insert_with(|| {
            distinct.push(cells);
            (distinct.len() - 1) as u32
        });
        self.table.rows.push((row.ifindex, row.category, at));
    }

    pub(super) fn finish(mut self) -> AlarmTable {
        self.table.distinct.shrink_to_fit();
        self.table
    }
}

impl AlarmTable {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i` (`i < len()`).
    pub fn get(&self, i: usize) -> AlarmRow {
        let (ifindex, category, at) = self.rows[i];
        let c = &self.distinct[at as usize];
        AlarmRow {
            ifindex,
            category,
            interval_secs: c.interval_secs,
            rising: c.rising,
            falling: c.falling,
            state: c.state,
            last_delta: c.last_delta,
            last_event_at: c.last_event_at,
            sent: c.sent,
            suppressed: c.suppressed,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = AlarmRow> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl FromIterator<AlarmRow> for AlarmTable {
    fn from_iter<I: IntoIterator<Item = AlarmRow>>(rows: I) -> Self {
        let mut builder = AlarmTableBuilder::default();
        for row in rows {
            builder.push(row);
        }
        builder.finish()
    }
}

/// As the list of rows it stands for (`show --json`).
impl Serialize for AlarmTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for row in self.iter() {
            seq.serialize_element(&row)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ifindex: u32, category: ErrorCategory, last_delta: u64) -> AlarmRow {
        AlarmRow {
            ifindex,
            category,
            interval_secs: 60,
            rising: 1,
            falling: 0,
            state: AlarmState::ArmedRising,
            last_delta,
            last_event_at: None,
            sent: 0,
            suppressed: 0,
        }
    }

    #[test]
    fn rows_come_back_as_pushed_and_equal_contents_are_kept_once() {
        let rows = vec![
            row(5, ErrorCategory::Carrier, 0),
            row(5, ErrorCategory::Loop, 3),
            row(6, ErrorCategory::Carrier, 0),
        ];
        let table: AlarmTable = rows.clone().into_iter().collect();
        assert_eq!(table.iter().collect::<Vec<_>>(), rows);
        assert_eq!(table.distinct.len(), 2);
        assert_eq!(
            serde_json::to_string(&table).unwrap(),
            serde_json::to_string(&rows).unwrap()
        );
    }
}
