//! The Convergence server, the product: the command line (`cli`), the HTTP edge (`http`), the
//! channel adapters (`channels`), the background workers (`workers`), the leases that keep
//! singleton work to one process (`leases`) and how they are started together (`startup`).
//! The browser app, the use cases and storage are the `app` crate.

pub mod channels;
pub mod cli;
pub mod delivery;
pub mod demo_data;
pub mod http;
pub mod leases;
pub mod startup;
pub mod workers;

/// What a caught panic said (its `&str` or `String` payload), for the log and for the words
/// that report it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
