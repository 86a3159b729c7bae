//! Real mail servers for integration tests, one private instance per test on free loopback ports:
//! Dovecot (IMAP) from `scripts/mail/dovecot.conf.in`, and the aiosmtpd SMTP server
//! `scripts/mail/smtp_server.py`, which delivers into Dovecot's maildirs (so a message sent over
//! SMTP can be read back over IMAP, and IDLE clients hear of it). The TCP proxy that cuts a
//! connection mid-response is in `proxy.rs`; process supervision in `processes.rs`.
//!
//! ```ignore
//! let mail = MailServers::start().await;            // or start_without_idle()
//! mail.add_user("support@example.com", "secret");
//! mail.append("support@example.com", "INBOX", b"From: a@b.test\r\n\r\nhi\r\n").await;
//! // ... point the code under test at 127.0.0.1:{mail.imap_port} / {mail.smtp_port} ...
//! let raw = mail.fetch_all("support@example.com", "INBOX").await;
//! let sent = mail.smtp_copies();                     // what the SMTP server accepted
//! ```
//!
//! Needs root (Dovecot switches to the mail user, `nobody`), Dovecot and the Python virtualenv
//! `target/testenv/py` (`scripts/setup.sh test` installs both). SMTP recipients whose local part
//! starts with `tempfail` get `451 4.3.0`, with `reject` `550 5.1.1`. Dropping `MailServers` kills
//! every server process and removes its directory. If the test process dies first (Ctrl-C, a
//! killed run), a guardian in each server's process group kills the servers, and the next
//! `start` removes the directories left behind. CONVERGENCE_KEEP_MAIL_DIR=1 keeps the
//! directories (config, logs, maildirs) for a look after the test.
#![allow(dead_code)]

use async_imap::{Client, Session};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::processes::*;

/// How long the servers may take to accept connections before `start` gives up.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts at starting Dovecot when the port picked for it was taken in between.
const START_ATTEMPTS: usize = 3;

/// What the SMTP server saw of one accepted message's envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
}

/// Options for [`MailServers::start_with`].
#[derive(Clone, Debug)]
pub struct MailOptions {
    /// Advertise IDLE in CAPABILITY (Dovecot's default). `false` advertises Dovecot's own list
    /// without IDLE, so a client has to poll.
    pub idle: bool,
    /// Make the SMTP server require AUTH (PLAIN or LOGIN, no TLS) with this user and password.
    pub smtp_auth: Option<(String, String)>,
}

impl Default for MailOptions {
    fn default() -> Self {
        MailOptions {
            idle: true,
            smtp_auth: None,
        }
    }
}

/// A Dovecot IMAP server and an SMTP server delivering into it, on 127.0.0.1.
pub struct MailServers {
    pub imap_port: u16,
    pub smtp_port: u16,
    /// The instance's directory: dovecot.conf, users, mail/<user>/, smtp-copies/, logs.
    pub dir: PathBuf,
    passwords: Mutex<HashMap<String, String>>,
    dovecot: Option<Guarded>,
    smtp: Option<Guarded>,
}

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate lives in the workspace")
        .to_path_buf()
}

fn python() -> PathBuf {
    std::env::var_os("CONVERGENCE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/testenv/py/bin/python"))
}

fn dovecot_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("dovecot"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/dovecot")).filter(|p| p.is_file()))
}

/// uid and gid of `nobody`, who owns the mailboxes (Dovecot will not give mail to root).
fn mail_owner() -> (u32, u32) {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                (f.len() > 3 && f[0] == "nobody")
                    .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                    .flatten()
            })
        })
        .unwrap_or((65534, 65534))
}

fn is_root() -> bool {
    // /proc/self/status: "Uid:\treal\teffective\t..."
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A free port on 127.0.0.1 (bound and released; the caller retries if it gets taken meanwhile).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// CONVERGENCE_KEEP_MAIL_DIR=1 keeps each instance's directory (config, logs, maildirs).
pub fn keep_dir() -> bool {
    std::env::var_os("CONVERGENCE_KEEP_MAIL_DIR").is_some()
}

impl MailServers {
    /// Dovecot with IDLE, and an SMTP server without AUTH.
    pub async fn start() -> MailServers {
        Self::start_with(MailOptions::default()).await
    }

    /// Dovecot advertising no IDLE (for a client's polling fallback), and an SMTP server.
    pub async fn start_without_idle() -> MailServers {
        Self::start_with(MailOptions {
            idle: false,
            ..MailOptions::default()
        })
        .await
    }

    pub async fn start_with(options: MailOptions) -> MailServers {
        let python = python();
        let dovecot = dovecot_bin();
        if dovecot.is_none() || !python.is_file() {
            panic!(
                "the mail test servers need Dovecot and the virtualenv {} (missing: {}); run `scripts/setup.sh test`",
                python.display(),
                match (dovecot.is_none(), !python.is_file()) {
                    (true, true) => "both",
                    (true, false) => "dovecot",
                    _ => "the virtualenv",
                }
            );
        }
        let dovecot = dovecot.unwrap();
        assert!(
            is_root(),
            "the mail test servers need root: Dovecot switches to the mail user (nobody)"
        );

        let n = INSTANCE.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        // In the system temp dir, not target/: the path must be short (Dovecot's sockets live in
        // it) and every directory above it must be searchable by the mail user.
        let dir = std::env::temp_dir().join(format!(
            "convergence-mail-{}-{n}-{nanos:x}",
            std::process::id()
        ));
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(remove_dirs_of_dead_test_processes);
        let mut servers = MailServers {
            imap_port: 0,
            smtp_port: 0,
            dir: dir.clone(),
            passwords: Mutex::new(HashMap::new()),
            dovecot: None,
            smtp: None,
        };
        let owner = mail_owner();
        std::fs::create_dir_all(dir.join("mail")).expect("create the mail test dir");
        std::fs::create_dir_all(dir.join("smtp-copies")).unwrap();
        chown(&dir.join("mail"), owner);
        std::fs::write(dir.join("users"), "").unwrap();
        let deadline = Instant::now() + START_TIMEOUT;

        // SMTP first: it binds port 0 itself and says which port it got, so it cannot race.
        let mut args: Vec<std::ffi::OsString> = vec![
            repo_root().join("scripts/mail/smtp_server.py").into(),
            "--port".into(),
            "0".into(),
            "--maildir-root".into(),
            dir.join("mail").into(),
            "--copy-dir".into(),
            dir.join("smtp-copies").into(),
        ];
        if let Some((user, password)) = &options.smtp_auth {
            args.extend([
                "--user".into(),
                user.into(),
                "--password".into(),
                password.into(),
            ]);
        }
        servers.smtp = Some(
            Guarded::spawn(&python, &args, &dir.join("smtp.log")).expect("start the SMTP server"),
        );

        // Dovecot, on a port picked here (it cannot be told to pick one); another attempt on
        // another port if that one got taken in the meantime.
        let greeting = format!("Convergence test IMAP {} ready.", dir.display());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port();
            let conf = std::fs::read_to_string(repo_root().join("scripts/mail/dovecot.conf.in"))
                .expect("read scripts/mail/dovecot.conf.in")
                .replace("@DIR@", &dir.display().to_string())
                .replace("@IMAP_PORT@", &port.to_string())
                .replace("@MAIL_UID@", &owner.0.to_string())
                .replace("@MAIL_GID@", &owner.1.to_string())
                .replace("@GREETING@", &greeting)
                .replace("@NO_IDLE@", if options.idle { "#" } else { "" });
            std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
            let _ = std::fs::remove_dir_all(dir.join("run"));
            let args = ["-F".into(), "-c".into(), dir.join("dovecot.conf").into()];
            servers.dovecot = Some(
                Guarded::spawn(&dovecot, &args, &dir.join("dovecot.stderr"))
                    .expect("start dovecot"),
            );
            match servers.wait_for_imap(port, &greeting, deadline).await {
                Ok(()) => {
                    servers.imap_port = port;
                    break;
                }
                Err((why, someone_else)) => {
                    // Another listener got the port first: Dovecot fails to bind it and exits.
                    let mut log = servers.logs();
                    if someone_else {
                        let exit_by = Instant::now() + Duration::from_secs(2);
                        while servers
                            .dovecot
                            .as_mut()
                            .unwrap()
                            .child
                            .try_wait()
                            .unwrap()
                            .is_none()
                            && Instant::now() < exit_by
                        {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        log = servers.logs();
                    }
                    let port_taken = someone_else || log.contains("Address already in use");
                    servers.kill_dovecot();
                    if !(port_taken && attempt < START_ATTEMPTS) {
                        panic!("Dovecot did not start: {why}\n{log}");
                    }
                }
            }
        }

        servers.smtp_port = servers.wait_for_smtp(deadline).await;
        servers
    }

    /// Waits until Dovecot on `port` greets with `greeting` (ours, not another test's). The error
    /// says whether something else answered on the port.
    async fn wait_for_imap(
        &mut self,
        port: u16,
        greeting: &str,
        deadline: Instant,
    ) -> Result<(), (String, bool)> {
        loop {
            if let Some(status) = self.dovecot.as_mut().unwrap().child.try_wait().unwrap() {
                return Err((format!("dovecot exited ({status})"), false));
            }
            if let Ok(Ok(mut s)) = tokio::time::timeout(
                Duration::from_secs(2),
                TcpStream::connect(("127.0.0.1", port)),
            )
            .await
            {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 512];
                let read = tokio::time::timeout(Duration::from_secs(2), async {
                    while !buf.contains(&b'\n') {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                })
                .await;
                let line = String::from_utf8_lossy(&buf);
                if read.is_ok() && line.contains(greeting) {
                    let _ = s.write_all(b"a LOGOUT\r\n").await;
                    return Ok(());
                }
                if read.is_ok() && !line.is_empty() && !line.contains(greeting) {
                    return Err((
                        format!(
                            "127.0.0.1:{port} answered, but not as this instance: {}",
                            line.trim_end()
                        ),
                        true,
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err((
                    format!("127.0.0.1:{port} did not greet within {START_TIMEOUT:?}"),
                    false,
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the SMTP server's "ready 127.0.0.1:PORT" line and returns PORT.
    async fn wait_for_smtp(&mut self, deadline: Instant) -> u16 {
        loop {
            let log = read_lossy(&self.dir.join("smtp.log"));
            if let Some(port) = log
                .lines()
                .find_map(|l| l.strip_prefix("ready 127.0.0.1:"))
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return port;
                }
            }
            if let Some(status) = self.smtp.as_mut().unwrap().child.try_wait().unwrap() {
                panic!("the SMTP server exited during startup ({status}):\n{log}");
            }
            if Instant::now() > deadline {
                panic!("the SMTP server was not ready within {START_TIMEOUT:?}:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The process groups of Dovecot (every Dovecot process) and of the SMTP server.
    pub fn process_groups(&self) -> Vec<u32> {
        [&self.dovecot, &self.smtp]
            .into_iter()
            .flatten()
            .map(|g| g.pgid())
            .collect()
    }

    fn kill_dovecot(&mut self) {
        if let Some(mut dovecot) = self.dovecot.take() {
            dovecot.kill();
        }
    }

    /// Dovecot's and the SMTP server's logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["dovecot.stderr", "dovecot.log", "smtp.log"] {
            let text = read_lossy(&self.dir.join(name));
            if !text.trim().is_empty() {
                out.push_str(&format!("--- {name}\n{text}"));
            }
        }
        out
    }

    /// Adds a mail user (or changes its password). The login is `address` lowercased; SMTP mail
    /// for `address`, with or without a `+tag`, lands in its INBOX.
    pub fn add_user(&self, address: &str, password: &str) {
        assert!(
            !address.contains([':', '\n']) && !password.contains([':', '\n']),
            "a mail user's address and password may not contain ':' or a newline"
        );
        let mut passwords = self.passwords.lock().unwrap();
        passwords.insert(address.to_lowercase(), password.to_string());
        let mut users: Vec<(&String, &String)> = passwords.iter().collect();
        users.sort();
        let text: String = users
            .iter()
            .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
            .collect();
        // Renamed into place: Dovecot re-reads the file when it changes, maybe mid-write.
        let tmp = self.dir.join("users.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.dir.join("users")).unwrap();
    }

    fn password(&self, user: &str) -> String {
        self.passwords
            .lock()
            .unwrap()
            .get(&user.to_lowercase())
            .cloned()
            .unwrap_or_else(|| panic!("no mail user {user}: add_user it first"))
    }

    /// A connected IMAP client, greeting read.
    pub async fn connect_imap(&self) -> Client<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .expect("connect to Dovecot");
        let mut client = Client::new(stream);
        client
            .read_response()
            .await
            .expect("read Dovecot's greeting")
            .expect("Dovecot closed the connection before greeting");
        client
    }

    /// A logged-in IMAP session as `user` (added with [`add_user`](Self::add_user)).
    pub async fn session(&self, user: &str) -> Session<TcpStream> {
        let password = self.password(user);
        self.connect_imap()
            .await
            .login(user, &password)
            .await
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("IMAP login as {user}: {e}\n{}", self.logs()))
    }

    /// Creates `folder` (nested with `/`); fine if it exists.
    pub async fn create_folder(&self, user: &str, folder: &str) {
        let mut s = self.session(user).await;
        ensure_folder(&mut s, folder).await;
        let _ = s.logout().await;
    }

    pub async fn delete_folder(&self, user: &str, folder: &str) {
        let mut s = self.session(user).await;
        s.delete(folder)
            .await
            .unwrap_or_else(|e| panic!("IMAP DELETE {folder}: {e}"));
        let _ = s.logout().await;
    }

    /// Stores `raw` in `folder` (created if missing) with IMAP APPEND.
    pub async fn append(&self, user: &str, folder: &str, raw: &[u8]) {
        self.append_with(user, folder, None, None, raw).await
    }

    /// APPEND with flags (e.g. `Some("(\\Seen)")`) and an internal date
    /// (e.g. `Some("\"01-Jan-2024 10:00:00 +0000\"")`).
    pub async fn append_with(
        &self,
        user: &str,
        folder: &str,
        flags: Option<&str>,
        internaldate: Option<&str>,
        raw: &[u8],
    ) {
        let mut s = self.session(user).await;
        ensure_folder(&mut s, folder).await;
        s.append(folder, flags, internaldate, raw)
            .await
            .unwrap_or_else(|e| panic!("IMAP APPEND to {folder}: {e}"));
        let _ = s.logout().await;
    }

    /// Every message in `folder`, raw (BODY.PEEK[], so \Seen is left alone), in UID order. Like
    /// any IMAP client sees it: Dovecot serves every line end as CRLF, whatever was appended.
    pub async fn fetch_all(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        let mut s = self.session(user).await;
        let mailbox = s
            .examine(folder)
            .await
            .unwrap_or_else(|e| panic!("IMAP EXAMINE {folder}: {e}"));
        let mut out = Vec::new();
        if mailbox.exists > 0 {
            let mut fetched: Vec<(u32, Vec<u8>)> = s
                .fetch("1:*", "(UID BODY.PEEK[])")
                .await
                .unwrap_or_else(|e| panic!("IMAP FETCH in {folder}: {e}"))
                .try_collect::<Vec<_>>()
                .await
                .unwrap_or_else(|e| panic!("IMAP FETCH in {folder}: {e}"))
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect();
            fetched.sort_by_key(|(uid, _)| *uid);
            out = fetched.into_iter().map(|(_, body)| body).collect();
        }
        let _ = s.logout().await;
        out
    }

    /// The folder's UIDVALIDITY.
    pub async fn uidvalidity(&self, user: &str, folder: &str) -> u32 {
        let mut s = self.session(user).await;
        let mailbox = s
            .examine(folder)
            .await
            .unwrap_or_else(|e| panic!("IMAP EXAMINE {folder}: {e}"));
        let _ = s.logout().await;
        mailbox
            .uid_validity
            .expect("UIDVALIDITY in the EXAMINE response")
    }

    /// Every message the SMTP server accepted, in order: its envelope and the message as received
    /// in DATA (dot-unstuffed; SMTP makes it end in CRLF), without the Return-Path and Received
    /// headers the mailbox copies get.
    pub fn smtp_copies(&self) -> Vec<(Envelope, Vec<u8>)> {
        let dir = self.dir.join("smtp-copies");
        let mut numbers: Vec<u64> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| {
                        let name = e.ok()?.file_name().into_string().ok()?;
                        name.strip_suffix(".eml")?.parse().ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        numbers.sort_unstable();
        numbers
            .into_iter()
            .map(|n| {
                let json = std::fs::read(dir.join(format!("{n}.json"))).unwrap();
                let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
                let envelope = Envelope {
                    mail_from: v["mail_from"].as_str().unwrap_or_default().to_string(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|r| r.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                (
                    envelope,
                    std::fs::read(dir.join(format!("{n}.eml"))).unwrap(),
                )
            })
            .collect()
    }
}

/// A quoted string for LIST's pattern argument (async-imap quotes every other mailbox name).
fn quote(folder: &str) -> String {
    format!("\"{}\"", folder.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn ensure_folder(s: &mut Session<TcpStream>, folder: &str) {
    if folder.eq_ignore_ascii_case("INBOX") {
        return;
    }
    let exists = {
        let names: Vec<_> = s
            .list(Some(""), Some(&quote(folder)))
            .await
            .unwrap_or_else(|e| panic!("IMAP LIST {folder}: {e}"))
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("IMAP LIST {folder}: {e}"));
        names.iter().any(|n| n.name() == folder)
    };
    if !exists {
        s.create(folder)
            .await
            .unwrap_or_else(|e| panic!("IMAP CREATE {folder}: {e}"));
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        // SIGKILL to every process at once: nothing in a test instance needs an orderly shutdown
        // (which, for Dovecot's master, waits seconds for connected clients).
        let pgids = self.process_groups();
        for server in [&mut self.dovecot, &mut self.smtp] {
            drop(server.as_mut().and_then(|s| s.guard.take()));
        }
        kill_groups(&pgids);
        for server in [self.dovecot.take(), self.smtp.take()]
            .into_iter()
            .flatten()
        {
            let mut server = server;
            let _ = server.child.wait();
        }
        // SIGKILL is asynchronous: wait until Dovecot's other processes are really gone, so that
        // nothing of this instance is seen (by `pgrep dovecot`, say) once it is dropped.
        let gone_by = Instant::now() + Duration::from_secs(5);
        while !processes_in_groups(&pgids).is_empty() && Instant::now() < gone_by {
            std::thread::sleep(Duration::from_millis(2));
        }
        if keep_dir() {
            let _ = writeln!(
                std::io::stderr(),
                "mail servers' dir kept: {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
