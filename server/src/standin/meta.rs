//! The meta stand-in (see the module above).

use super::StandIn;
use axum::Router;

pub fn routes() -> Router<StandIn> {
    Router::new()
}
