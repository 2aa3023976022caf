//! dwell-core: everything dwell knows that is not tied to a desktop or a terminal.
//!
//! The data model ([`model`]), configuration ([`config`]), the rules that say what
//! counts as social ([`rules`]), time arithmetic ([`schedule`], [`tracker`]), the
//! usage ledger that defines the social time of a day, a week and a streak once
//! for every consumer ([`ledger`]), the reminder policy ([`policy`]), report
//! figures ([`stats`]), calibration ([`calibrate`]) and the private SQLite store
//! ([`store`]), the one writer of files handed out ([`files`]) and the one
//! exit-code rule of both binaries ([`exit`]); also where things are kept
//! ([`paths`]), what the employee controls while the agent runs ([`control`],
//! [`forget`]) and the words both binaries say ([`messages`], [`text`]). Only
//! [`store`], [`files`], [`config`] (reading the config file) and [`paths`]
//! (the default places, from the environment) do I/O; the rest is pure and
//! takes the current time as a parameter so it can be replayed in tests.

pub mod calibrate;
pub mod config;
pub mod control;
pub mod exit;
pub mod files;
pub mod forget;
pub mod ledger;
pub mod messages;
pub mod model;
pub mod paths;
pub mod policy;
pub mod rules;
pub mod schedule;
pub mod stats;
pub mod store;
#[cfg(test)]
mod testing;
pub mod text;
pub mod tracker;

pub use config::Config;
pub use model::{Activity, Source, Span, WindowInfo};
pub use store::Store;
