//! Figures the benchmark commands print.

/// Nearest-rank percentile of `sorted` (ascending): the smallest value such that at least `p`
/// percent of the values are less than or equal to it. 0 for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let n = sorted.len();
    let rank = (p.clamp(0.0, 100.0) * n as f64 / 100.0 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}
