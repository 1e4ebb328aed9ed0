//! The AgentX session with the master agent.

pub mod answer;
