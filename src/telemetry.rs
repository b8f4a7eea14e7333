//! Logging: one subscriber, to stderr, so stdout stays free for what commands print.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

pub fn init(settings: &Settings) {
    // The filter was validated with the settings; fall back to "info" regardless.
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // When a write to stderr fails (the log pipe closed), tracing would report it
        // with eprintln!, which panics on the same closed stderr and takes the request
        // down with it. A lost log line must never cost a response.
        .log_internal_errors(false);
    match settings.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
