//! `kontak serve` as a child process, for what only a real process shows: signals,
//! `kill -9`, a full disk. Every child is stopped through its own handle or pid.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `kontak serve` and the log lines it has written so far.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub logs: Arc<Mutex<Vec<String>>>,
}

/// Runs a `kontak` subcommand against `db`, failing the test unless it succeeds;
/// returns its stdout.
pub fn kontak_ok(db: &Path, args: &[&str]) -> String {
    let output = kontak_command(db).args(args).output().expect("kontak runs");
    assert!(
        output.status.success(),
        "kontak {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A `kontak` command on `db`, isolated from the caller's environment and config.
pub fn kontak_command(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontak"));
    command
        .current_dir(db.parent().unwrap())
        .env_remove("KONTAK_BIND")
        .env_remove("KONTAK_CONFIG")
        .env("KONTAK_DB", db)
        .env("KONTAK_LOG_FORMAT", "json");
    command
}

/// Mints a read-write key in workspace "acme" with `kontak key create`.
pub fn create_key(db: &Path) -> String {
    kontak_ok(
        db,
        &[
            "key",
            "create",
            "--workspace",
            "acme",
            "--scopes",
            "contacts:read,contacts:write",
        ],
    )
    .trim()
    .to_owned()
}

impl ServerProcess {
    /// Starts `kontak serve` on a free port and returns once it listens.
    pub fn start(db: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = kontak_command(db)
            .envs(env.iter().copied())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kontak serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let logs = Arc::new(Mutex::new(Vec::new()));
        for line in lines.by_ref() {
            let line = line.unwrap();
            logs.lock().unwrap().push(line.clone());
            if line.contains("kontak is listening") {
                let log: serde_json::Value = serde_json::from_str(&line).unwrap();
                let address = log["fields"]["address"].as_str().unwrap();
                let port = address.rsplit(':').next().unwrap().parse().unwrap();
                let sink = Arc::clone(&logs);
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || {
                    for line in lines.map_while(Result::ok) {
                        sink.lock().unwrap().push(line);
                    }
                });
                return Self { child, port, logs };
            }
        }
        let status = child.wait().unwrap();
        panic!("kontak exited ({status}) before listening");
    }

    /// Sends `signal` (such as "TERM") to this child, by its pid.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the child to exit, failing the test after `limit`.
    pub fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kontak did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A test that failed midway must not leave its server running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the body.
/// Plain TCP, so that a test can hold a request open across a signal.
pub fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    try_http(port, method, path, key, body).expect("an HTTP response")
}

/// Like [`http`], but `None` when the connection fails or closes without a whole
/// response (the server died).
pub fn try_http(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    // A response cut short by a kill has fewer bytes than it announced.
    let announced = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|len| len != body.len()) {
        return None;
    }
    Some((status, body.to_owned()))
}

/// The database file's write-ahead log.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap().to_owned();
    name.push("-wal");
    db.with_file_name(name)
}
