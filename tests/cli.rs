//! The `kontak` binary: key and workspace commands, settings precedence, first start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;

fn kontak(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kontak"))
        .current_dir(dir)
        .env_remove("KONTAK_DB")
        .env_remove("KONTAK_BIND")
        .env_remove("KONTAK_CONFIG")
        .args(args)
        .output()
        .expect("kontak runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn key_create_prints_the_key_alone_on_stdout() {
    let dir = TempDir::new().unwrap();
    let output = kontak(
        dir.path(),
        &[
            "key",
            "create",
            "--workspace",
            "acme",
            "--scopes",
            "contacts:read,contacts:write",
            "--name",
            "ci",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {out:?}");
    assert!(lines[0].starts_with("chatera_sk_"), "stdout: {out:?}");
    assert!(
        dir.path().join("kontak.db").exists(),
        "the default database is ./kontak.db"
    );
}

#[test]
fn key_list_shows_one_line_per_key_id_first_and_never_the_secret() {
    let dir = TempDir::new().unwrap();
    let a = stdout(&kontak(
        dir.path(),
        &[
            "key",
            "create",
            "--workspace",
            "acme",
            "--scopes",
            "contacts:read",
            "--name",
            "reader",
        ],
    ));
    let b = stdout(&kontak(
        dir.path(),
        &[
            "key",
            "create",
            "--workspace",
            "globex",
            "--scopes",
            "contacts:write",
        ],
    ));
    let id_a = a
        .trim()
        .strip_prefix("chatera_sk_")
        .unwrap()
        .split('_')
        .next()
        .unwrap()
        .to_owned();
    let secret_b = b.trim().rsplit('_').next().unwrap().to_owned();

    let revoked = kontak(dir.path(), &["key", "revoke", &id_a]);
    assert!(revoked.status.success());

    let listing = stdout(&kontak(dir.path(), &["key", "list"]));
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "listing: {listing}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[0], id_a);
    assert!(fields[1].starts_with(&format!("chatera_sk_{id_a}")));
    assert_eq!(&fields[2..5], ["acme", "contacts:read", "reader"]);
    assert_eq!(fields[6], "never");
    assert_ne!(fields[7], "no", "the first key is revoked");
    assert!(
        !listing.contains(&secret_b),
        "a secret must never be listed"
    );

    let only_globex = stdout(&kontak(
        dir.path(),
        &["key", "list", "--workspace", "globex"],
    ));
    assert_eq!(only_globex.lines().count(), 1);
    assert!(only_globex.contains("globex"));
}

#[test]
fn revoking_an_unknown_key_fails_and_says_so() {
    let dir = TempDir::new().unwrap();
    let output = kontak(dir.path(), &["key", "revoke", "0123456789abcdef"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no key with id"));
}

#[test]
fn bad_key_create_arguments_are_refused_with_a_reason() {
    let dir = TempDir::new().unwrap();
    let bad_scope = kontak(
        dir.path(),
        &[
            "key",
            "create",
            "--workspace",
            "acme",
            "--scopes",
            "contacts:admin",
        ],
    );
    assert!(!bad_scope.status.success());
    assert!(stderr(&bad_scope).contains("unknown scope"));
    let bad_workspace = kontak(
        dir.path(),
        &[
            "key",
            "create",
            "--workspace",
            "a b",
            "--scopes",
            "contacts:read",
        ],
    );
    assert!(!bad_workspace.status.success());
    assert!(stderr(&bad_workspace).contains("workspace name"));
}

#[test]
fn workspace_list_shows_every_workspace() {
    let dir = TempDir::new().unwrap();
    for workspace in ["zeta", "acme"] {
        kontak(
            dir.path(),
            &[
                "key",
                "create",
                "--workspace",
                workspace,
                "--scopes",
                "contacts:read",
            ],
        );
    }
    let listing = stdout(&kontak(dir.path(), &["workspace", "list"]));
    let names: Vec<&str> = listing
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["acme", "zeta"]);
}

#[test]
fn db_flag_beats_environment_which_beats_the_config_file() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("custom.toml"), "db = \"from-file.db\"\n").unwrap();
    let create = |extra_env: Option<&str>, extra_args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kontak"));
        command
            .current_dir(dir.path())
            .env_remove("KONTAK_DB")
            .env("KONTAK_CONFIG", "custom.toml");
        if let Some(db) = extra_env {
            command.env("KONTAK_DB", db);
        }
        let mut args = extra_args.to_vec();
        args.extend([
            "key",
            "create",
            "--workspace",
            "w",
            "--scopes",
            "contacts:read",
        ]);
        assert!(command.args(args).output().unwrap().status.success());
    };
    create(None, &[]);
    assert!(dir.path().join("from-file.db").exists());
    create(Some("from-env.db"), &[]);
    assert!(dir.path().join("from-env.db").exists());
    create(Some("from-env.db"), &["--db", "from-flag.db"]);
    assert!(dir.path().join("from-flag.db").exists());
}

#[test]
fn a_bad_setting_stops_the_start_naming_it() {
    let dir = TempDir::new().unwrap();
    let bind = kontak(dir.path(), &["serve", "--bind", "not-an-address"]);
    assert_eq!(bind.status.code(), Some(2));
    assert!(stderr(&bind).contains("bind"), "{}", stderr(&bind));

    std::fs::write(dir.path().join("config.toml"), "workers = \"many\"\n").unwrap();
    let typed = kontak(dir.path(), &["workspace", "list"]);
    assert!(!typed.status.success());
    assert!(stderr(&typed).contains("workers"), "{}", stderr(&typed));

    std::fs::write(dir.path().join("config.toml"), "bindd = \"127.0.0.1:1\"\n").unwrap();
    let unknown = kontak(dir.path(), &["workspace", "list"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("bindd"), "{}", stderr(&unknown));

    let missing = kontak(
        dir.path(),
        &["--config", "absent.toml", "workspace", "list"],
    );
    assert!(stderr(&missing).contains("absent.toml"));
}

#[test]
fn a_database_from_a_newer_kontak_is_refused() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("kontak.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let output = kontak(dir.path(), &["workspace", "list"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("newer kontak"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn first_start_prints_a_working_key_once_and_never_again() {
    let dir = TempDir::new().unwrap();
    let (mut first, port) = start_server(dir.path());
    let mut stdout_lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut key = None;
    for line in stdout_lines.by_ref() {
        let line = line.unwrap();
        if line.trim().starts_with("chatera_sk_") {
            key = Some(line.trim().to_owned());
        }
        if line.contains("curl") {
            assert!(line.contains(key.as_deref().expect("key before curl line")));
            break;
        }
    }
    let key = key.expect("the first start prints a key");
    assert_eq!(http_status(port, "/v1/contacts", Some(&key)), 200);
    assert_eq!(http_status(port, "/v1/contacts", None), 401);
    first.kill().unwrap();
    first.wait().unwrap();

    let listing = stdout(&kontak(dir.path(), &["key", "list"]));
    assert!(
        listing.contains("\tdefault\tcontacts:read,contacts:write\t"),
        "{listing}"
    );

    let (mut second, _) = start_server(dir.path());
    second.kill().unwrap();
    let printed = String::from_utf8(second.wait_with_output().unwrap().stdout).unwrap();
    assert!(!printed.contains("chatera_sk_"), "printed again: {printed}");
}

#[test]
fn the_server_keeps_answering_when_its_log_pipe_closes() {
    let dir = TempDir::new().unwrap();
    let (mut server, port) = start_server_with_logs(dir.path(), false);
    for _ in 0..3 {
        assert_eq!(http_status(port, "/healthz", None), 200);
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Starts `kontak serve` on a free port and waits until it says it listens. The caller
/// stops it by its own handle.
fn start_server(dir: &Path) -> (Child, u16) {
    start_server_with_logs(dir, true)
}

fn start_server_with_logs(dir: &Path, keep_reading_logs: bool) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontak"))
        .current_dir(dir)
        .env_remove("KONTAK_DB")
        .env("KONTAK_LOG_FORMAT", "json")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in stderr.by_ref() {
        let line = line.unwrap();
        if line.contains("kontak is listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            let address = log["fields"]["address"].as_str().unwrap();
            let port = address.rsplit(':').next().unwrap().parse().unwrap();
            if keep_reading_logs {
                std::thread::spawn(move || stderr.for_each(drop));
            }
            return (child, port);
        }
    }
    let status = child.wait().unwrap();
    panic!("kontak exited ({status}) before listening");
}

/// A minimal HTTP/1.1 GET, enough to read the status code.
fn http_status(port: u16, path: &str, key: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn demo_seed_fills_an_empty_workspace_once_and_never_touches_a_full_one() {
    let dir = TempDir::new().unwrap();
    let seeded = kontak(
        dir.path(),
        &["demo", "seed", "--workspace", "demo", "--count", "120"],
    );
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let again = kontak(dir.path(), &["demo", "seed", "--workspace", "demo"]);
    assert!(
        stderr(&again).contains("already holds contacts"),
        "{}",
        stderr(&again)
    );

    let listing = stdout(&kontak(dir.path(), &["workspace", "list"]));
    let demo_line = listing.lines().find(|l| l.starts_with("demo\t")).unwrap();
    assert!(demo_line.ends_with("\t120"), "{demo_line}");

    let conn = rusqlite::Connection::open(dir.path().join("kontak.db")).unwrap();
    let (tagged, with_fields): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(DISTINCT contact_seq) FROM contact_tags),
                    (SELECT count(*) FROM contacts WHERE custom_fields <> '{}')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        tagged > 0 && with_fields == 120,
        "tags {tagged}, fields {with_fields}"
    );
}

#[test]
fn serve_demo_fills_the_default_workspace_on_first_start() {
    let dir = TempDir::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontak"))
        .current_dir(dir.path())
        .env("KONTAK_LOG_FORMAT", "json")
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut key = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.trim().starts_with("chatera_sk_") {
            key = Some(line.trim().to_owned());
        }
        if line.contains("curl") {
            break;
        }
    }
    let mut port = 0;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("kontak is listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            port = log["fields"]["address"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            break;
        }
    }
    let body = http_body(port, "/v1/contacts?per_page=1", key.as_deref().unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["meta"]["total"], 300);
}

/// The body of a minimal HTTP/1.1 GET with a key.
fn http_body(port: u16, path: &str, key: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split("\r\n\r\n").nth(1).unwrap().to_owned()
}
