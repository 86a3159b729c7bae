//! Safe attachment file names.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// File names.

pub(super) fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => ".png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/bmp" => ".bmp",
        "image/tiff" => ".tif",
        "image/svg+xml" => ".svg",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "application/json" => ".json",
        "application/msword" => ".doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => ".docx",
        "application/vnd.ms-excel" => ".xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => ".xlsx",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "text/csv" => ".csv",
        "text/calendar" => ".ics",
        "text/enriched" => ".txt",
        "message/rfc822" => ".eml",
        "audio/mpeg" | "audio/mp3" => ".mp3",
        "audio/basic" => ".au",
        "audio/wav" | "audio/x-wav" => ".wav",
        "video/mp4" => ".mp4",
        "video/avi" | "video/x-msvideo" => ".avi",
        _ => ".bin",
    }
}

/// A file name safe in a Content-Disposition header and on any file system: its last path
/// component, without control, format or reserved characters, whitespace collapsed, no leading
/// dots, at most 120 characters with the extension kept; else `attachment-N.<ext>`.
pub fn safe_filename(name: &str, n: usize, content_type: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .find(|c| !c.trim().is_empty())
        .unwrap_or("");
    let mut out = String::new();
    let mut space = false;
    for c in last.chars() {
        if c.is_control() || is_format_char(c) || "\\/:*?\"<>|".contains(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    let out = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if out.is_empty() {
        return format!("attachment-{n}{}", extension_for(content_type));
    }
    if out.chars().count() <= MAX_FILENAME_CHARS {
        return out.to_string();
    }
    let ext = out
        .rfind('.')
        .map(|i| &out[i..])
        .filter(|e| e.chars().count() <= 16 && !e.contains(' '))
        .unwrap_or("");
    let stem_len = MAX_FILENAME_CHARS - ext.chars().count();
    let stem: String = out.chars().take(stem_len).collect();
    format!("{}{ext}", stem.trim_end_matches(['.', ' ']))
}
