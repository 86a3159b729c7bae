//! The HTML email sanitiser on its own (the email parser reaches it only through MIME), and the
//! display-time steps run on its output: Content-ID rewriting and the message frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::channels::email::sanitize;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let (clean, _note) = sanitize::sanitize_with_note(&html);
    let clean = sanitize::rewrite_cid(&clean, &|cid: &str| {
        (cid.len() % 2 == 0).then(|| format!("/attachments/{}", cid.len()))
    });
    let _ = sanitize::render_frame(&clean, data.first().is_some_and(|b| b & 1 == 1));
});
