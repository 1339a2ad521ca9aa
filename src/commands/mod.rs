//! One module per subcommand.

pub mod stage;
pub mod validate;
pub mod verify;
