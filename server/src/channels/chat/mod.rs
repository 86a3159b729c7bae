//! Website chat (issue 16): the widget's tokens and the site's identity check. The widget, its
//! stream and the adapter come next; see `app::domain::chat_origin` for the allowed origins.

pub mod token;
