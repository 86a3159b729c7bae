//! Every real message of the shared email corpus goes through `parse` without a panic or a
//! hang, gets a stable de-duplication key, and comes out with HTML that cannot run or load
//! anything.
//!
//! The corpus is `shared/corpus/eml/` beside the repository: set `CONVERGENCE_EML_CORPUS`, or it
//! is looked for at `$CARGO_MANIFEST_DIR/../../shared/corpus/eml` and `/work/shared/corpus/eml`.

use server::channels::email::parse::{self, AutoKind, Limits, ParsedEmail};
use server::channels::email::sanitize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn corpus_dir() -> PathBuf {
    let mut tried = Vec::new();
    if let Ok(p) = std::env::var("CONVERGENCE_EML_CORPUS") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return p;
        }
        tried.push(p);
    }
    for p in [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/eml"),
        PathBuf::from("/work/shared/corpus/eml"),
    ] {
        if p.is_dir() {
            return p;
        }
        tried.push(p);
    }
    panic!(
        "the email corpus was not found; tried: {} (set CONVERGENCE_EML_CORPUS)",
        tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `parse` on its own thread, catching panics, for at most five seconds.
fn parse_bounded(raw: Vec<u8>) -> Result<Result<ParsedEmail, parse::EmailError>, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| parse::parse(&raw, &Limits::default()));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(panic)) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Err(_) => Err("did not finish within 5 s".into()),
    }
}

/// The tags of serialised HTML (ammonia's output: attributes double-quoted, no comments).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let start = i;
            let mut quoted = false;
            while i < b.len() {
                match b[i] {
                    b'"' => quoted = !quoted,
                    b'>' if !quoted => break,
                    _ => {}
                }
                i += 1;
            }
            out.push(&html[start..i.min(html.len())]);
        }
        i += 1;
    }
    out
}

/// What must never be in sanitised HTML; `None` when it is clean.
fn html_problem(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<link",
        "<meta",
        "<base",
        "<style",
        "<svg",
        "<math",
    ] {
        if lower.contains(bad) {
            return Some(format!("contains {bad}"));
        }
    }
    for tag in tags(&lower) {
        // An attribute named on…= (an event handler).
        let b = tag.as_bytes();
        let mut quoted = false;
        for i in 0..b.len() {
            if b[i] == b'"' {
                quoted = !quoted;
            }
            if !quoted && i > 0 && b[i - 1].is_ascii_whitespace() && tag[i..].starts_with("on") {
                let name: String = tag[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                if name.len() > 2 && tag[i + name.len()..].trim_start().starts_with('=') {
                    return Some(format!("event handler in {tag}"));
                }
            }
        }
        if let Some(p) = tag.find("style=\"") {
            let v = &tag[p + 7..];
            let v = &v[..v.find('"').unwrap_or(v.len())];
            if v.contains("url(") {
                return Some(format!("url( in a style: {tag}"));
            }
        }
    }
    None
}

fn frame_problem(frame: &str) -> Option<String> {
    let lower = frame.to_ascii_lowercase();
    for bad in ["src=\"http", "src=\"//", "srcset", "background="] {
        if lower.contains(bad) {
            return Some(format!("frame contains {bad}"));
        }
    }
    None
}

#[test]
fn corpus_parses_safely() {
    let dir = corpus_dir();
    let files = eml_files(&dir);
    assert!(
        files.len() >= 100,
        "expected at least 100 .eml files in {}, found {}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    let (mut parsed, mut with_html, mut with_attachments, mut attachments) = (0, 0, 0, 0);
    let (mut bounces, mut auto, mut truncated) = (0, 0, 0);
    let mut errors = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let raw = std::fs::read(path).unwrap();
        let key = parse::dedupe_key(&raw);
        assert!(
            key.starts_with("mid:") || key.starts_with("sha256:"),
            "{name}: key {key}"
        );
        assert_eq!(key, parse::dedupe_key(&raw), "{name}: unstable key");
        match parse_bounded(raw) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(Err(e)) => {
                assert!(!e.0.trim().is_empty(), "{name}: an error without words");
                errors.push(format!("{name}: {e}"));
            }
            Ok(Ok(e)) => {
                parsed += 1;
                if let Some(html) = &e.html {
                    with_html += 1;
                    if let Some(p) = html_problem(html) {
                        failures.push(format!("{name}: {p}"));
                    }
                    let frame = sanitize::render_frame(html, false);
                    if let Some(p) = frame_problem(&frame.html) {
                        failures.push(format!("{name}: {p}"));
                    }
                }
                if !e.attachments.is_empty() {
                    with_attachments += 1;
                    attachments += e.attachments.len();
                }
                for a in &e.attachments {
                    let bad = a.filename.is_empty()
                        || a.filename.len() > 480
                        || a.filename.starts_with('.')
                        || a.filename
                            .chars()
                            .any(|c| c.is_control() || "\\/:*?\"<>|".contains(c));
                    if bad {
                        failures.push(format!("{name}: unsafe file name {:?}", a.filename));
                    }
                }
                bounces += e.bounce.is_some() as usize;
                auto += e.auto.is_some() as usize;
                truncated += !e.truncated.is_empty() as usize;
                if matches!(e.auto, Some(AutoKind::Bounce)) && e.bounce.is_none() {
                    println!("{name}: a bounce without a readable report");
                }
            }
        }
    }
    println!(
        "email corpus: {} files, {parsed} parsed, {} refused, {with_html} with HTML, \
         {with_attachments} with attachments ({attachments} in all), {bounces} bounces, \
         {auto} automatic, {truncated} truncated",
        files.len(),
        errors.len()
    );
    for e in &errors {
        println!("  refused: {e}");
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn checks_catch_what_they_should() {
    assert!(html_problem("<p onclick=\"x\">a</p>").is_some());
    assert!(html_problem("<p title=\"onclick=x\">a</p>").is_none());
    assert!(html_problem("<p style=\"background:url(x)\">a</p>").is_some());
    assert!(html_problem("<p>url( in text</p>").is_none());
    assert!(frame_problem("<img src=\"https://x\">").is_some());
}
