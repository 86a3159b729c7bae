//! `server add-email-account` and `server add-channel-account`: connecting a channel account
//! from the command line, as the admin page does. Passwords and secrets come from environment
//! variables, never from arguments (they would show in the process list and shell history).

use super::{Cli, CommandResult};

#[derive(clap::Args, Clone, Debug)]
pub struct EmailAccountArgs {
    #[arg(long)]
    pub name: String,
    /// Our From address.
    #[arg(long)]
    pub address: String,
    #[arg(long, default_value = "")]
    pub from_name: String,
    #[arg(long)]
    pub imap_host: String,
    #[arg(long, default_value_t = 993)]
    pub imap_port: u16,
    /// tls, starttls or none
    #[arg(long, default_value = "tls")]
    pub imap_tls: String,
    #[arg(long)]
    pub imap_user: String,
    #[arg(long, default_value = "INBOX")]
    pub folder: String,
    #[arg(long, default_value = "")]
    pub smtp_host: String,
    #[arg(long, default_value_t = 465)]
    pub smtp_port: u16,
    #[arg(long, default_value = "tls")]
    pub smtp_tls: String,
    #[arg(long, default_value = "")]
    pub smtp_user: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ChannelAccountArgs {
    #[arg(long)]
    pub provider: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "{}")]
    pub settings: String,
}

/// Passwords from CONVERGENCE_IMAP_PASSWORD and CONVERGENCE_SMTP_PASSWORD.
pub async fn add_email_account(cli: &Cli, args: EmailAccountArgs) -> CommandResult {
    use app::domain::email_account::{EmailSettings, TlsMode};
    let tls = |s: &str| {
        TlsMode::parse(s).ok_or_else(|| format!("TLS mode {s:?}: use tls, starttls or none"))
    };
    let address = app::domain::IdentifierKind::Email
        .normalize(&args.address)
        .map_err(|e| format!("--address: {e}"))?;
    let settings = EmailSettings {
        from_name: args.from_name,
        imap_host: args.imap_host,
        imap_port: args.imap_port,
        imap_tls: tls(&args.imap_tls)?,
        imap_user: args.imap_user,
        imap_folder: args.folder,
        import_since: None,
        smtp_host: args.smtp_host,
        smtp_port: args.smtp_port,
        smtp_tls: tls(&args.smtp_tls)?,
        smtp_user: args.smtp_user,
    };
    let secrets = serde_json::json!({
        "imap_password": std::env::var("CONVERGENCE_IMAP_PASSWORD").unwrap_or_default(),
        "smtp_password": std::env::var("CONVERGENCE_SMTP_PASSWORD").unwrap_or_default(),
    });
    let db = crate::startup::open_db(&cli.database_url).await?;
    let id = app::store::channel_accounts::create(
        &db,
        app::domain::ChannelKind::Email,
        crate::channels::email::PROVIDER,
        &args.name,
        &address,
        &serde_json::to_value(&settings)?,
        &secrets,
    )
    .await?;
    announce(&db).await;
    println!("added email account #{id} <{address}>; a running server picks it up within 5 s");
    Ok(())
}

/// Secrets from CONVERGENCE_CHANNEL_SECRETS (a JSON object). Prints `{id} {webhook URL}`.
pub async fn add_channel_account(cli: &Cli, args: ChannelAccountArgs) -> CommandResult {
    let provider = &args.provider;
    let spec = app::domain::providers::by_id(provider).ok_or_else(|| {
        format!(
            "unknown provider {provider:?}: use twilio, whatsapp, messenger, instagram or telegram"
        )
    })?;
    let settings: serde_json::Value = serde_json::from_str(&args.settings)
        .map_err(|e| format!("--settings is not a JSON object: {e}"))?;
    let secrets: serde_json::Value = serde_json::from_str(
        &std::env::var("CONVERGENCE_CHANNEL_SECRETS").unwrap_or_else(|_| "{}".into()),
    )
    .map_err(|e| format!("CONVERGENCE_CHANNEL_SECRETS is not a JSON object: {e}"))?;
    let mut address = settings
        .get(spec.address_key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if spec.field(spec.address_key).map(|f| f.kind)
        == Some(app::domain::providers::FieldKind::Phone)
    {
        address = app::domain::identifier::normalize_phone(&address)?;
    }
    let db = crate::startup::open_db(&cli.database_url).await?;
    let id = app::store::channel_accounts::create(
        &db,
        spec.channel,
        spec.id,
        &args.name,
        &address,
        &settings,
        &secrets,
    )
    .await?;
    announce(&db).await;
    println!("{id} {}", spec.webhook_url(&cli.public_url, id));
    Ok(())
}

/// Tells running servers that the accounts changed: at once on PostgreSQL (NOTIFY); on SQLite
/// their supervisors find the account on their next look, within 5 s.
async fn announce(db: &app::store::Db) {
    app::ssr::live::Hub::new(db)
        .publish(app::model::LiveEvent {
            kind: app::model::LiveKind::Accounts,
            conversation_id: None,
            message_id: None,
            presence: None,
        })
        .await;
}
