//! kontak: a self-hosted, Chatera-compatible contacts API on one SQLite file.
//!
//! The layers, outside in: [`cli`] parses the command line, [`config`] loads the
//! settings, [`startup`] builds the server, [`routes`] hold thin handlers, [`auth`]
//! checks API keys, [`domain`] parses input into validated types, and [`storage`] owns
//! every SQL statement. [`error`] turns any failure into the response envelope.

pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod request_id;
pub mod routes;
pub mod security;
pub mod shutdown;
pub mod startup;
pub mod storage;
pub mod telemetry;
