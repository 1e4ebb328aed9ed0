//! What a session serves: the objects under its registered subtree, as the
//! application provides them. The session asks only "the value at this
//! OID" (Get) and "the first object after this OID" (GetNext); how the
//! objects are stored and rendered is the application's business.

use crate::agentx::clock::MasterClock;
use crate::oid::Oid;
use crate::value::Value;

/// A consistent view of the served objects, for answering one request PDU.
pub trait Objects {
    /// The value of instance `oid`, or [`Value::NoSuchObject`] /
    /// [`Value::NoSuchInstance`] when there is none (RFC 2741 §7.2.3.1).
    fn get(&self, oid: &Oid) -> Value;

    /// The first instance after `start` (or at it, when `include`) in
    /// lexicographic OID order, with its value; `None` past the last one.
    /// May return instances outside the registered subtree: the session
    /// never serves those.
    fn next(&self, start: &Oid, include: bool) -> Option<(Oid, Value)>;
}

impl<O: Objects + ?Sized> Objects for &O {
    fn get(&self, oid: &Oid) -> Value {
        (**self).get(oid)
    }

    fn next(&self, start: &Oid, include: bool) -> Option<(Oid, Value)> {
        (**self).next(start, include)
    }
}

/// Where the session's responder takes a view for each request.
///
/// Requests are answered on a thread of their own, so a source must be
/// shareable across threads; [`view`](ObjectSource::view) must not block
/// (it runs for every request).
pub trait ObjectSource: Send + Sync + 'static {
    /// The objects as they are now; every varbind of one PDU is answered
    /// from the same view. `clock` is the master's sysUpTime, for TimeStamp
    /// values.
    fn view(&self, clock: MasterClock) -> impl Objects + '_;
}

/// The objects of a context we do not serve: none at all.
pub struct NoObjects;

impl Objects for NoObjects {
    fn get(&self, _oid: &Oid) -> Value {
        Value::NoSuchObject
    }

    fn next(&self, _start: &Oid, _include: bool) -> Option<(Oid, Value)> {
        None
    }
}

#[cfg(test)]
pub use fixed::ObjectMap;

#[cfg(test)]
mod fixed {
    use std::collections::BTreeMap;
    use std::ops::Bound;

    use super::*;

    /// A fixed set of instances for tests, plus the objects (scalars,
    /// columns) they belong to: a Get under a known object that names no
    /// instance is noSuchInstance, anything else noSuchObject.
    #[derive(Default)]
    pub struct ObjectMap {
        values: BTreeMap<Oid, Value>,
        objects: Vec<Oid>,
    }

    impl ObjectMap {
        /// Scalar `object` with its instance `object.0`.
        pub fn scalar(mut self, object: Oid, value: Value) -> Self {
            self.values.insert(object.child(&[0]), value);
            self.objects.push(object);
            self
        }

        /// Column `column` with one instance per row index.
        pub fn column(
            mut self,
            column: Oid,
            cells: impl IntoIterator<Item = (Vec<u32>, Value)>,
        ) -> Self {
            for (row, value) in cells {
                self.values.insert(column.child(&row), value);
            }
            self.objects.push(column);
            self
        }
    }

    impl Objects for ObjectMap {
        fn get(&self, oid: &Oid) -> Value {
            match self.values.get(oid) {
                Some(v) => v.clone(),
                None if self.objects.iter().any(|o| oid.starts_with(o)) => Value::NoSuchInstance,
                None => Value::NoSuchObject,
            }
        }

        fn next(&self, start: &Oid, include: bool) -> Option<(Oid, Value)> {
            let from = if include {
                Bound::Included(start)
            } else {
                Bound::Excluded(start)
            };
            self.values
                .range::<Oid, _>((from, Bound::Unbounded))
                .next()
                .map(|(oid, value)| (oid.clone(), value.clone()))
        }
    }

    impl ObjectSource for ObjectMap {
        fn view(&self, _clock: MasterClock) -> impl Objects + '_ {
            self
        }
    }
}
