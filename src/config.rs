//! Settings: built-in defaults, then `config.toml`, then `KONTAK_*` environment
//! variables, then command-line flags; checked once at start.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::domain::PhoneRules;

/// The config file read when neither `--config` nor `KONTAK_CONFIG` names one. It is
/// optional: without it, the built-in defaults apply.
pub const DEFAULT_CONFIG_PATH: &str = "config.toml";

/// The most `read_mmap_mib` can be: SQLite's own ceiling on Linux is 2 GiB less 64 KiB,
/// and it would lower a larger value without a word.
const MAX_READ_MMAP_MIB: u64 = 2047;

/// Every setting kontak has. `config.toml` in the repository lists each with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTP server listens on.
    pub bind: String,
    /// Path of the SQLite database file; created on first start.
    pub db: PathBuf,
    /// Log filter: a level (`error` … `trace`) or a tracing directive list.
    pub log: String,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Read-only database connections in the pool.
    pub read_connections: u32,
    /// MiB of the database file each read connection maps into memory (SQLite's
    /// `mmap_size`) rather than copying pages in with read calls; 0 maps nothing.
    pub read_mmap_mib: u64,
    /// How long a write waits for another process's lock before answering 503.
    pub busy_timeout_ms: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    pub shutdown_timeout_secs: u64,
    /// Seconds a client has to send a request's headers, and again its body.
    pub request_timeout_secs: u64,
    /// Browser origins allowed to call the API cross-origin; empty means CORS is off.
    pub cors_allowed_origins: Vec<String>,
    /// Requests a key may make per minute (GCRA, bursts up to this many); 0 disables.
    pub rate_limit_per_minute: u32,
    /// Failed key checks (wrong, unknown or revoked keys) per minute, per key id and
    /// per client IP, before further checks are refused with 429; 0 disables.
    pub auth_failures_per_minute: u32,
    /// Address for a second listener serving Prometheus metrics at `/metrics`; `None`
    /// (the default) serves no metrics at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_bind: Option<String>,
    /// Country calling code for local numbers (`0812…` → `+62812…`); `None` keeps the
    /// reference's strict E.164.
    #[serde(
        deserialize_with = "country_code",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_country_code: Option<String>,
}

/// Accepts `62` as well as `"62"`: a number in TOML or an environment variable reads
/// as an integer.
fn country_code<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Code {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Code>::deserialize(de)?.map(|code| match code {
        Code::Text(text) => text,
        Code::Number(number) => number.to_string(),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            db: PathBuf::from("kontak.db"),
            log: "info".into(),
            log_format: LogFormat::Pretty,
            workers: 0,
            read_connections: 8,
            read_mmap_mib: 0,
            busy_timeout_ms: 5000,
            max_body_bytes: 64 * 1024,
            shutdown_timeout_secs: 30,
            request_timeout_secs: 10,
            metrics_bind: None,
            default_country_code: None,
            cors_allowed_origins: Vec::new(),
            rate_limit_per_minute: 6000,
            auth_failures_per_minute: 30,
        }
    }
}

/// Settings given on the command line; each overrides every other source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

impl Settings {
    /// Loads defaults < file < environment < flags, then validates. `config_path` is
    /// the file named by `--config`/`KONTAK_CONFIG` (which must exist), or `None` for
    /// the optional `./config.toml`.
    pub fn load(config_path: Option<&Path>, flags: &FlagOverrides) -> Result<Self, String> {
        let file = match config_path {
            Some(path) if !path.is_file() => {
                return Err(format!("config file {} does not exist", path.display()))
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|path| path.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = &file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("KONTAK_").only(&Self::KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|err| format!("invalid setting: {err}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The keys that `KONTAK_<KEY>` environment variables may set.
    const KEYS: [&'static str; 16] = [
        "bind",
        "db",
        "log",
        "log_format",
        "workers",
        "read_connections",
        "read_mmap_mib",
        "busy_timeout_ms",
        "max_body_bytes",
        "shutdown_timeout_secs",
        "request_timeout_secs",
        "default_country_code",
        "metrics_bind",
        "cors_allowed_origins",
        "rate_limit_per_minute",
        "auth_failures_per_minute",
    ];

    /// Checks what types alone cannot; each message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        self.bind_addr()?;
        if self.db.as_os_str().is_empty() {
            return Err("db: the database path must not be empty".into());
        }
        if !is_log_filter(&self.log) {
            return Err(format!(
                "log: {:?} is not a log level (error, warn, info, debug, trace) or filter",
                self.log
            ));
        }
        if !(1..=256).contains(&self.read_connections) {
            return Err("read_connections: must be from 1 to 256".into());
        }
        if self.read_mmap_mib > MAX_READ_MMAP_MIB {
            return Err(format!(
                "read_mmap_mib: must be from 0 to {MAX_READ_MMAP_MIB} (SQLite maps at most 2 GiB)"
            ));
        }
        if self.workers > 256 {
            return Err("workers: must be from 0 (one per core) to 256".into());
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err("max_body_bytes: must be from 1024 to 16777216".into());
        }
        if self.busy_timeout_ms > 60_000 {
            return Err("busy_timeout_ms: must be at most 60000".into());
        }
        self.phone_rules()?;
        self.metrics_addr()?;
        if let Some(bad) = self.cors_allowed_origins.iter().find(|o| !is_origin(o)) {
            return Err(format!(
                "cors_allowed_origins: {bad:?} is not an origin such as https://app.example.com \
                 (scheme and host, optional port, no path or trailing slash)"
            ));
        }
        if !(1..=600).contains(&self.request_timeout_secs) {
            return Err("request_timeout_secs: must be from 1 to 600".into());
        }
        if self.shutdown_timeout_secs > 3600 {
            return Err("shutdown_timeout_secs: must be at most 3600".into());
        }
        Ok(())
    }

    /// Where to serve metrics, if anywhere.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        let Some(bind) = &self.metrics_bind else {
            return Ok(None);
        };
        let addr = bind.to_socket_addrs().ok().and_then(|mut a| a.next());
        addr.map(Some).ok_or_else(|| {
            format!("metrics_bind: {bind:?} is not an address and port such as 127.0.0.1:9090")
        })
    }

    /// How phone numbers are read, from `default_country_code`.
    pub fn phone_rules(&self) -> Result<PhoneRules, String> {
        match &self.default_country_code {
            None => Ok(PhoneRules::default()),
            Some(code) => PhoneRules::with_default_country_code(code)
                .map_err(|err| format!("default_country_code: {err}")),
        }
    }

    /// The first address `bind` resolves to.
    pub fn bind_addr(&self) -> Result<SocketAddr, String> {
        self.bind
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                format!(
                    "bind: {:?} is not an address and port such as 127.0.0.1:8080",
                    self.bind
                )
            })
    }

    pub fn busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.busy_timeout_ms)
    }
}

/// A level, or comma-separated `target=level` directives. `EnvFilter` alone would take
/// a misspelt level as a target name and silently log nothing.
fn is_log_filter(filter: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let directives_ok = filter.split(',').all(|directive| {
        let level = directive.rsplit('=').next().unwrap_or_default();
        LEVELS.contains(&level.trim().to_ascii_lowercase().as_str())
    });
    directives_ok && tracing_subscriber::EnvFilter::try_new(filter).is_ok()
}

/// `scheme://host[:port]`, as browsers send it in `Origin`. A wildcard is refused on
/// purpose: the API takes bearer keys, and `*` would let any page that obtained one use it.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, port)| {
        if port.parse::<u16>().is_ok() {
            host
        } else {
            ""
        }
    });
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
    }

    #[test]
    fn the_shipped_config_toml_equals_the_defaults() {
        let shipped: Settings = Figment::new()
            .merge(Toml::file_exact(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/config.toml"
            )))
            .extract()
            .unwrap();
        assert_eq!(shipped, Settings::default());
    }

    #[test]
    fn origins_are_scheme_host_and_optional_port_only() {
        assert!(is_origin("https://app.example.com"));
        assert!(is_origin("http://localhost:3000"));
        assert!(!is_origin("*"));
        assert!(!is_origin("app.example.com"));
        assert!(!is_origin("https://app.example.com/"));
        assert!(!is_origin("https://app.example.com/path"));
        assert!(!is_origin("ftp://app.example.com"));
        assert!(!is_origin("https://host:notaport"));
    }

    #[test]
    fn log_filters_must_name_real_levels() {
        assert!(is_log_filter("info"));
        assert!(is_log_filter("kontak=debug,actix_web=warn"));
        assert!(!is_log_filter("infoo"));
        assert!(!is_log_filter("kontak=loud"));
    }

    #[test]
    fn validation_messages_name_the_setting() {
        type Breakage = fn(&mut Settings);
        let cases: [(&str, Breakage); 8] = [
            ("bind", |s| s.bind = "nowhere".into()),
            ("db", |s| s.db = PathBuf::new()),
            ("log", |s| s.log = "loud!!".into()),
            ("read_connections", |s| s.read_connections = 0),
            ("read_mmap_mib", |s| s.read_mmap_mib = 4096),
            ("max_body_bytes", |s| s.max_body_bytes = 10),
            ("cors_allowed_origins", |s| {
                s.cors_allowed_origins = vec!["https://ok.example".into(), "*".into()]
            }),
            ("shutdown_timeout_secs", |s| {
                s.shutdown_timeout_secs = 86_400
            }),
        ];
        for (key, break_it) in cases {
            let mut settings = Settings::default();
            break_it(&mut settings);
            let err = settings.validate().unwrap_err();
            assert!(err.starts_with(key), "{key}: {err}");
        }
    }
}
