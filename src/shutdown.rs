//! What stops the server: SIGTERM (service managers, `docker stop`, Kubernetes) or
//! SIGINT (Ctrl-C), both gracefully.

/// Resolves on the first SIGTERM or SIGINT.
///
/// actix's own handler treats SIGINT as a *forced* stop that drops in-flight
/// requests; an operator pressing Ctrl-C should not lose a client's write, so both
/// signals take the graceful path: stop accepting, let in-flight requests finish
/// within `shutdown_timeout_secs`, then return from `run_until_stopped`.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot listen for SIGTERM/SIGINT; stop kontak with SIGKILL");
            return std::future::pending().await;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "stopping: finishing in-flight requests");
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("stopping: finishing in-flight requests");
    }
}
