use std::process::ExitCode;

use clap::Parser;
use kontak::cli::Cli;
use kontak::config::Settings;

/// glibc's allocator keeps freed memory in per-thread arenas: after argon2's 19 MiB
/// blocks had passed through a few blocking threads, the server held ~500 MiB it no
/// longer used (bench/soak.sh). mimalloc returns freed memory to the system.
///
/// Its `override` feature makes it the C allocator too, so SQLite's page cache and
/// statements use it as well: `kontak import` of 300,000 contacts took 20.2 / 20.3 s
/// against 22.8 / 22.9 s with SQLite on glibc's malloc (alternated), and the server's
/// peak RSS after the same requests was 37.8-53.2 MiB, against 49.5-61.2 MiB before.
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
