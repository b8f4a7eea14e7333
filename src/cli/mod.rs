//! The command line: `kontak [serve]`, `kontak key …`, `kontak workspace …`,
//! `kontak backup`, `kontak check`, `kontak import`, `kontak export`, `kontak demo`.

mod demo;
mod export;
mod format;
mod import;
mod keys;
mod maintenance;
mod serve;
mod workspaces;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FlagOverrides, LogFormat, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "kontak",
    version,
    about = "A self-hosted, Chatera-compatible contacts API"
)]
pub struct Cli {
    /// Config file [default: ./config.toml if present]
    #[arg(long, global = true, env = "KONTAK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// SQLite database file [default: kontak.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Log lines for people (pretty) or for log collectors (json) [default: pretty]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Options for a bare `kontak`, which serves
    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Fill workspace "default" with demo contacts if it holds none
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default when no command is given)
    Serve(ServeArgs),
    /// Create, list and revoke API keys
    #[command(subcommand)]
    Key(KeyCommand),
    /// Inspect workspaces
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Import contacts from NDJSON or CSV, validated as the API validates them
    Import(import::ImportArgs),
    /// Export one workspace's contacts as NDJSON or CSV that import reads back
    Export(export::ExportArgs),
    /// Write a consistent copy of the database; safe while a server is running
    Backup {
        /// Where to write the copy; must not exist unless --force
        path: PathBuf,
        /// Replace PATH if it exists
        #[arg(long)]
        force: bool,
    },
    /// Check the database's integrity, foreign keys, kept counts and kept tag names; exits non-zero on any problem
    Check,
    /// Demo data for offline demos
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Add realistic demo contacts to a workspace that holds none (never touches one that does)
    Seed {
        /// Workspace to fill; created if it does not exist
        #[arg(long, value_name = "NAME")]
        workspace: String,
        /// How many contacts [default: 300]
        #[arg(long, value_name = "N")]
        count: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; prints the key alone on stdout, and nothing else there
    Create {
        /// Workspace the key belongs to; created if it does not exist
        #[arg(long, value_name = "NAME")]
        workspace: String,
        /// Comma-separated scopes: contacts:read, contacts:write
        #[arg(long, value_name = "LIST")]
        scopes: String,
        /// A label to recognise the key by in `key list`
        #[arg(long, value_name = "LABEL")]
        name: Option<String>,
    },
    /// List keys, one line each, id first (never the secret)
    List {
        /// Only this workspace's keys
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Revoke a key by its id; takes effect on the next request, even on a running server
    Revoke {
        /// The key id, as shown by `key list`
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// List workspaces with their key and contact counts
    List,
}

impl Cli {
    /// The flags that override settings for this command.
    pub fn overrides(&self) -> Result<FlagOverrides, String> {
        let bind = match &self.command {
            Some(Command::Serve(args)) => args.bind.clone().or_else(|| self.serve.bind.clone()),
            None => self.serve.bind.clone(),
            Some(_) if self.serve.bind.is_some() || self.serve.demo => {
                return Err("--bind and --demo apply only to `kontak serve`".into())
            }
            Some(_) => None,
        };
        Ok(FlagOverrides {
            db: self.db.clone(),
            bind,
            log_format: self.log_format,
        })
    }

    /// Runs the command with the loaded settings.
    pub fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command {
            None => serve::run(settings, self.serve.demo),
            Some(Command::Serve(args)) => serve::run(settings, args.demo || self.serve.demo),
            Some(Command::Key(command)) => keys::run(command, &settings),
            Some(Command::Workspace(WorkspaceCommand::List)) => workspaces::list(&settings),
            Some(Command::Demo(DemoCommand::Seed { workspace, count })) => {
                demo::run_seed(&settings, &workspace, count)
            }
            Some(Command::Backup { path, force }) => maintenance::backup(&settings, &path, force),
            Some(Command::Check) => maintenance::check(&settings),
            Some(Command::Import(args)) => import::run(args, &settings),
            Some(Command::Export(args)) => export::run(args, &settings),
        }
    }
}
