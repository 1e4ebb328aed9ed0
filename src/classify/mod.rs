//! Turns Samples into classified, diagnosed per-tunnel data. Pure logic.

pub mod mapping;
