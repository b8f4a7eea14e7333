//! Prometheus metrics: requests by route, method and status with their latency, the
//! read pool's use, the database's size and the argon2 key checks. Served only on `metrics_bind`, a listener
//! of its own, so the public API never exposes them.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntGauge, Opts, Registry, TextEncoder,
};

use crate::storage::Db;

/// Latency buckets in seconds: from a cached read to a slow search.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

pub struct Metrics {
    registry: Registry,
    requests: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    database_bytes: IntGauge,
    /// Counted by the key verifier, which holds a clone.
    pub key_checks: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let requests = HistogramVec::new(
            HistogramOpts::new(
                "kontak_http_request_duration_seconds",
                "HTTP requests by route, method and status, with their latency",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )
        .expect("the request histogram is well-formed");
        let gauge = |name: &str, help: &str| {
            IntGauge::with_opts(Opts::new(name, help)).expect("the gauge is well-formed")
        };
        let pool_connections = gauge(
            "kontak_db_read_pool_connections",
            "Read connections open in the pool",
        );
        let pool_idle = gauge(
            "kontak_db_read_pool_idle",
            "Read connections idle in the pool",
        );
        let database_bytes = gauge(
            "kontak_db_size_bytes",
            "Size of the database file and its write-ahead log",
        );
        let key_checks = IntCounter::with_opts(Opts::new(
            "kontak_key_checks_total",
            "Presented keys checked with argon2: keys not yet verified by this process, \
             and unknown or wrong ones",
        ))
        .expect("the counter is well-formed");
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(database_bytes.clone()),
            Box::new(key_checks.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            pool_connections,
            pool_idle,
            database_bytes,
            key_checks,
        }
    }

    /// Records one request. `route` is the matched pattern (`/v1/contacts/{id}`), never
    /// the raw path, so ids do not become label values.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .observe(seconds);
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self, db: &Db) -> String {
        let pool = db.read_pool_state();
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.database_bytes
            .set(i64::try_from(db.file_bytes()).unwrap_or(i64::MAX));
        let mut text = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8(text).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
