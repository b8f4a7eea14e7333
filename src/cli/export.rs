//! `kontak export`: one workspace's contacts as NDJSON or CSV create bodies, streamed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use rusqlite::Connection;

use super::format::{encode_tags, DataFormat};
use crate::config::Settings;
use crate::domain::WorkspaceName;
use crate::storage::export::{for_each_contact, ContactBody};
use crate::storage::workspaces::{find_workspace, list_workspaces, WorkspaceId};
use crate::storage::{open_connection, schema};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Workspace to export [default: the only one, if the database has just one]
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,
    /// Output format [default: from --output's extension, else ndjson]
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// File to write [default: standard output]
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

pub fn run(args: ExportArgs, settings: &Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
    schema::migrate(&mut conn)?;
    let (name, workspace) = resolve_workspace(&conn, args.workspace.as_deref())?;
    let output = args.output.filter(|path| path.as_os_str() != "-");
    let format = args
        .format
        .or_else(|| output.as_deref().and_then(DataFormat::from_path))
        .unwrap_or(DataFormat::Ndjson);
    let sink: Box<dyn Write> = match &output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let written = match format {
        DataFormat::Ndjson => write_ndjson(&conn, workspace, &mut out),
        DataFormat::Csv => write_csv(&conn, workspace, &mut out),
    }
    .and_then(|count| {
        out.flush().context("writing the export")?;
        Ok(count)
    });
    let count = match written {
        // `kontak export | head` closes the pipe early: that is the reader's choice,
        // not a failure, so stop quietly as other Unix tools do.
        Err(err) if output.is_none() && is_broken_pipe(&err) => return Ok(()),
        other => other?,
    };
    eprintln!(
        "Exported {count} contacts of workspace {name:?} in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| cause.downcast_ref::<serde_json::Error>()?.io_error_kind())
            .or_else(|| match cause.downcast_ref::<csv::Error>()?.kind() {
                csv::ErrorKind::Io(err) => Some(err.kind()),
                _ => None,
            });
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// The named workspace, or the only one. The output carries no workspace column, so an
/// export is always of exactly one.
fn resolve_workspace(
    conn: &Connection,
    name: Option<&str>,
) -> anyhow::Result<(String, WorkspaceId)> {
    let name = match name {
        Some(name) => WorkspaceName::parse(name).map_err(|e| anyhow!(e.message))?,
        None => {
            let all = list_workspaces(conn)?;
            match all.as_slice() {
                [only] => WorkspaceName::parse(&only.name).map_err(|e| anyhow!(e.message))?,
                [] => bail!("the database has no workspaces, so nothing to export"),
                many => bail!(
                    "the database has {} workspaces ({}); say which with --workspace",
                    many.len(),
                    many.iter()
                        .map(|w| w.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let id = find_workspace(conn, &name)?.ok_or_else(|| {
        anyhow!(
            "no workspace named {:?}; see `kontak workspace list`",
            name.as_str()
        )
    })?;
    Ok((name.as_str().to_owned(), id))
}

fn write_ndjson(
    conn: &Connection,
    workspace: WorkspaceId,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    for_each_contact(
        conn,
        workspace,
        |contact: ContactBody| -> anyhow::Result<()> {
            serde_json::to_writer(&mut *out, &contact)?;
            out.write_all(b"\n").context("writing the export")
        },
    )
}

/// The header import reads; custom fields as one JSON cell, so their types survive.
const CSV_HEADER: [&str; 5] = ["phone", "name", "email", "tags", "custom_fields"];

fn write_csv(
    conn: &Connection,
    workspace: WorkspaceId,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_HEADER)?;
    let count = for_each_contact(
        conn,
        workspace,
        |contact: ContactBody| -> anyhow::Result<()> {
            let custom_fields = match contact.custom_fields.is_empty() {
                true => String::new(),
                false => contact.custom_fields.to_json_text(),
            };
            csv.write_record([
                contact.phone.as_str(),
                contact.name.as_deref().unwrap_or_default(),
                contact.email.as_deref().unwrap_or_default(),
                &encode_tags(&contact.tags),
                &custom_fields,
            ])?;
            Ok(())
        },
    )?;
    csv.flush().context("writing the export")?;
    Ok(count)
}
