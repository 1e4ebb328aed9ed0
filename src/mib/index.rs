//! An immutable, sorted view of our subtree, built once per poll and swapped
//! atomically; Get and GetNext never wait on I/O.
//!
//! Why not a flat `Vec<(Oid, Value)>`: at 1,000 tunnels and 4,000 SAs that is
//! ~170k entries, each with its own OID allocation — tens of MB. Instead the
//! index keeps, per table, the sorted row keys and renders a cell from the
//! snapshot only when asked. Order is still exactly SNMP's lexicographic OID
//! order: regions are sorted by OID, columns ascending, rows by index.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;

use crate::agentx::clock::MasterClock;
use crate::oid::Oid;
use crate::value::Value;

/// What a cell renderer may need besides the snapshot: the master's clock for
/// TimeStamps and "now" for ages and seconds-to-expiry.
#[derive(Clone, Copy, Debug)]
pub struct RenderCtx {
    pub clock: MasterClock,
    pub now: Instant,
    pub wall_now: SystemTime,
}

impl RenderCtx {
    pub fn now(clock: MasterClock) -> Self {
        RenderCtx {
            clock,
            now: Instant::now(),
            wall_now: SystemTime::now(),
        }
    }
}

/// Result of a Get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Value(Value),
    NoSuchObject,
    NoSuchInstance,
}

pub type ScalarFn = Box<dyn Fn(&RenderCtx) -> Option<Value> + Send + Sync>;
/// Renders `column` of row number `row` (as passed to [`Table::new`]).
/// `None` = this cell has no value (e.g. counters the kernel doesn't export).
pub type CellFn = Box<dyn Fn(usize, u32, &RenderCtx) -> Option<Value> + Send + Sync>;

/// A scalar object; its single instance is `object.0`.
pub struct Scalar {
    instance: Oid,
    value: ScalarFn,
}

impl Scalar {
    pub fn new(object: Oid, value: ScalarFn) -> Self {
        Scalar {
            instance: object.child(&[0]),
            value,
        }
    }
}

/// A conceptual table: `entry.column.index…`.
///
/// Row keys are kept flat (`width` sub-identifiers each, one allocation for
/// the whole table): a `Vec` per row would be an allocation per row in every
/// index and a pointer chase per comparison on every GetNext.
pub struct Table {
    entry: Oid,
    /// Ascending.
    columns: Vec<u32>,
    /// Sub-identifiers per index suffix.
    width: usize,
    /// The index suffixes, ascending: row `i`'s is `keys[i * width..][..width]`.
    keys: Vec<u32>,
    /// Row `i`'s number for the cell renderer (its position in `Table::new`).
    rows: Vec<u32>,
    cell: CellFn,
}

impl Table {
    /// `rows[i]` is the index suffix of row `i`; order does not matter, but
    /// suffixes must be unique (a duplicate is dropped, first one wins).
    pub fn new<const W: usize>(
        entry: Oid,
        mut columns: Vec<u32>,
        rows: Vec<[u32; W]>,
        cell: CellFn,
    ) -> Self {
        columns.sort_unstable();
        columns.dedup();
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        // Stable: among equal suffixes the first row stays first.
        order.sort_by(|&a, &b| rows[a as usize].cmp(&rows[b as usize]));
        order.dedup_by(|later, earlier| rows[*later as usize] == rows[*earlier as usize]);
        let mut keys = Vec::with_capacity(order.len() * W);
        for &i in &order {
            keys.extend_from_slice(&rows[i as usize]);
        }
        Table {
            entry,
            columns,
            width: W,
            keys,
            rows: order,
            cell,
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn key(&self, i: usize) -> &[u32] {
        &self.keys[i * self.width..(i + 1) * self.width]
    }

    /// The first row whose suffix is not below `key`.
    fn lower_bound(&self, key: &[u32]) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.key(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn get(&self, tail: &[u32], ctx: &RenderCtx) -> Lookup {
        let Some((&column, key)) = tail.split_first() else {
            return Lookup::NoSuchObject;
        };
        if self.columns.binary_search(&column).is_err() {
            return Lookup::NoSuchObject;
        }
        let pos = self.lower_bound(key);
        if pos < self.len() && self.key(pos) == key {
            match (self.cell)(self.rows[pos] as usize, column, ctx) {
                Some(v) => Lookup::Value(v),
                None => Lookup::NoSuchInstance,
            }
        } else {
            Lookup::NoSuchInstance
        }
    }

    fn next(&self, start: &Oid, include: bool, ctx: &RenderCtx) -> Option<(Oid, Value)> {
        // Where in the table to begin: (column, key, include-exact).
        let (first_column, key): (u32, &[u32]) = if start.starts_with(&self.entry) {
            match start.as_slice()[self.entry.len()..].split_first() {
                Some((&c, rest)) => (c, rest),
                None => (0, &[]),
            }
        } else if *start < self.entry {
            (0, &[])
        } else {
            return None; // start is past this table
        };
        let from_col = self.columns.partition_point(|&c| c < first_column);
        for &column in &self.columns[from_col..] {
            let first_row = if column == first_column {
                let p = self.lower_bound(key);
                if p < self.len() && self.key(p) == key && !include {
                    p + 1
                } else {
                    p
                }
            } else {
                0
            };
            for i in first_row..self.len() {
                if let Some(v) = (self.cell)(self.rows[i] as usize, column, ctx) {
                    let k = self.key(i);
                    let mut oid = Vec::with_capacity(self.entry.len() + 1 + k.len());
                    oid.extend_from_slice(self.entry.as_slice());
                    oid.push(column);
                    oid.extend_from_slice(k);
                    return Some((Oid::new(oid), v));
                }
            }
        }
        None
    }
}

pub enum Region {
    Scalar(Scalar),
    Table(Table),
}

impl Region {
    /// The OID the region's subtree starts at (for ordering).
    fn base(&self) -> &Oid {
        match self {
            Region::Scalar(s) => &s.instance,
            Region::Table(t) => &t.entry,
        }
    }

    /// Whether every object this region can hold sorts before `start` (or
    /// at it, when `include` is false): a GetNext from `start` cannot end
    /// here. Monotone over regions sorted by base with disjoint subtrees.
    fn entirely_before(&self, start: &Oid, include: bool) -> bool {
        match self {
            Region::Scalar(s) => s.instance < *start || (!include && s.instance == *start),
            // Objects are `entry.…`: all below `start` iff `entry` is, and
            // `start` is not inside the table.
            Region::Table(t) => t.entry < *start && !start.starts_with(&t.entry),
        }
    }
}

/// Our whole subtree at one poll.
pub struct MibIndex {
    root: Oid,
    /// Sorted by base OID; subtrees do not overlap.
    regions: Vec<Region>,
}

pub type SharedIndex = Arc<ArcSwap<MibIndex>>;

impl MibIndex {
    pub fn new(root: Oid, mut regions: Vec<Region>) -> Self {
        regions.sort_by(|a, b| a.base().cmp(b.base()));
        MibIndex { root, regions }
    }

    /// An index with nothing in it yet (before the first poll).
    pub fn empty(root: Oid) -> Self {
        MibIndex {
            root,
            regions: Vec::new(),
        }
    }

    /// The registered subtree.
    pub fn root(&self) -> &Oid {
        &self.root
    }

    pub fn get(&self, oid: &Oid, clock: &MasterClock) -> Lookup {
        self.get_at(oid, &RenderCtx::now(*clock))
    }

    /// The first object after `start` (or at it, when `include`), in our
    /// subtree; `None` = end of our view.
    pub fn next(&self, start: &Oid, include: bool, clock: &MasterClock) -> Option<(Oid, Value)> {
        self.next_at(start, include, &RenderCtx::now(*clock))
    }

    pub fn get_at(&self, oid: &Oid, ctx: &RenderCtx) -> Lookup {
        for region in &self.regions {
            match region {
                Region::Scalar(s) => {
                    if *oid == s.instance {
                        return match (s.value)(ctx) {
                            Some(v) => Lookup::Value(v),
                            None => Lookup::NoSuchInstance,
                        };
                    }
                    let object = &s.instance.as_slice()[..s.instance.len() - 1];
                    if oid.as_slice().starts_with(object) {
                        return Lookup::NoSuchInstance;
                    }
                }
                Region::Table(t) => {
                    if oid.starts_with(&t.entry) {
                        return t.get(&oid.as_slice()[t.entry.len()..], ctx);
                    }
                }
            }
        }
        Lookup::NoSuchObject
    }

    pub fn next_at(&self, start: &Oid, include: bool, ctx: &RenderCtx) -> Option<(Oid, Value)> {
        // Skip, by binary search, the regions wholly before `start`.
        let first = self
            .regions
            .partition_point(|r| r.entirely_before(start, include));
        for region in &self.regions[first..] {
            match region {
                Region::Scalar(s) => {
                    let after = s.instance > *start || (include && s.instance == *start);
                    if after {
                        if let Some(v) = (s.value)(ctx) {
                            return Some((s.instance.clone(), v));
                        }
                    }
                }
                Region::Table(t) => {
                    if let Some(found) = t.next(start, include, ctx) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn ctx() -> RenderCtx {
        RenderCtx::now(MasterClock::local())
    }

    /// root = 1.9; scalar 1.9.1.1; table entry 1.9.3.1 with columns 2, 3
    /// and rows keyed [5] and [7]; column 3 of row [5] is empty.
    fn sample_index() -> MibIndex {
        let scalar = Scalar::new(oid("1.9.1.1"), Box::new(|_| Some(Value::Integer(42))));
        let table = Table::new(
            oid("1.9.3.1"),
            vec![3, 2],
            vec![[7], [5]],
            Box::new(|row, col, _| match (row, col) {
                (1, 3) => None,
                (r, c) => Some(Value::Gauge32(r as u32 * 100 + c)),
            }),
        );
        MibIndex::new(
            oid("1.9"),
            vec![Region::Table(table), Region::Scalar(scalar)],
        )
    }

    fn walk(index: &MibIndex) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        let mut cur = index.root().clone();
        while let Some((o, v)) = index.next_at(&cur, false, &ctx()) {
            out.push((o.to_string(), v));
            cur = o;
        }
        out
    }

    #[test]
    fn walks_in_lexicographic_order_skipping_empty_cells() {
        let got = walk(&sample_index());
        let want = vec![
            ("1.9.1.1.0".to_string(), Value::Integer(42)),
            ("1.9.3.1.2.5".to_string(), Value::Gauge32(102)),
            ("1.9.3.1.2.7".to_string(), Value::Gauge32(2)),
            ("1.9.3.1.3.7".to_string(), Value::Gauge32(3)),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn include_flag_returns_the_start_itself() {
        let index = sample_index();
        let (o, _) = index.next_at(&oid("1.9.3.1.2.7"), true, &ctx()).unwrap();
        assert_eq!(o, oid("1.9.3.1.2.7"));
        let (o, _) = index.next_at(&oid("1.9.3.1.2.7"), false, &ctx()).unwrap();
        assert_eq!(o, oid("1.9.3.1.3.7"));
        let (o, _) = index.next_at(&oid("1.9.1.1.0"), true, &ctx()).unwrap();
        assert_eq!(o, oid("1.9.1.1.0"));
    }

    #[test]
    fn next_from_between_and_partial_oids() {
        let index = sample_index();
        let next = |s: &str| {
            index
                .next_at(&oid(s), false, &ctx())
                .map(|(o, _)| o.to_string())
        };
        assert_eq!(next("1.8.99").as_deref(), Some("1.9.1.1.0"));
        assert_eq!(next("1.9.2").as_deref(), Some("1.9.3.1.2.5"));
        assert_eq!(next("1.9.3.1.2.5.1").as_deref(), Some("1.9.3.1.2.7"));
        assert_eq!(next("1.9.3.1.2.6").as_deref(), Some("1.9.3.1.2.7"));
        assert_eq!(next("1.9.3.1.1").as_deref(), Some("1.9.3.1.2.5"));
        assert_eq!(next("1.9.3.1.3.7"), None);
        assert_eq!(next("1.10"), None);
    }

    #[test]
    fn get_distinguishes_object_and_instance() {
        let index = sample_index();
        let get = |s: &str| index.get_at(&oid(s), &ctx());
        assert_eq!(get("1.9.1.1.0"), Lookup::Value(Value::Integer(42)));
        assert_eq!(get("1.9.1.1.1"), Lookup::NoSuchInstance);
        assert_eq!(get("1.9.3.1.2.7"), Lookup::Value(Value::Gauge32(2)));
        assert_eq!(get("1.9.3.1.3.5"), Lookup::NoSuchInstance);
        assert_eq!(get("1.9.3.1.2.6"), Lookup::NoSuchInstance);
        assert_eq!(get("1.9.3.1.9.7"), Lookup::NoSuchObject);
        assert_eq!(get("1.9.2.1"), Lookup::NoSuchObject);
    }

    #[test]
    fn duplicate_row_keys_keep_the_first() {
        let t = Table::new(
            oid("1.1"),
            vec![1],
            vec![[4], [4]],
            Box::new(|row, _, _| Some(Value::Integer(row as i32))),
        );
        let index = MibIndex::new(oid("1"), vec![Region::Table(t)]);
        assert_eq!(
            walk(&index),
            vec![("1.1.1.4".to_string(), Value::Integer(0))]
        );
    }
}
