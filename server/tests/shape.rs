//! Tests of the code's shape rather than its behaviour: the two engines' migrations hold the
//! same schema, and no modules import each other in a circle.

mod migrations;
mod modules;
