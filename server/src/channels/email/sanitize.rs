//! HTML email made safe to show: a tight ammonia allow-list, quoted history folded behind
//! "Show quoted text", and the Content-Security-Policy of the frame that shows it.

/// Sanitises `html` (no scripts, event handlers, forms, frames, styles that load anything).
pub fn sanitize(html: &str) -> String {
    let _ = html;
    unimplemented!("helper")
}

/// Replaces `src="cid:…"` in sanitised HTML with URLs from `resolve` (unresolved ones are
/// dropped).
pub fn rewrite_cid(html: &str, resolve: &dyn Fn(&str) -> Option<String>) -> String {
    let _ = (html, resolve);
    unimplemented!("helper")
}

/// A complete HTML document around sanitised `body`, for the message frame.
pub fn frame_document(body: &str) -> String {
    let _ = body;
    unimplemented!("helper")
}

/// The CSP of the message frame; remote images only when the agent asked for them.
pub fn frame_csp(remote_images: bool) -> String {
    let _ = remote_images;
    unimplemented!("helper")
}
