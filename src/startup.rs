//! `Application`: the server as `main` runs it and as the tests run it.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Condition, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;

use crate::auth::{rate_limit_headers, KeyRateLimiter, KeyVerifier};
use crate::config::Settings;
use crate::error::extractor_configs;
use crate::metrics::Metrics;
use crate::request_id::request_id;
use crate::routes::{self, ApiSettings};
use crate::security::{cors, cors_errors_as_envelope, security_headers};
use crate::shutdown::stop_signal;
use crate::storage::Db;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    db: Db,
    server: Server,
    metrics_server: Option<(Server, u16)>,
}

impl Application {
    /// Opens the database (applying the schema), binds the listener and builds the
    /// server. Nothing is served until [`run_until_stopped`](Self::run_until_stopped).
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = Db::open(
            &settings.db,
            settings.read_connections,
            settings.busy_timeout(),
            settings.read_mmap_mib,
        )
        .with_context(|| format!("cannot open the database {}", settings.db.display()))?;
        let addr = settings.bind_addr().map_err(anyhow::Error::msg)?;
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let port = listener.local_addr()?.port();
        let metrics = web::Data::new(Metrics::new());
        let server = build_server(settings, db.clone(), listener, metrics.clone())?;
        let metrics_server = match settings.metrics_addr().map_err(anyhow::Error::msg)? {
            Some(addr) => Some(build_metrics_server(addr, db.clone(), metrics)?),
            None => None,
        };
        Ok(Self {
            port,
            db,
            server,
            metrics_server,
        })
    }

    /// The port actually bound (useful when `bind` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The port of the metrics listener, when `metrics_bind` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    /// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then folds the WAL
    /// into the database file so that a stopped kontak leaves one complete `.db` file.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        self.server.await?;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        match self.db.checkpoint_wal().await {
            Ok(()) => tracing::info!("database checkpointed"),
            // Not fatal: SQLite replays the WAL on the next open.
            Err(err) => tracing::warn!(%err, "could not checkpoint the WAL at shutdown"),
        }
        Ok(())
    }
}

/// The listener for `/metrics`, apart from the API.
fn build_metrics_server(
    addr: std::net::SocketAddr,
    db: Db,
    metrics: web::Data<Metrics>,
) -> anyhow::Result<(Server, u16)> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let port = listener.local_addr()?.port();
    let db = web::Data::new(db);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .app_data(metrics.clone())
            .route("/metrics", web::get().to(serve_metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, port))
}

async fn serve_metrics(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&db))
}

fn build_server(
    settings: &Settings,
    db: Db,
    listener: TcpListener,
    metrics: web::Data<Metrics>,
) -> anyhow::Result<Server> {
    let workers = match settings.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let verifier = web::Data::new(
        KeyVerifier::new(
            db.clone(),
            workers.max(2),
            settings.auth_failures_per_minute,
            metrics.key_checks.clone(),
        )
        .context("cannot prepare key hashing")?,
    );
    let rate_limiter = web::Data::new(KeyRateLimiter::new(settings.rate_limit_per_minute));
    let cors_origins = settings.cors_allowed_origins.clone();
    let db = web::Data::new(db);
    let api_settings = web::Data::new(ApiSettings {
        phone_rules: settings.phone_rules().map_err(anyhow::Error::msg)?,
        max_body_bytes: settings.max_body_bytes,
        body_timeout: Duration::from_secs(settings.request_timeout_secs),
    });
    let (query_config, path_config) = extractor_configs();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .app_data(metrics.clone())
            .app_data(verifier.clone())
            .app_data(api_settings.clone())
            .app_data(rate_limiter.clone())
            .app_data(query_config.clone())
            .app_data(path_config.clone())
            .configure(routes::configure)
            .default_service(web::to(routes::route_not_found))
            .wrap(from_fn(rate_limit_headers))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(from_fn(cors_errors_as_envelope))
            .wrap(security_headers())
            .wrap(from_fn(request_id))
    })
    .workers(workers)
    // Blocking work is database reads (bounded by the read pool) and argon2 (bounded by
    // its own semaphore). The limit is per worker, since each has a pool of its own:
    // with the default 8 connections and two cores, 12 threads a worker, 24 for 8
    // connections and 2 argon2 slots. Cut to exactly what can run (the worker's share
    // of the connections, and both slots: 6 each), a first page of the bench's million
    // was not clearly faster (per-round medians 1.040 and 0.995 of this in two tries
    // of `bench/ab.sh`), and in the second its p99 rose from 0.8-9.4 ms to 1.2-15.6 ms;
    // so the slack stays. Uncapped (tokio's default), the many threads had each kept
    // argon2's freed memory in a malloc arena of their own: hundreds of MiB resident
    // under load.
    .worker_max_blocking_threads(settings.read_connections as usize + 4)
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .shutdown_signal(stop_signal())
    .client_request_timeout(Duration::from_secs(settings.request_timeout_secs))
    .listen(listener)?
    .run();
    Ok(server)
}
