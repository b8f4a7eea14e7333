//! `kontak serve`.

use anyhow::Context;

use crate::auth::provision::create_first_key_if_none;
use crate::config::Settings;
use crate::demo::DEFAULT_DEMO_CONTACTS;
use crate::domain::WorkspaceName;
use crate::startup::Application;
use crate::storage::open_connection;

pub fn run(settings: Settings, demo: bool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings)?;
        let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
        let first_key = create_first_key_if_none(&mut conn).context("creating the first key")?;
        if demo {
            super::demo::seed(
                &mut conn,
                &WorkspaceName::default_workspace(),
                DEFAULT_DEMO_CONTACTS,
            )
            .context("adding demo contacts")?;
        }
        drop(conn);

        let host = settings.bind_addr().map_err(anyhow::Error::msg)?.ip();
        let base = format!("http://{}", std::net::SocketAddr::new(host, app.port()));
        if let Some(key) = first_key {
            print_first_key(key.reveal(), &base);
        }
        tracing::info!(
            address = %base,
            db = %settings.db.display(),
            "kontak is listening"
        );
        app.run_until_stopped().await?;
        tracing::info!("kontak stopped");
        Ok(())
    })
}

/// The one and only time this key is shown.
fn print_first_key(key: &str, base: &str) {
    println!(
        "\n\
         ================================================================================\n\
         kontak: this database had no API keys, so workspace \"default\" and a key with\n\
         scopes contacts:read and contacts:write were created. The key is shown ONCE;\n\
         only its hash is stored. Keep it now:\n\
         \n    {key}\n\n\
         Try it:\n\
         \n    curl -H \"Authorization: Bearer {key}\" {base}/v1/contacts\n\n\
         More keys: kontak key create --workspace NAME --scopes contacts:read,contacts:write\n\
         ================================================================================\n"
    );
}
