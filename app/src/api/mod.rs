//! Server functions, grouped by domain. Each one authorises the caller on the server first,
//! then calls a use case in `service` (or a store function, for a plain read or write of one
//! table group). No wire type is defined here: they are in `model`. Endpoints are fixed
//! (`/api/...`) so tests and the permissions table can name them.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod canned;
pub mod channels;
pub mod codec;
pub mod consent;
pub mod conversation;
pub mod customers;
pub mod delivery;
pub mod failed;
pub mod inbox;
pub mod labels;
pub mod playground;
pub mod presence;
pub mod providers;
pub mod reports;
pub mod search;
pub mod two_factor;
pub mod views;
pub mod zone;
