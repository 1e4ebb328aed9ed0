//! The samples behind one alarm's delta: (time, cumulative value), oldest
//! first.
//!
//! A quiet alarm keeps exactly two samples (`CategoryAlarm::delta` collapses
//! runs of equal values), and there are six alarms per tunnel: a `VecDeque`
//! per alarm would be a 32-byte header plus a 64-byte heap block and an
//! allocation each. Up to two samples are kept inline; only an alarm
//! whose counter is moving spills into a `VecDeque`, and returns inline once
//! it is down to two again.

use std::collections::VecDeque;
use std::time::Instant;

use super::stamp::Stamp;

/// (time, cumulative value).
pub type Sample = (Stamp, u64);

pub enum SampleWindow {
    /// `len` (0..=2) samples in `items`.
    Inline { len: u8, items: [Sample; 2] },
    /// More than two samples.
    Spilled(VecDeque<Sample>),
}

impl Default for SampleWindow {
    fn default() -> Self {
        SampleWindow::Inline {
            len: 0,
            items: [(Stamp::from(Instant::now()), 0); 2],
        }
    }
}

impl SampleWindow {
    pub fn len(&self) -> usize {
        match self {
            SampleWindow::Inline { len, .. } => usize::from(*len),
            SampleWindow::Spilled(samples) => samples.len(),
        }
    }

    /// The `i`-th oldest sample; `i < len()`.
    pub fn get(&self, i: usize) -> Sample {
        match self {
            SampleWindow::Inline { len, items } => {
                assert!(i < usize::from(*len), "sample {i} of {len}");
                items[i]
            }
            SampleWindow::Spilled(samples) => samples[i],
        }
    }

    /// Moves the newest sample's time to `at` (the value stood still).
    pub fn touch_newest(&mut self, at: Stamp) {
        match self {
            SampleWindow::Inline { len, items } => {
                assert!(*len > 0, "no sample to touch");
                items[usize::from(*len) - 1].0 = at;
            }
            SampleWindow::Spilled(samples) => {
                if let Some(newest) = samples.back_mut() {
                    newest.0 = at;
                }
            }
        }
    }

    pub fn push_back(&mut self, sample: Sample) {
        match self {
            SampleWindow::Inline { len, items } if *len < 2 => {
                items[usize::from(*len)] = sample;
                *len += 1;
            }
            SampleWindow::Inline { items, .. } => {
                let mut samples = VecDeque::with_capacity(4);
                samples.extend(items.iter().copied());
                samples.push_back(sample);
                *self = SampleWindow::Spilled(samples);
            }
            SampleWindow::Spilled(samples) => samples.push_back(sample),
        }
    }

    /// Drops the oldest sample; `len()` must be above zero.
    pub fn pop_front(&mut self) {
        match self {
            SampleWindow::Inline { len, items } => {
                assert!(*len > 0, "no sample to drop");
                items[0] = items[1];
                *len -= 1;
            }
            SampleWindow::Spilled(samples) => {
                samples.pop_front();
                if samples.len() <= 2 {
                    let mut items = [samples[0]; 2];
                    for (slot, sample) in items.iter_mut().zip(samples.iter()) {
                        *slot = *sample;
                    }
                    *self = SampleWindow::Inline {
                        len: samples.len() as u8,
                        items,
                    };
                }
            }
        }
    }

    pub fn clear(&mut self) {
        *self = SampleWindow::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn spills_past_two_and_returns_inline() {
        let t0 = Instant::now();
        let at = |s: u64| (Stamp::from(t0 + Duration::from_secs(s)), s);
        let mut w = SampleWindow::default();
        for s in 0..5 {
            w.push_back(at(s));
        }
        assert!(matches!(w, SampleWindow::Spilled(_)));
        assert_eq!((w.len(), w.get(0), w.get(4)), (5, at(0), at(4)));
        w.pop_front();
        w.pop_front();
        w.pop_front();
        assert!(matches!(w, SampleWindow::Inline { len: 2, .. }));
        assert_eq!((w.get(0), w.get(1)), (at(3), at(4)));
        let t0 = Stamp::from(t0);
        w.touch_newest(t0);
        assert_eq!(w.get(1), (t0, 4));
        w.pop_front();
        assert_eq!((w.len(), w.get(0)), (1, (t0, 4)));
        w.clear();
        assert_eq!(w.len(), 0);
    }
}
