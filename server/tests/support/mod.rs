//! The test harness: a fresh database per test on SQLite (temp file) or PostgreSQL (a new
//! database on the server named by CONVERGENCE_TEST_POSTGRES_URL), [`both_engines!`] which runs
//! a test on each, and `spawn_app` which runs the real router and workers on a random port.
//!
//! - `mail`, `proxy`, `processes`: real Dovecot and SMTP servers, a connection-cutting proxy;
//!   `scripted_imap`: an IMAP server whose timing the test decides (races);
//!   `email`: mailbox helpers for the email tests.
//! - `messages`: reading messages back and waiting for them.
//! - `twilio`: the app and the Twilio stand-in side by side, for `sms_twilio`.
#![allow(dead_code)]

pub mod email;
pub mod mail;
pub mod messages;
pub mod processes;
pub mod proxy;
pub mod scripted_imap;
pub mod twilio;

use app::ssr::state::Settings;
use app::ssr::AppState;
use app::store::Db;
use server::channels::Registry;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The secret key every test app uses (reply tokens, Message-IDs).
pub const TEST_SECRET: &str = "test-secret-key-0123456789abcdefghij";

/// The bearer token test apps ask for on `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database for one test; a PostgreSQL one is dropped when this is dropped.
pub struct TestDb {
    pub db: Db,
    _tmp: Option<tempdir::Dir>,
    pg_drop: Option<(String, String)>,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}_{n}", std::process::id(), t % 1_000_000_000)
}

pub async fn test_db(engine: Engine) -> TestDb {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(unique("convergence_test"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}/test.db", dir.display());
            let db = Db::connect(&url).await.expect("open sqlite");
            db.migrate().await.expect("migrate sqlite");
            TestDb {
                db,
                _tmp: Some(tempdir::Dir(dir)),
                pg_drop: None,
            }
        }
        Engine::Postgres => {
            let admin_url = std::env::var("CONVERGENCE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_PG.to_string());
            let name = unique("conv_test");
            let admin = Db::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL is needed for these tests ({admin_url}): {e}. Start it or set CONVERGENCE_TEST_POSTGRES_URL.")
            });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin.write)
                .await
                .expect("create database");
            admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin_url.clone());
            let url = format!("{base}/{name}");
            let db = Db::connect(&url).await.expect("open pg");
            db.migrate().await.expect("migrate pg");
            TestDb {
                db,
                _tmp: None,
                pg_drop: Some((admin_url, name)),
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            let db = self.db.clone();
            // Drop from a separate thread with its own runtime: Drop cannot be async.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    db.close().await;
                    if let Ok(admin) = Db::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&admin.write)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A test that runs on one engine: an `async fn(Engine)` (it makes its own app or database),
/// or an `async fn(Db)` (it gets a fresh, migrated database, dropped after it). `Kind` tells
/// the two apart for the compiler; [`both_engines!`] is how tests use it.
pub trait EngineTest<Kind> {
    fn run_on(self, engine: Engine) -> impl std::future::Future<Output = ()>;
}

impl<F, Fut> EngineTest<Engine> for F
where
    F: FnOnce(Engine) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    async fn run_on(self, engine: Engine) {
        self(engine).await
    }
}

impl<F, Fut> EngineTest<Db> for F
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    async fn run_on(self, engine: Engine) {
        let t = test_db(engine).await;
        self(t.db.clone()).await;
    }
}

/// Runs `test` on `engine` (see [`EngineTest`]).
pub async fn run_on<Kind>(engine: Engine, test: impl EngineTest<Kind>) {
    test.run_on(engine).await
}

/// Makes each named `async fn(Engine)` or `async fn(Db)` two tests, `NAME::sqlite` and
/// `NAME::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run_on($crate::support::Engine::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run_on($crate::support::Engine::Postgres, super::$name).await
            }
        }
    )*};
}

pub struct TestApp {
    pub addr: String,
    pub state: AppState,
    pub _db: TestDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    /// A client with its own cookie jar.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A request the app never answers fails its test instead of holding the run.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// POSTs a server function form the way the browser's JavaScript does.
    pub async fn call(
        &self,
        c: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        c.post(self.url(endpoint))
            .header("Origin", &self.addr)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The id of the user with `email`, as a form value.
    pub async fn user_id(&self, email: &str) -> String {
        app::store::users::find_by_email(&self.state.db, email)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {email}"))
            .id
            .to_string()
    }

    /// A client signed in as `email`.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Client {
        let c = self.client();
        let r = self
            .call(
                &c,
                "/api/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "login {email}: {}",
            r.status()
        );
        c
    }
}

/// Mailbox sync tuned for tests: short timeouts, quick reconnects, fast polling.
pub fn test_sync_options() -> server::channels::email::sync::SyncOptions {
    server::channels::email::sync::SyncOptions {
        batch: 50,
        command_timeout: std::time::Duration::from_secs(5),
        idle_timeout: std::time::Duration::from_secs(5),
        poll_interval: std::time::Duration::from_millis(300),
        reconcile_interval: std::time::Duration::from_secs(5),
        backoff_min: std::time::Duration::from_millis(100),
        backoff_max: std::time::Duration::from_secs(1),
        max_message_bytes: 2 * 1024 * 1024,
    }
}

/// Starts the real app (router, workers) on a random port with demo data loaded.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, Registry::standard(TEST_SECRET)).await
}

pub async fn spawn_app_with(engine: Engine, registry: Registry) -> TestApp {
    spawn_app_registry(engine, move |_| registry).await
}

/// The app with every adapter configured for its real address (webhook URLs and status
/// callbacks point at it) and a short timeout for provider APIs.
pub async fn spawn_messaging_app(engine: Engine) -> TestApp {
    spawn_app_registry(engine, |public_url| {
        let mut cfg = server::channels::ChannelConfig::new(TEST_SECRET, public_url);
        cfg.http_timeout = std::time::Duration::from_secs(2);
        // The provider stand-in serves media on loopback.
        cfg.media_policy =
            server::channels::http_client::AddressPolicy::allowing(["127.0.0.1".parse().unwrap()]);
        Registry::with_config(&cfg)
    })
    .await
}

async fn spawn_app_registry(engine: Engine, registry: impl FnOnce(&str) -> Registry) -> TestApp {
    let t = test_db(engine).await;
    app::store::channel_accounts::ensure_playground_accounts(&t.db)
        .await
        .unwrap();
    server::demo_data::load_if_empty(&t.db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let mut options = leptos::config::LeptosOptions::builder()
        .output_name("convergence")
        .build();
    options.site_addr = listener.local_addr().unwrap();
    let state = server::startup::build_state(
        t.db.clone(),
        options,
        Settings {
            public_url: addr.clone(),
            secret_key: TEST_SECRET.into(),
            metrics_token: Some(METRICS_TOKEN.into()),
        },
    );
    let registry = registry(&addr);
    server::startup::spawn_workers(&state, registry.clone(), test_sync_options());
    let router = server::http::router(state.clone(), registry);
    tokio::spawn(async move {
        axum::serve(
            server::startup::no_delay(listener),
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    TestApp {
        addr,
        state,
        _db: t,
    }
}

/// A hub as a server process has it, with a subscriber. On PostgreSQL events travel through
/// NOTIFY, so the process's listener is started and a probe event is awaited before returning.
pub async fn live_hub(
    db: &Db,
) -> (
    app::ssr::live::Hub,
    tokio::sync::broadcast::Receiver<app::model::LiveEvent>,
) {
    use app::model::{LiveEvent, LiveKind};
    let hub = app::ssr::live::Hub::new(db);
    let mut rx = hub.subscribe();
    if hub.uses_notify() {
        tokio::spawn(app::ssr::live::run_pg_listener(db.url.clone(), hub.clone()));
        let probe = LiveEvent {
            kind: LiveKind::Conversation,
            conversation_id: Some(-1),
            message_id: None,
            presence: None,
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                hub.publish(probe.clone()).await;
                if let Ok(Ok(_)) =
                    tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await
                {
                    break;
                }
            }
        })
        .await
        .expect("the live listener never started");
        while rx.try_recv().is_ok() {}
    }
    (hub, rx)
}
