//! Snapshot and alarm table → `MibIndex`: the tables and scalars of
//! IPSEC-VTI-MIB, each built from its column description (`columns`).

use std::sync::Arc;

use super::columns::{
    alarm_col, event_col, event_global, global, if_col, ike_col, sa_col, served_ids, xfrm_stat,
    Column, MibEnum,
};
use super::index::{MibIndex, Region, Scalar, Table};
use super::oids;
use crate::alarm::{AlarmTable, EventTable};
use crate::model::Snapshot;
use crate::oid::Oid;

pub fn render(
    snapshot: Arc<Snapshot>,
    alarms: Arc<AlarmTable>,
    events: Arc<EventTable>,
    root: &Oid,
) -> MibIndex {
    let objects = root.child(&[oids::OBJECTS]);
    let mut regions: Vec<Region> = scalars(global::COLUMNS, &snapshot, &objects)
        .into_iter()
        .chain(scalars(event_global::COLUMNS, &events, &objects))
        .map(Region::Scalar)
        .collect();
    regions.push(Region::Table(xfrm_stat_table(&snapshot, &objects)));
    regions.push(Region::Table(if_table(&snapshot, &objects)));
    regions.push(Region::Table(sa_table(&snapshot, &objects)));
    regions.push(Region::Table(alarm_table(alarms, &objects)));
    regions.push(Region::Table(ike_table(&snapshot, &objects)));
    regions.push(Region::Table(event_table(events, &objects)));
    MibIndex::new(root.clone(), regions)
}

/// vtiGlobal scalars described by `columns`, read from `from`.
fn scalars<T: Send + Sync + 'static>(
    columns: &'static [Column<T, ()>],
    from: &Arc<T>,
    objects: &Oid,
) -> Vec<Scalar> {
    let base = objects.child(&[oids::GLOBAL]);
    columns
        .iter()
        .filter(|c| c.served())
        .map(|c| {
            let snap = Arc::clone(from);
            let read = c.read;
            Scalar::new(
                base.child(&[c.id]),
                Box::new(move |ctx| read(&snap, &(), ctx)),
            )
        })
        .collect()
}

fn xfrm_stat_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::XFRM_STAT_TABLE, 1]);
    let n = snap.xfrm_stat.as_ref().map_or(0, Vec::len);
    // Index = 1-based position in /proc/net/xfrm_stat; the kernel only ever
    // appends names, so positions are stable across polls and upgrades.
    let rows = (1..=n as u32).map(|i| [i]).collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        served_ids(xfrm_stat::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| {
            let stat = snap.xfrm_stat.as_ref()?.get(row)?;
            xfrm_stat::read(col, stat, &(), ctx)
        }),
    )
}

fn if_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::IF_TABLE, 1]);
    let rows = snap.tunnels.iter().map(|t| [t.tunnel.ifindex]).collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        served_ids(if_col::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| if_col::read(col, &snap.tunnels[row], &snap, ctx)),
    )
}

fn sa_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::SA_TABLE, 1]);
    let rows = snap
        .sas
        .iter()
        .map(|r| [r.tunnel_ifindex, r.index])
        .collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        served_ids(sa_col::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| sa_col::read(col, &snap.sas[row], &(), ctx)),
    )
}

fn alarm_table(alarms: Arc<AlarmTable>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::ALARM_TABLE, 1]);
    let rows = alarms
        .iter()
        .map(|a| [a.ifindex, a.category.mib_number() as u32])
        .collect();
    Table::new(
        entry,
        served_ids(alarm_col::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| alarm_col::read(col, &alarms.get(row), &(), ctx)),
    )
}

fn ike_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::IKE_TABLE, 1]);
    let rows = snap.ike.rows.iter().map(|r| [r.index]).collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        served_ids(ike_col::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| ike_col::read(col, &snap.ike.rows[row], &(), ctx)),
    )
}

fn event_table(events: Arc<EventTable>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::EVENT_TABLE, 1]);
    let rows = events.records.iter().map(|r| [r.index]).collect();
    Table::new(
        entry,
        served_ids(event_col::COLUMNS),
        rows,
        Box::new(move |row, col, ctx| event_col::read(col, &events.records[row], &(), ctx)),
    )
}
