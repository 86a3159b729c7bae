//! The client bundle (wasm, JS, CSS) is served pre-compressed with brotli at its highest
//! quality: it is compressed once, in the background at start-up, instead of at a low
//! quality on every request.

use std::io::Write;
use std::path::{Path, PathBuf};

const EXTENSIONS: &[&str] = &["wasm", "js", "css"];

/// Where cargo-leptos puts the bundle: `<site-root>/<site-pkg-dir>`.
pub fn pkg_dir(options: &leptos::config::LeptosOptions) -> PathBuf {
    Path::new(&*options.site_root).join(&*options.site_pkg_dir)
}

/// Writes `FILE.br` next to every bundle file in `dir` whose `.br` is missing or older, when
/// `compress` is set (release builds). Without it (debug builds, whose bundle is large and
/// changes often) stale `.br` files are only removed, so an old bundle is never served.
/// Returns the files compressed.
pub fn precompress_dir(dir: &Path, compress: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut done = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !EXTENSIONS.contains(&ext) {
            continue;
        }
        let br = path.with_extension(format!("{ext}.br"));
        let fresh = match (
            std::fs::metadata(&path)?.modified(),
            std::fs::metadata(&br).and_then(|m| m.modified()),
        ) {
            (Ok(src), Ok(dst)) => dst >= src,
            _ => false,
        };
        if fresh {
            continue;
        }
        if !compress {
            if br.exists() {
                std::fs::remove_file(&br)?;
            }
            continue;
        }
        let data = std::fs::read(&path)?;
        let tmp = path.with_extension(format!("{ext}.br.tmp"));
        {
            let file = std::fs::File::create(&tmp)?;
            let mut w = brotli::CompressorWriter::new(file, 64 * 1024, 11, 22);
            w.write_all(&data)?;
            w.flush()?;
        }
        std::fs::rename(&tmp, &br)?;
        done.push(path);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn compresses_bundle_files_once_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("convergence_assets_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let body = "fn main() { println!(\"hello\"); }\n".repeat(200);
        std::fs::write(dir.join("app.js"), &body).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a bundle file").unwrap();
        assert!(
            precompress_dir(&dir, false).unwrap().is_empty(),
            "nothing compressed in debug mode"
        );
        assert!(!dir.join("app.js.br").exists());
        let first = precompress_dir(&dir, true).unwrap();
        assert_eq!(first, vec![dir.join("app.js")]);
        assert!(!dir.join("notes.txt.br").exists());
        let mut out = String::new();
        brotli::Decompressor::new(std::fs::File::open(dir.join("app.js.br")).unwrap(), 4096)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert!(std::fs::metadata(dir.join("app.js.br")).unwrap().len() < body.len() as u64 / 5);
        assert!(
            precompress_dir(&dir, true).unwrap().is_empty(),
            "up-to-date files are left alone"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
