//! flint: Butane-compatible YAML to Ignition JSON.
