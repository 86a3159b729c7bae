//! Data shapes that cross the wire between server functions and the browser, by feature.
//! None of them carries a secret: password hashes and channel credentials live in
//! server-only row types. Every shape is re-exported here, so `crate::model::X` names it
//! whatever its file.

pub mod audit;
pub mod campaigns;
pub mod channels;
pub mod consent;
pub mod conversation;
pub mod customers;
pub mod inbox;
pub mod live;
pub mod organise;
pub mod playground;
pub mod providers;
pub mod reports;
pub mod users;

pub use audit::*;
pub use campaigns::*;
pub use channels::*;
pub use consent::*;
pub use conversation::*;
pub use customers::*;
pub use inbox::*;
pub use live::*;
pub use organise::*;
pub use playground::*;
pub use providers::*;
pub use reports::*;
pub use users::*;
