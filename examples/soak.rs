//! Soak test: many concurrent clients of several workspaces against a running kontak.
//!
//! `bench/soak.sh` starts the server and runs this. Each client loops over list, search,
//! get, create, patch and delete with its workspace's key until the time is up, and
//! checks every answer: no 5xx, and nothing of another workspace ever appears (every
//! contact's name starts with its workspace's name). Meanwhile the server's resident
//! memory is sampled. Exits non-zero on any 5xx, any leak, or memory that keeps
//! growing once warmed up.
//!
//! Usage: soak BASE_URL PID SECONDS CLIENTS KEY [KEY …]  (one key per workspace, each
//! written `workspace=key`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    server_errors: AtomicU64,
    leaks: AtomicU64,
    other_failures: AtomicU64,
}

struct Workspace {
    name: String,
    key: String,
}

#[actix_web::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: soak BASE_URL PID SECONDS CLIENTS WORKSPACE=KEY…");
        std::process::exit(2);
    }
    let base = args[1].clone();
    let pid: u32 = args[2].parse().expect("PID");
    let seconds: u64 = args[3].parse().expect("SECONDS");
    let clients: usize = args[4].parse().expect("CLIENTS");
    let workspaces: Arc<Vec<Workspace>> = Arc::new(
        args[5..]
            .iter()
            .map(|pair| {
                let (name, key) = pair.split_once('=').expect("WORKSPACE=KEY");
                Workspace {
                    name: name.into(),
                    key: key.into(),
                }
            })
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tally = Arc::new(Tally::default());
    let client = Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();

    let sampler = actix_web::rt::spawn(sample_memory(pid, deadline));
    let mut tasks = Vec::new();
    for index in 0..clients {
        let (client, base, workspaces, tally) = (
            client.clone(),
            base.clone(),
            workspaces.clone(),
            tally.clone(),
        );
        tasks.push(actix_web::rt::spawn(async move {
            let workspace = &workspaces[index % workspaces.len()];
            run_client(index, &client, &base, workspace, &tally, deadline).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let samples = sampler.await.unwrap();

    let requests = tally.requests.load(Ordering::Relaxed);
    let (errors, leaks, failures) = (
        tally.server_errors.load(Ordering::Relaxed),
        tally.leaks.load(Ordering::Relaxed),
        tally.other_failures.load(Ordering::Relaxed),
    );
    let warmed = samples.get(samples.len() / 4).copied().unwrap_or_default();
    let last = samples.last().copied().unwrap_or_default();
    let peak = samples.iter().copied().max().unwrap_or_default();
    println!(
        "soak: {requests} requests in {seconds} s by {clients} clients over {} workspaces \
         ({:.0} req/s); 5xx: {errors}; cross-workspace leaks: {leaks}; unexpected answers: \
         {failures}; server RSS after warm-up {} KiB, peak {} KiB, at the end {} KiB",
        workspaces.len(),
        requests as f64 / seconds as f64,
        warmed,
        peak,
        last
    );
    // Flat: the end within 25% (and 16 MiB) of the warmed-up size.
    let grew = last > warmed + (warmed / 4).max(16 * 1024);
    if errors > 0 || leaks > 0 || failures > 0 || requests == 0 || grew {
        if grew {
            println!("soak: memory kept growing after warm-up");
        }
        std::process::exit(1);
    }
}

async fn run_client(
    index: usize,
    client: &Client,
    base: &str,
    workspace: &Workspace,
    tally: &Tally,
    deadline: Instant,
) {
    let mut rng = StdRng::seed_from_u64(index as u64);
    let mut mine: Vec<String> = Vec::new();
    let mut serial = 0u64;
    while Instant::now() < deadline {
        let roll = rng.gen_range(0..100);
        let (method, path, body) = match roll {
            0..=29 => (
                Method::GET,
                format!("/v1/contacts?page={}&per_page=20", rng.gen_range(1..4)),
                None,
            ),
            30..=49 => {
                let term =
                    ["budi", "siti", "62813", "example", &workspace.name][rng.gen_range(0..5)];
                (Method::GET, format!("/v1/contacts?search={term}"), None)
            }
            50..=59 if !mine.is_empty() => {
                let id = &mine[rng.gen_range(0..mine.len())];
                (Method::GET, format!("/v1/contacts/{id}"), None)
            }
            60..=79 => {
                serial += 1;
                let phone = format!("+6281{:03}{:02}{:06}", index, rng.gen_range(0..100), serial);
                let name = format!("{} budi {index}-{serial}", workspace.name);
                let body = json!({
                    "phone": phone,
                    "name": name,
                    "email": format!("c{index}-{serial}@example.com"),
                    "tags": [workspace.name]
                });
                (Method::POST, "/v1/contacts".to_owned(), Some(body))
            }
            80..=89 if !mine.is_empty() => {
                let id = &mine[rng.gen_range(0..mine.len())];
                let name = format!("{} siti {}", workspace.name, rng.gen::<u32>());
                (
                    Method::PATCH,
                    format!("/v1/contacts/{id}"),
                    Some(json!({"name": name})),
                )
            }
            90..=99 if !mine.is_empty() => {
                let id = mine.swap_remove(rng.gen_range(0..mine.len()));
                (Method::DELETE, format!("/v1/contacts/{id}"), None)
            }
            _ => (Method::GET, "/v1/tags".to_owned(), None),
        };
        let mut request = client
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(&workspace.key);
        if let Some(body) = &body {
            request = request.json(body);
        }
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let Ok(response) = request.send().await else {
            tally.other_failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let status = response.status();
        let Ok(answer) = response.json::<Value>().await else {
            tally.other_failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if status.is_server_error() {
            tally.server_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: {status} for {method} {path}: {answer}");
            continue;
        }
        let expected = status.is_success()
            || (method == Method::POST && status == StatusCode::CONFLICT)
            || status == StatusCode::TOO_MANY_REQUESTS;
        if !expected {
            tally.other_failures.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: unexpected {status} for {method} {path}: {answer}");
        }
        if leaks_another_workspace(&answer["data"], &workspace.name) {
            tally.leaks.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "soak: LEAK into {} from {method} {path}: {answer}",
                workspace.name
            );
        }
        if method == Method::POST && status == StatusCode::CREATED {
            mine.push(answer["data"]["id"].as_str().unwrap_or_default().to_owned());
        }
    }
}

/// Whether anything in `data` (a contact, a list of contacts, or of tags) belongs to
/// another workspace: contacts' names start with their workspace's name, and each
/// workspace tags its contacts with its own name only.
fn leaks_another_workspace(data: &Value, workspace: &str) -> bool {
    let prefix = format!("{workspace} ");
    let foreign = |item: &Value| {
        let name = item.get("name").and_then(Value::as_str);
        if item.get("phone").is_some() {
            let tags = item["tags"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            name.is_some_and(|n| !n.starts_with(&prefix)) || tags.iter().any(|t| t != workspace)
        } else {
            name.is_some_and(|n| n != workspace)
        }
    };
    match data {
        Value::Array(items) => items.iter().any(foreign),
        contact @ Value::Object(_) => foreign(contact),
        _ => false,
    }
}

/// The server's resident memory in KiB, every second until the deadline.
async fn sample_memory(pid: u32, deadline: Instant) -> Vec<u64> {
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok());
        if let Some(rss) = rss {
            samples.push(rss);
        }
        actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    }
    samples
}
