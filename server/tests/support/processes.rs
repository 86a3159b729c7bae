//! The mail servers' processes: each in its own process group with a guardian that kills the
//! group if the test process dies, and clean-up of what dead test runs left behind.

#![allow(unused_imports)]
use super::mail::*;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server process in a process group of its own, with a guardian in that group: a subshell
/// that SIGKILLs the whole group as soon as `guard` (the write end of its stdin) closes, i.e. when
/// this is dropped or the test process dies, however it dies (Ctrl-C, SIGKILL, a panic in a
/// thread that aborts). The server itself is `child` (the shell execs it).
pub struct Guarded {
    pub child: Child,
    pub guard: Option<ChildStdin>,
}

impl Guarded {
    pub fn spawn(
        program: &Path,
        args: &[std::ffi::OsString],
        log: &Path,
    ) -> std::io::Result<Guarded> {
        const SCRIPT: &str = r#"exec 3<&0
( trap '' INT TERM HUP; while read -r _ <&3; do :; done; kill -KILL -- "-$$" ) &
exec "$@" 3<&- </dev/null"#;
        let log = std::fs::File::create(log)?;
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(SCRIPT)
            .arg("guarded")
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()?;
        let guard = child.stdin.take();
        Ok(Guarded { child, guard })
    }

    pub fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILLs the whole process group and reaps the server.
    pub fn kill(&mut self) {
        drop(self.guard.take());
        kill_groups(&[self.pgid()]);
        let _ = self.child.wait();
    }
}

/// Sends SIGKILL to the process groups (bash's `kill`; the test crate has no libc).
pub fn kill_groups(pgids: &[u32]) {
    if pgids.is_empty() {
        return;
    }
    let targets: Vec<String> = pgids.iter().map(|p| format!("-{p}")).collect();
    let _ = Command::new("bash")
        .arg("-c")
        .arg(format!("kill -KILL -- {} 2>/dev/null", targets.join(" ")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Removes the directories that test processes which died without dropping their
/// `MailServers` left behind (their servers died with them).
pub fn remove_dirs_of_dead_test_processes() {
    if keep_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("convergence-mail-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Live (not zombie) processes whose process group is one of `groups`: (pid, name).
pub fn processes_in_groups(groups: &[u32]) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may contain spaces, so split after the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 3 {
            continue;
        }
        let (state, pgrp) = (fields[0], fields[2].parse::<u32>().unwrap_or(0));
        if state != "Z" && groups.contains(&pgrp) {
            let name = head.split_once('(').map(|(_, n)| n).unwrap_or("");
            found.push((pid, name.to_string()));
        }
    }
    found
}

/// The `server serve` binary on `database_url` at a free port, logging to `dir/server-<n>.log`,
/// in a guarded process group (see [`Guarded`]); the site root is `dir` (no assets needed).
pub fn spawn_server(database_url: &str, dir: &Path, port: u16, n: usize) -> Guarded {
    let args: Vec<std::ffi::OsString> = [
        "LEPTOS_OUTPUT_NAME=convergence".to_string(),
        format!("LEPTOS_SITE_ROOT={}", dir.display()),
        "LEPTOS_SITE_PKG_DIR=pkg".to_string(),
        "CONVERGENCE_LOG=info".to_string(),
        env!("CARGO_BIN_EXE_server").to_string(),
        "--database-url".to_string(),
        database_url.to_string(),
        "--listen".to_string(),
        format!("127.0.0.1:{port}"),
        "--public-url".to_string(),
        format!("http://127.0.0.1:{port}"),
        "--secret-key".to_string(),
        crate::support::TEST_SECRET.to_string(),
        "serve".to_string(),
    ]
    .into_iter()
    .map(Into::into)
    .collect();
    Guarded::spawn(
        Path::new("/usr/bin/env"),
        &args,
        &dir.join(format!("server-{n}.log")),
    )
    .expect("spawn the server")
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits up to 30 s for a spawned server on `port` to answer `/healthz`.
pub async fn healthy(port: u16) {
    for _ in 0..300 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server on {port} did not start");
}
