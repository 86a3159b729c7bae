//! HTML email to plain text (SMS and chat channels, the composer's preview).
#![no_main]

use app::domain::html_text::{html_to_text, html_to_text_report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let _ = html_to_text_report(&html);
    let _ = html_to_text(&html);
});
