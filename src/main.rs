use std::process::ExitCode;

use clap::Parser;
use kontak::cli::Cli;
use kontak::config::Settings;

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
