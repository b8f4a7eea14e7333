use std::process::ExitCode;

use clap::Parser;
use kontak::cli::Cli;
use kontak::config::Settings;

/// glibc's allocator keeps freed memory in per-thread arenas: after argon2's 19 MiB
/// blocks had passed through a few blocking threads, the server held ~500 MiB it no
/// longer used (bench/soak.sh). mimalloc returns freed memory to the system.
///
/// SQLite still allocates with glibc's malloc. mimalloc's `override` feature would make
/// it the C allocator too: `kontak import` of 300,000 contacts took 20.2 / 20.3 s that
/// way against 22.8 / 22.9 s, but the soak's server (bench/soak.sh, 20 s) peaked at
/// 89-108 MiB against 65-69 MiB, with mimalloc v3 and v2 alike, and a server runs far
/// more often than an import.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = cli
        .overrides()
        .and_then(|flags| Settings::load(cli.config.as_deref(), &flags));
    let settings = match loaded {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("kontak: {message}");
            return ExitCode::from(2);
        }
    };
    kontak::telemetry::init(&settings);
    match cli.run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kontak: {err:#}");
            ExitCode::FAILURE
        }
    }
}
