//! Ignition's merge semantics for `ignition.config.merge`.
