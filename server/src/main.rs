use clap::Parser;
use server::config::{Cli, Command};

mod bench;
mod seed;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONVERGENCE_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => server::startup::serve(&cli).await,
        Command::Migrate => {
            let db = server::startup::open_db(&cli).await?;
            println!("migrations applied to {}", redact(&cli.database_url));
            db.close().await;
            Ok(())
        }
        Command::CreateAdmin { email, name } => {
            let password = std::env::var("CONVERGENCE_ADMIN_PASSWORD").map_err(|_| {
                "set CONVERGENCE_ADMIN_PASSWORD to the new admin's password (at least 10 characters)"
            })?;
            let db = server::startup::open_db(&cli).await?;
            let id = app::store::users::create_user(
                &db,
                &email,
                &name,
                app::domain::Role::Admin,
                &password,
            )
            .await?;
            println!("created admin #{id} <{email}>");
            Ok(())
        }
        Command::Demo => {
            let db = server::startup::open_db(&cli).await?;
            let loaded = server::demo::load_if_empty(&db).await?;
            println!(
                "{}",
                if loaded {
                    "demo data loaded"
                } else {
                    "database not empty: demo data skipped"
                }
            );
            Ok(())
        }
        Command::Seed {
            customers,
            messages,
            big,
        } => {
            let db = server::startup::open_db(&cli).await?;
            let r = seed::run(
                &db,
                &seed::SeedOptions {
                    customers,
                    messages,
                    big_conversation_messages: big,
                },
            )
            .await?;
            println!(
                "seeded {} customers and {} messages in {:.1} s; big conversation id {}",
                r.customers, r.messages, r.seconds, r.big_conversation_id
            );
            Ok(())
        }
        Command::Bench {
            base_url,
            email,
            password,
            concurrency,
            seconds,
        } => {
            bench::run(&bench::BenchOptions {
                base_url,
                database_url: cli.database_url.clone(),
                email,
                password,
                concurrency,
                seconds,
            })
            .await
        }
        Command::AddEmailAccount {
            name,
            address,
            from_name,
            imap_host,
            imap_port,
            imap_tls,
            imap_user,
            folder,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_user,
        } => {
            use app::domain::email_account::{EmailSettings, TlsMode};
            let tls = |s: &str| {
                TlsMode::parse(s)
                    .ok_or_else(|| format!("TLS mode {s:?}: use tls, starttls or none"))
            };
            let address = app::domain::IdentifierKind::Email
                .normalize(&address)
                .map_err(|e| format!("--address: {e}"))?;
            let settings = EmailSettings {
                from_name,
                imap_host,
                imap_port,
                imap_tls: tls(&imap_tls)?,
                imap_user,
                imap_folder: folder,
                import_since: None,
                smtp_host,
                smtp_port,
                smtp_tls: tls(&smtp_tls)?,
                smtp_user,
            };
            let secrets = serde_json::json!({
                "imap_password": std::env::var("CONVERGENCE_IMAP_PASSWORD").unwrap_or_default(),
                "smtp_password": std::env::var("CONVERGENCE_SMTP_PASSWORD").unwrap_or_default(),
            });
            let db = server::startup::open_db(&cli).await?;
            let id = app::store::channel_accounts::create(
                &db,
                app::domain::ChannelKind::Email,
                server::channels::email::PROVIDER,
                &name,
                &address,
                &serde_json::to_value(&settings)?,
                &secrets,
            )
            .await?;
            println!(
                "added email account #{id} <{address}>; a running server picks it up within 30 s"
            );
            Ok(())
        }
        Command::BenchEmail {
            imap_host,
            imap_port,
            user,
            password,
            messages,
            no_fill,
        } => {
            server::bench_email::run(&server::bench_email::EmailBenchOptions {
                database_url: cli.database_url.clone(),
                imap_host,
                imap_port,
                user,
                password,
                messages,
                no_fill,
            })
            .await
        }
        Command::AddChannelAccount {
            provider,
            name,
            settings,
        } => {
            let spec = app::domain::providers::by_id(&provider)
                .ok_or_else(|| format!("unknown provider {provider:?}: use twilio, whatsapp, messenger, instagram or telegram"))?;
            let settings: serde_json::Value = serde_json::from_str(&settings)
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
            let db = server::startup::open_db(&cli).await?;
            let id = app::store::channel_accounts::create(
                &db,
                spec.channel,
                spec.id,
                &name,
                &address,
                &settings,
                &secrets,
            )
            .await?;
            println!("{id} {}", spec.webhook_url(&cli.public_url, id));
            Ok(())
        }
        Command::BenchWebhooks {
            concurrency,
            seconds,
        } => {
            server::bench_webhooks::run(&server::bench_webhooks::WebhookBenchOptions {
                database_url: cli.database_url.clone(),
                concurrency,
                seconds,
            })
            .await
        }
        Command::ImportConsent { file, region } => {
            if !app::domain::phone::is_region(&region) {
                return Err(format!(
                    "--region {region:?} is not a region: use a two-letter code such as US or GB"
                )
                .into());
            }
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                format!("{} is not UTF-8 text: save it as UTF-8 CSV", file.display())
            })?;
            let db = server::startup::open_db(&cli).await?;
            let report = server::import_consent::import(&db, &text, &region).await?;
            db.close().await;
            print!("{}", report.text());
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} line{} could not be imported (listed above); the others were",
                    report.errors.len(),
                    if report.errors.len() == 1 { "" } else { "s" }
                )
                .into())
            }
        }
        Command::Standin { listen } => {
            let running = server::standin::spawn(&listen).await?;
            println!("provider stand-in listening on {}", running.base_url);
            std::future::pending::<()>().await;
            Ok(())
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://***{}", &url[..s], &url[a..]),
        _ => url.to_string(),
    }
}
