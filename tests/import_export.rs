//! `kontak import` and `kontak export`, run as the real binary on temporary files.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{phones, spawn_app};
use serde_json::{json, Value};
use tempfile::TempDir;

/// A temporary directory holding the input files and `kontak.db`.
struct Workdir {
    dir: TempDir,
}

/// The counts an import's summary reports.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    created: u64,
    duplicates: u64,
    rejected: u64,
}

impl Workdir {
    fn new() -> Self {
        Self {
            dir: TempDir::new().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn kontak(&self, args: &[&str]) -> Output {
        kontak_command(self.dir.path(), args).output().unwrap()
    }

    /// `kontak import -` of NDJSON into `acme`, started with a pipe for its standard
    /// input and `stderr` for its standard error.
    fn import_from_stdin(&self, stderr: Stdio) -> std::process::Child {
        kontak_command(
            self.dir.path(),
            &["import", "-", "--format", "ndjson", "--workspace", "acme"],
        )
        .stdin(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
    }

    /// Imports into `workspace`, asserting success, and returns the summary's counts.
    fn import(&self, file: &str, workspace: &str) -> Summary {
        let output = self.kontak(&["import", file, "--workspace", workspace]);
        assert!(output.status.success(), "{}", stderr(&output));
        summary(&stderr(&output))
    }

    fn export(&self, args: &[&str]) -> String {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        let output = self.kontak(&all);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// The workspace's contacts as export shows them: create bodies, oldest first.
    fn contacts(&self, workspace: &str) -> Vec<Value> {
        self.export(&["--workspace", workspace])
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn rejects(&self, report: &str) -> Vec<Value> {
        std::fs::read_to_string(self.path(report))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

fn kontak_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontak"));
    command
        .current_dir(dir)
        .env_remove("KONTAK_DB")
        .env_remove("KONTAK_CONFIG")
        .args(args);
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Reads the "N created", "N duplicates skipped" and "N rejected" lines of the summary.
fn summary(stderr: &str) -> Summary {
    let count = |label: &str| -> u64 {
        stderr
            .lines()
            .find_map(|line| {
                let (n, rest) = line.trim().split_once(' ')?;
                rest.starts_with(label).then(|| n.parse().ok()).flatten()
            })
            .unwrap_or_else(|| panic!("no {label:?} count in: {stderr}"))
    };
    Summary {
        created: count("created"),
        duplicates: count("duplicates skipped"),
        rejected: count("rejected"),
    }
}

fn counts(created: u64, duplicates: u64, rejected: u64) -> Summary {
    Summary {
        created,
        duplicates,
        rejected,
    }
}

const THREE_CONTACTS: &str = r#"{"phone": "628111000001", "name": "Budi Santoso", "email": "budi@example.co.id", "tags": ["customer", "VIP"], "custom_fields": {"company": "PT ABC", "lifetime_value": 12500000, "discount": 0.25, "is_subscriber": true}}
{"phone": "+62 811-1000-002", "name": "Siti Rahayu"}
{"phone": "628111000003", "tags": ["vip", "lead"]}
"#;

#[test]
fn ndjson_import_stores_contacts_exactly_as_the_api_would() {
    let work = Workdir::new();
    work.write("contacts.ndjson", THREE_CONTACTS);
    assert_eq!(work.import("contacts.ndjson", "acme"), counts(3, 0, 0));
    assert_eq!(
        work.contacts("acme"),
        [
            json!({"phone": "+628111000001", "name": "Budi Santoso", "email": "budi@example.co.id",
                   "tags": ["customer", "VIP"],
                   "custom_fields": {"company": "PT ABC", "lifetime_value": 12500000, "discount": 0.25, "is_subscriber": true}}),
            json!({"phone": "+628111000002", "name": "Siti Rahayu", "email": null, "tags": [], "custom_fields": {}}),
            // The workspace's tag keeps its first spelling, as through the API.
            json!({"phone": "+628111000003", "name": null, "email": null, "tags": ["VIP", "lead"], "custom_fields": {}}),
        ]
    );
    assert_eq!(
        work.rejects("contacts.ndjson.rejects.ndjson"),
        Vec::<Value>::new()
    );
}

#[test]
fn csv_import_reads_tags_and_a_custom_fields_json_column() {
    let work = Workdir::new();
    work.write(
        "contacts.csv",
        "phone,name,email,tags,custom_fields\n\
         628111000001,\"Santoso, Budi\",budi@example.co.id,customer;vip,\"{\"\"tier\"\":\"\"gold\"\",\"\"ltv\"\":12500000}\"\n\
         628111000002,,,,\n",
    );
    assert_eq!(work.import("contacts.csv", "acme"), counts(2, 0, 0));
    assert_eq!(
        work.contacts("acme"),
        [
            json!({"phone": "+628111000001", "name": "Santoso, Budi", "email": "budi@example.co.id",
                   "tags": ["customer", "vip"], "custom_fields": {"tier": "gold", "ltv": 12500000}}),
            json!({"phone": "+628111000002", "name": null, "email": null, "tags": [], "custom_fields": {}}),
        ]
    );
}

#[test]
fn csv_custom_field_columns_become_typed_custom_fields() {
    let work = Workdir::new();
    work.write(
        "contacts.csv",
        "phone,custom_fields.company,custom_fields.lifetime_value,custom_fields.is_subscriber,custom_fields.code\n\
         628111000001,PT ABC,12500000,true,0042\n\
         628111000002,,0.5,,\n",
    );
    assert_eq!(work.import("contacts.csv", "acme"), counts(2, 0, 0));
    let contacts = work.contacts("acme");
    assert_eq!(
        contacts[0]["custom_fields"],
        json!({"company": "PT ABC", "lifetime_value": 12500000, "is_subscriber": true, "code": "0042"})
    );
    assert_eq!(contacts[1]["custom_fields"], json!({"lifetime_value": 0.5}));
}

#[test]
fn rejected_lines_are_reported_with_line_number_code_and_field_and_the_rest_imported() {
    let work = Workdir::new();
    work.write(
        "contacts.ndjson",
        "{\"phone\": \"628111000001\"}\n\
         {\"phone\": \"0812\"}\n\
         \n\
         not json\n\
         {\"phone\": \"628111000002\", \"emial\": \"x@y.co\"}\n\
         {\"name\": \"No Phone\"}\n\
         {\"phone\": \"628111000003\", \"custom_fields\": {\"a\": [1]}}\n\
         {\"phone\": \"628111000004\", \"email\": \"nope\"}\n\
         {\"phone\": \"628111000005\"}\n",
    );
    let output = work.kontak(&[
        "import",
        "contacts.ndjson",
        "--workspace",
        "acme",
        "--report",
        "bad.ndjson",
    ]);
    assert!(
        output.status.success(),
        "rejects are not a failure: {}",
        stderr(&output)
    );
    assert_eq!(summary(&stderr(&output)), counts(2, 0, 6));
    let rejects: Vec<(u64, String, Value)> = work
        .rejects("bad.ndjson")
        .into_iter()
        .map(|r| {
            assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
            (
                r["line"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
                r["field"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rejects,
        [
            (2, "VALIDATION_INVALID_PHONE".into(), json!("phone")),
            (4, "VALIDATION_INVALID_JSON".into(), Value::Null),
            (5, "VALIDATION_UNKNOWN_FIELD".into(), json!("emial")),
            (6, "VALIDATION_MISSING_FIELD".into(), json!("phone")),
            (
                7,
                "VALIDATION_INVALID_FIELD".into(),
                json!("custom_fields.a")
            ),
            (8, "VALIDATION_INVALID_EMAIL".into(), json!("email")),
        ]
    );
    let stored: Vec<Value> = work
        .contacts("acme")
        .iter()
        .map(|c| c["phone"].clone())
        .collect();
    assert_eq!(stored, [json!("+628111000001"), json!("+628111000005")]);
}

#[test]
fn csv_rejects_name_the_line_each_row_starts_on() {
    let work = Workdir::new();
    work.write(
        "contacts.csv",
        "phone,name,tags\n\
         628111000001,\"Two\nLines\",vip\n\
         12,Short,\n\
         628111000002,Extra,cells,here\n\
         628111000003,Ok,\"[\"\"a;b\"\"]\"\n",
    );
    assert_eq!(work.import("contacts.csv", "acme"), counts(1, 0, 3));
    let rejects: Vec<(u64, String)> = work
        .rejects("contacts.csv.rejects.ndjson")
        .into_iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejects,
        [
            // A name may not hold a line break: the same rule as the API's.
            (2, "VALIDATION_INVALID_FIELD".into()),
            (4, "VALIDATION_INVALID_PHONE".into()),
            (5, "VALIDATION_INVALID_JSON".into()),
        ]
    );
    assert_eq!(work.contacts("acme")[0]["tags"], json!(["a;b"]));
}

#[test]
fn duplicates_in_the_file_and_in_the_database_are_skipped_and_counted() {
    let work = Workdir::new();
    work.write(
        "first.ndjson",
        "{\"phone\": \"628111000001\", \"name\": \"First\"}\n",
    );
    assert_eq!(work.import("first.ndjson", "acme"), counts(1, 0, 0));
    work.write(
        "second.ndjson",
        "{\"phone\": \"+62 811-1000-001\", \"name\": \"Again\"}\n\
         {\"phone\": \"628111000002\", \"name\": \"New\"}\n\
         {\"phone\": \"628111000002\", \"name\": \"New twice\"}\n",
    );
    assert_eq!(work.import("second.ndjson", "acme"), counts(1, 2, 0));
    let names: Vec<Value> = work
        .contacts("acme")
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("First"), json!("New")],
        "the first of each phone wins"
    );
    // Another workspace may have the same numbers.
    assert_eq!(work.import("second.ndjson", "globex"), counts(2, 1, 0));
}

#[test]
fn rerunning_an_import_creates_nothing_twice() {
    let work = Workdir::new();
    work.write("contacts.ndjson", THREE_CONTACTS);
    assert_eq!(work.import("contacts.ndjson", "acme"), counts(3, 0, 0));
    let before = work.export(&["--workspace", "acme"]);
    assert_eq!(work.import("contacts.ndjson", "acme"), counts(0, 3, 0));
    assert_eq!(work.export(&["--workspace", "acme"]), before);
}

#[test]
fn export_then_import_into_an_empty_workspace_gives_the_same_contacts() {
    let work = Workdir::new();
    work.write("contacts.ndjson", THREE_CONTACTS);
    work.write(
        "more.csv",
        "phone,tags\n628111000004,\"[\"\"semi;colon\"\",\"\"[x]\"\"]\"\n",
    );
    work.import("contacts.ndjson", "acme");
    work.import("more.csv", "acme");
    let original = work.export(&["--workspace", "acme"]);
    assert_eq!(original.lines().count(), 4);

    for (format, file) in [("ndjson", "out.ndjson"), ("csv", "out.csv")] {
        let output = work.kontak(&["export", "--workspace", "acme", "--output", file]);
        assert!(output.status.success(), "{}", stderr(&output));
        let copy = format!("copy-{format}");
        assert_eq!(work.import(file, &copy), counts(4, 0, 0), "{format}");
        assert_eq!(
            work.export(&["--workspace", &copy]),
            original,
            "{format} round trip"
        );
    }
}

#[test]
fn import_reads_standard_input_when_given_a_format() {
    let work = Workdir::new();
    let mut child = work.import_from_stdin(Stdio::piped());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(THREE_CONTACTS.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(summary(&stderr(&output)), counts(3, 0, 0));
    assert!(work.path("kontak-import.rejects.ndjson").exists());
}

/// Contacts in the database, or 0 while it does not exist yet.
fn stored_contacts(db: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|conn| conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0)))
        .unwrap_or(0)
}

#[test]
fn a_killed_import_leaves_whole_batches_and_a_rerun_finishes_the_job() {
    let work = Workdir::new();
    // Two full parts of 5,000 (a batch is one or more of them) and half of the next.
    let lines: String = (0..12_500)
        .map(|i| format!("{{\"phone\": \"62811{i:07}\"}}\n"))
        .collect();
    let mut child = work.import_from_stdin(Stdio::null());
    // Standard input stays open, so the last part waits for more lines that never
    // come, until the process is killed.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(lines.as_bytes()).unwrap();
    let db = work.path("kontak.db");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_contacts(&db) == 0 {
        assert!(Instant::now() < deadline, "the first batch never committed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let stored = stored_contacts(&db);
    assert!(
        stored == 5_000 || stored == 10_000,
        "whole parts only, and never the half part: {stored}"
    );

    work.write("all.ndjson", &lines);
    let stored = u64::try_from(stored).unwrap();
    assert_eq!(
        work.import("all.ndjson", "acme"),
        counts(12_500 - stored, stored, 0)
    );
    assert_eq!(stored_contacts(&db), 12_500);
}

#[test]
fn usage_errors_fail_before_anything_is_written() {
    let work = Workdir::new();
    work.write("contacts.txt", THREE_CONTACTS);
    work.write("bad.csv", "phone,nickname\n628111000001,Bud\n");
    for (args, says) in [
        (
            vec!["import", "contacts.txt", "--workspace", "acme"],
            "--format",
        ),
        (
            vec!["import", "missing.ndjson", "--workspace", "acme"],
            "missing.ndjson",
        ),
        (vec!["import", "bad.csv", "--workspace", "acme"], "nickname"),
        (vec!["import", "-", "--workspace", "acme"], "--format"),
        (
            vec!["import", "bad.csv", "--workspace", "no spaces"],
            "workspace",
        ),
    ] {
        let output = work.kontak(&args);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(!work.path("kontak.db").exists(), "no database was created");
}

#[test]
fn export_needs_a_workspace_when_there_are_several() {
    let work = Workdir::new();
    work.write("contacts.ndjson", THREE_CONTACTS);
    work.import("contacts.ndjson", "acme");
    assert_eq!(work.export(&[]).lines().count(), 3, "the only workspace");
    work.import("contacts.ndjson", "globex");
    let output = work.kontak(&["export"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("acme, globex"),
        "{}",
        stderr(&output)
    );
    let output = work.kontak(&["export", "--workspace", "initech"]);
    assert!(!output.status.success());
}

#[actix_web::test]
async fn imported_contacts_are_listed_by_a_running_server() {
    let app = spawn_app().await;
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("contacts.ndjson"), THREE_CONTACTS).unwrap();
    let db = app.db_path.to_str().unwrap();
    let output = kontak_command(
        dir.path(),
        &[
            "--db",
            db,
            "import",
            "contacts.ndjson",
            "--workspace",
            "acme",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let list = app.listed("per_page=10").await;
    // Newest first: the file's last line is the newest contact.
    assert_eq!(
        phones(&list),
        ["+628111000003", "+628111000002", "+628111000001"]
    );
    assert_eq!(list["meta"]["total"], 3);
    let budi = &list["data"][2];
    assert_eq!(budi["tags"], json!(["customer", "VIP"]));
    assert_eq!(budi["custom_fields"]["lifetime_value"], json!(12500000));
    assert!(budi["id"].as_str().is_some_and(|id| id.len() == 36));

    let found = app.listed("search=budi").await;
    assert_eq!(phones(&found), ["+628111000001"]);
}
