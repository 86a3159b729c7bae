//! [`ScriptedImap`]: a small IMAP server on loopback whose timing the test decides, for the
//! races a real server only shows now and then. It holds one folder (UIDVALIDITY 7) and
//! answers what the sync worker sends: CAPABILITY, LOGIN, EXAMINE, UID SEARCH, UID FETCH,
//! IDLE/DONE, NOOP and LOGOUT.
//!
//! - [`arrive_mid_import`](ScriptedImap::arrive_mid_import): messages that land while the
//!   client fetches bodies; the server announces them once, with an untagged EXISTS inside the
//!   FETCH response (as Dovecot does), and never again.
//! - [`arrive_silently`](ScriptedImap::arrive_silently): messages that land without any
//!   announcement at all, even during IDLE.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Folder {
    messages: Vec<(u32, Vec<u8>)>,
    next_uid: u32,
    mid_import: Vec<Vec<u8>>,
    idles: usize,
    logins: usize,
}

impl Folder {
    fn add(&mut self, raw: Vec<u8>) {
        self.next_uid += 1;
        self.messages.push((self.next_uid, raw));
    }
}

pub struct ScriptedImap {
    pub port: u16,
    folder: Arc<Mutex<Folder>>,
    accept: tokio::task::JoinHandle<()>,
}

impl ScriptedImap {
    pub async fn start(initial: Vec<Vec<u8>>) -> ScriptedImap {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut f = Folder::default();
        for m in initial {
            f.add(m);
        }
        let folder = Arc::new(Mutex::new(f));
        let fo = folder.clone();
        let accept = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, fo.clone()));
            }
        });
        ScriptedImap {
            port,
            folder,
            accept,
        }
    }

    /// Messages that arrive during the next body FETCH, announced only inside it.
    pub fn arrive_mid_import(&self, raw: Vec<u8>) {
        self.folder.lock().unwrap().mid_import.push(raw);
    }

    /// A message that arrives now, announced to nobody.
    pub fn arrive_silently(&self, raw: Vec<u8>) {
        self.folder.lock().unwrap().add(raw);
    }

    /// IDLE commands received so far.
    pub fn idles(&self) -> usize {
        self.folder.lock().unwrap().idles
    }

    pub fn logins(&self) -> usize {
        self.folder.lock().unwrap().logins
    }
}

impl Drop for ScriptedImap {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The UIDs of `set` (`1:3,7,9:*`) among `uids`.
fn in_set(set: &str, uid: u32, max: u32) -> bool {
    set.split(',').any(|part| {
        let num = |s: &str| {
            if s == "*" {
                max
            } else {
                s.parse().unwrap_or(0)
            }
        };
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b) = (num(a), num(b));
                (a.min(b)..=a.max(b)).contains(&uid)
            }
            None => num(part) == uid,
        }
    })
}

async fn serve(sock: TcpStream, folder: Arc<Mutex<Folder>>) {
    let (r, mut w) = sock.into_split();
    let mut lines = BufReader::new(r);
    if w.write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE] scripted ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end().to_string();
        let (tag, rest) = l.split_once(' ').unwrap_or((&l, ""));
        let (tag, rest) = (tag.to_string(), rest.to_string());
        let upper = rest.to_ascii_uppercase();
        let mut out: Vec<u8> = Vec::new();
        if upper.starts_with("CAPABILITY") {
            out.extend_from_slice(b"* CAPABILITY IMAP4rev1 IDLE\r\n");
            out.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
        } else if upper.starts_with("LOGIN") {
            folder.lock().unwrap().logins += 1;
            out.extend_from_slice(format!("{tag} OK logged in\r\n").as_bytes());
        } else if upper.starts_with("EXAMINE") || upper.starts_with("SELECT") {
            let f = folder.lock().unwrap();
            out.extend_from_slice(
                format!(
                    "* FLAGS (\\Seen)\r\n* {} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT {}] ok\r\n{tag} OK [READ-ONLY] done\r\n",
                    f.messages.len(),
                    f.next_uid + 1
                )
                .as_bytes(),
            );
        } else if upper.starts_with("UID SEARCH") {
            let f = folder.lock().unwrap();
            let max = f.messages.last().map(|m| m.0).unwrap_or(0);
            let crit = rest["UID SEARCH".len()..].trim();
            let found: Vec<String> = f
                .messages
                .iter()
                .filter(|(uid, _)| match crit.strip_prefix("UID ") {
                    Some(set) => in_set(set, *uid, max),
                    None => true,
                })
                .map(|(uid, _)| uid.to_string())
                .collect();
            out.extend_from_slice(format!("* SEARCH {}\r\n", found.join(" ")).as_bytes());
            out.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
        } else if upper.starts_with("UID FETCH") {
            let args = rest["UID FETCH".len()..].trim();
            let (set, items) = args.split_once(' ').unwrap_or((args, ""));
            let items = items.to_ascii_uppercase();
            let mut f = folder.lock().unwrap();
            let max = f.messages.last().map(|m| m.0).unwrap_or(0);
            for (seq, (uid, raw)) in f.messages.iter().enumerate() {
                if !in_set(set, *uid, max) {
                    continue;
                }
                let seq = seq + 1;
                if items.contains("RFC822.SIZE") {
                    out.extend_from_slice(
                        format!("* {seq} FETCH (UID {uid} RFC822.SIZE {})\r\n", raw.len())
                            .as_bytes(),
                    );
                } else if items.contains("BODY.PEEK[]") {
                    out.extend_from_slice(
                        format!("* {seq} FETCH (UID {uid} BODY[] {{{}}}\r\n", raw.len()).as_bytes(),
                    );
                    out.extend_from_slice(raw);
                    out.extend_from_slice(b")\r\n");
                }
            }
            if items.contains("BODY.PEEK[]") && !f.mid_import.is_empty() {
                for raw in std::mem::take(&mut f.mid_import) {
                    f.add(raw);
                }
                out.extend_from_slice(format!("* {} EXISTS\r\n", f.messages.len()).as_bytes());
            }
            out.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
        } else if upper.starts_with("IDLE") {
            folder.lock().unwrap().idles += 1;
            if w.write_all(b"+ idling\r\n").await.is_err() {
                return;
            }
            // Silent until DONE, whatever arrives.
            let mut done = String::new();
            loop {
                done.clear();
                if lines.read_line(&mut done).await.unwrap_or(0) == 0 {
                    return;
                }
                if done.trim().eq_ignore_ascii_case("DONE") {
                    break;
                }
            }
            out.extend_from_slice(format!("{tag} OK idle done\r\n").as_bytes());
        } else if upper.starts_with("NOOP") {
            out.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
        } else if upper.starts_with("LOGOUT") {
            let _ = w
                .write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())
                .await;
            return;
        } else {
            out.extend_from_slice(format!("{tag} BAD unknown command\r\n").as_bytes());
        }
        if w.write_all(&out).await.is_err() {
            return;
        }
    }
}
