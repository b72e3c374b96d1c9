//! experience-service binary: load settings, start logging, build the application, serve until
//! SIGTERM / Ctrl-C.

use experience_service::configuration::Settings;
use experience_service::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    platform_sdk::telemetry::init(
        settings.log.effective_format(settings.environment),
        &settings.log.level,
    );
    let app = Application::build(settings).await?;
    app.run_until_stopped().await
}
