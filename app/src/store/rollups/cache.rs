//! Parsed rows kept by this process, by (day, metric), with the version they were read at.
//! Each write gives a row a new random 63-bit version ([`super::put_entries`]), so a version read from
//! the table says whether the parsed copy still holds (in any process, on either engine); rows of
//! version 0 (placeholders in a writer's transaction) are never kept. Bounded: when the values
//! kept would pass [`CACHE_VALUES`], everything is dropped and read again as needed.

use super::RowEntries;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// At most this many values (and entries) are kept: 4M, about 40 MB.
pub const CACHE_VALUES: usize = 4_000_000;

/// Rows by metric, then day (looked up by `&str`, no allocation).
#[derive(Default)]
struct Cache {
    rows: HashMap<String, HashMap<i64, (i64, RowEntries, usize)>>,
    size: usize,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn size_of(rows: &RowEntries) -> usize {
    rows.iter().map(|(_, f)| 1 + f.vals.len()).sum()
}

/// The parsed rows of `keys` (day, metric, version) this process holds at that version,
/// `None` for the others, in the same order; one lock for all.
pub fn get_all(keys: &[(i64, String, i64)]) -> Vec<Option<RowEntries>> {
    let c = cache().lock().unwrap_or_else(|e| e.into_inner());
    keys.iter()
        .map(|(day, metric, version)| {
            if *version == 0 {
                return None;
            }
            c.rows
                .get(metric.as_str())?
                .get(day)
                .filter(|(v, ..)| v == version)
                .map(|(_, rows, _)| rows.clone())
        })
        .collect()
}

pub fn put(day: i64, metric: &str, version: i64, rows: &RowEntries) {
    if version == 0 {
        return;
    }
    let size = size_of(rows);
    if size > CACHE_VALUES / 4 {
        return;
    }
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.size + size > CACHE_VALUES {
        c.rows.clear();
        c.size = 0;
    }
    let old = c
        .rows
        .entry(metric.to_string())
        .or_default()
        .insert(day, (version, rows.clone(), size));
    if let Some((.., old)) = old {
        c.size -= old;
    }
    c.size += size;
}
