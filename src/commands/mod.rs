//! One module per subcommand.

pub mod stage;
pub mod translate;
pub mod validate;
pub mod verify;
