//! IMAP connections with async-imap: connect (TLS, STARTTLS or plain), log in, and every
//! command under a timeout, with errors in words an admin can act on.

use super::settings::{EmailAccount, Endpoint};
use app::domain::email_account::TlsMode;
use app::store::channel_accounts::AccountRow;
use async_imap::types::Capabilities;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream an IMAP session can run over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

pub type Stream = Box<dyn Io>;
pub type Session = async_imap::Session<Stream>;

/// What went wrong, in words; `Auth` and `Config` will not heal by retrying soon.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImapError {
    #[error("{0}")]
    Network(String),
    #[error("login refused: {0}")]
    Auth(String),
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Config(String),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        match e {
            E::Io(e) => ImapError::Network(format!("connection error: {e}")),
            E::ConnectionLost => ImapError::Network("the server closed the connection".into()),
            E::No(s) => ImapError::Server(format!("the server said NO: {}", s.trim())),
            E::Bad(s) => ImapError::Server(format!("the server said BAD: {}", s.trim())),
            other => ImapError::Server(other.to_string()),
        }
    }
}

/// Runs `fut` with the command timeout, naming the command when it expires.
pub async fn timed<T, E: Into<ImapError>>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(ImapError::Network(format!(
            "no answer to {what} within {} s",
            limit.as_secs()
        ))),
    }
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_wrap(tcp: Stream, host: &str) -> Result<Stream, ImapError> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| ImapError::Config(format!("{host:?} is not a valid TLS server name")))?;
    let tls = tls_connector()
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Network(format!("TLS handshake with {host} failed: {e}")))?;
    Ok(Box::new(tls))
}

/// Connects, upgrades to TLS as configured, reads the greeting and logs in.
pub async fn connect(ep: &Endpoint, limit: Duration) -> Result<(Session, Capabilities), ImapError> {
    let addr = format!("{}:{}", ep.host, ep.port);
    let tcp = timed(limit, &format!("connecting to {addr}"), async {
        TcpStream::connect(&addr)
            .await
            .map_err(|e| ImapError::Network(format!("cannot connect to {addr}: {e}")))
    })
    .await?;
    tcp.set_nodelay(true).ok();
    let mut stream: Stream = Box::new(tcp);
    if ep.tls == TlsMode::Tls {
        stream = timed(limit, "the TLS handshake", tls_wrap(stream, &ep.host)).await?;
    }
    let mut client = async_imap::Client::new(stream);
    let greeting = timed(limit, "the greeting", async {
        client
            .read_response()
            .await
            .map_err(|e| ImapError::Network(format!("reading the greeting: {e}")))
    })
    .await?;
    if greeting.is_none() {
        return Err(ImapError::Network(
            "the server closed the connection before greeting".into(),
        ));
    }
    if ep.tls == TlsMode::Starttls {
        timed(
            limit,
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await?;
        let plain = client.into_inner();
        let tls = timed(limit, "the TLS handshake", tls_wrap(plain, &ep.host)).await?;
        client = async_imap::Client::new(tls);
    }
    let mut session = match tokio::time::timeout(limit, client.login(&ep.user, &ep.password)).await
    {
        Ok(Ok(s)) => s,
        Ok(Err((e, _))) => {
            return Err(match ImapError::from(e) {
                ImapError::Server(s) => ImapError::Auth(s),
                other => other,
            })
        }
        Err(_) => {
            return Err(ImapError::Network(format!(
                "no answer to LOGIN within {} s",
                limit.as_secs()
            )))
        }
    };
    let caps = timed(limit, "CAPABILITY", session.capabilities()).await?;
    Ok((session, caps))
}

/// Logs in to IMAP and SMTP with `account`'s settings and reports what it found.
pub async fn test_connection(account: &AccountRow) -> Result<String, String> {
    let acc = EmailAccount::from_row(account).map_err(|e| e.to_string())?;
    let limit = Duration::from_secs(15);
    let imap = async {
        let (mut session, caps) = connect(&acc.imap, limit).await?;
        let mbox = timed(limit, "EXAMINE", session.examine(&acc.folder)).await?;
        let _ = timed(limit, "LOGOUT", session.logout()).await;
        Ok::<String, ImapError>(format!(
            "IMAP: signed in as {}; {} has {} messages{}",
            acc.imap.user,
            acc.folder,
            mbox.exists,
            if caps.has_str("IDLE") {
                ", new mail arrives at once (IDLE)"
            } else {
                "; the server lacks IDLE, so new mail is polled"
            }
        ))
    };
    let smtp = super::smtp::test_connection(&acc);
    let (imap, smtp) = tokio::join!(imap, smtp);
    match (imap, smtp) {
        (Ok(i), Ok(s)) => Ok(format!("{i}. {s}.")),
        (Err(e), Ok(s)) => Err(format!("IMAP: {e}. {s}.")),
        (Ok(i), Err(e)) => Err(format!("{i}. SMTP: {e}.")),
        (Err(ei), Err(es)) => Err(format!("IMAP: {ei}. SMTP: {es}.")),
    }
}
