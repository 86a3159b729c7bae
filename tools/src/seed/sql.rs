//! SQL rendering: multi-row INSERT statements sent to the loader in batches, and literals.

use super::load::Batch;
use super::ROWS_PER_INSERT;
use std::fmt::Write as _;
use tokio::sync::mpsc;

/// The loader has gone away (it failed, or the run was abandoned).
#[derive(Debug)]
pub(super) struct Stopped;
impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("loading stopped")
    }
}

pub(super) struct Writer<'a> {
    tx: &'a mpsc::Sender<Batch>,
    table: &'static str,
    total: usize,
    header: &'static str,
    buf: String,
    rows: usize,
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        tx: &'a mpsc::Sender<Batch>,
        table: &'static str,
        total: usize,
        header: &'static str,
    ) -> Self {
        Writer {
            tx,
            table,
            total,
            header,
            buf: String::new(),
            rows: 0,
        }
    }

    /// Starts a row; the caller appends `( ... )`.
    pub(super) fn row(&mut self) -> &mut String {
        if self.rows == 0 {
            self.buf.reserve(ROWS_PER_INSERT * 256);
            self.buf.push_str(self.header);
        } else {
            self.buf.push(',');
        }
        self.rows += 1;
        &mut self.buf
    }

    pub(super) fn end_row(&mut self) -> Result<(), Stopped> {
        if self.rows >= ROWS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<(), Stopped> {
        if self.rows > 0 {
            let sql = std::mem::take(&mut self.buf);
            let batch = Batch {
                table: self.table,
                rows: self.rows,
                total: self.total,
                sql,
            };
            self.rows = 0;
            self.tx.blocking_send(batch).map_err(|_| Stopped)?;
        }
        Ok(())
    }
}

/// Appends `s` as an SQL string literal.
pub(super) fn lit(out: &mut String, s: &str) {
    out.push('\'');
    if s.contains('\'') {
        out.push_str(&s.replace('\'', "''"));
    } else {
        out.push_str(s);
    }
    out.push('\'');
}

pub(super) fn opt_lit(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => lit(out, s),
        None => out.push_str("NULL"),
    }
}

pub(super) fn opt_num(out: &mut String, n: Option<i64>) {
    match n {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("NULL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped() {
        let mut s = String::new();
        lit(&mut s, "it's");
        assert_eq!(s, "'it''s'");
        opt_lit(&mut s, None);
        assert_eq!(s, "'it''s'NULL");
    }
}
