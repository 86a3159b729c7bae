//! The Convergence server: configuration, HTTP routes, channel adapters and background workers.

pub mod assets;
pub mod channels;
pub mod config;
pub mod csrf;
pub mod demo;
pub mod routes;
pub mod startup;
pub mod workers;
