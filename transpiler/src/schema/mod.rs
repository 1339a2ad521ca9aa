//! The Butane dialect as data: every object, its fields, their YAML and JSON names, their
//! types, and the spec versions that have them. Decoding, version gating, key renaming,
//! output key order and the published JSON Schema are all driven by this one table.

mod json_schema;
mod tables;

pub use json_schema::{json_schema, json_schema_text};
pub use tables::ROOT;

use crate::variant::{Dialect, Variant};

/// The type of a field's value.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    List(&'static Ty),
    Obj(&'static Obj),
}

/// An object type. `name` identifies it to the code that desugars or checks it.
#[derive(Debug)]
pub struct Obj {
    pub name: &'static str,
    pub fields: &'static [Field],
}

/// Which dialects have a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Always,
    /// Base level (emitted Ignition minor) at least this.
    Since(u8),
    /// Base level below this.
    Until(u8),
    /// The fcos variant from this minor version on.
    Fcos(u8),
}

#[derive(Debug)]
pub struct Field {
    /// The key in the YAML source.
    pub yaml: &'static str,
    /// The key in the Ignition output, or `None` for sugar that does not appear there.
    pub json: Option<&'static str>,
    pub ty: Ty,
    pub gate: Gate,
    /// Listed as required in the JSON Schema.
    pub required: bool,
    pub doc: &'static str,
}

impl Gate {
    pub fn allows(self, dialect: Dialect) -> bool {
        match self {
            Gate::Always => true,
            Gate::Since(level) => dialect.level() >= level,
            Gate::Until(level) => dialect.level() < level,
            Gate::Fcos(minor) => dialect.variant == Variant::Fcos && dialect.minor >= minor,
        }
    }
}

impl Obj {
    /// The field a YAML key names in this dialect.
    pub fn yaml_field(&self, key: &str, dialect: Dialect) -> Option<&'static Field>
    where
        Self: 'static,
    {
        self.fields
            .iter()
            .find(|f| f.yaml == key && f.gate.allows(dialect))
    }

    /// The field a JSON key names (for output ordering and navigation).
    pub fn json_field(&'static self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.json == Some(key))
    }

    /// Where a JSON key goes in Ignition's own field order.
    pub fn json_rank(&'static self, key: &str) -> usize {
        self.fields
            .iter()
            .position(|f| f.json == Some(key))
            .unwrap_or(usize::MAX)
    }
}

impl Ty {
    /// The object type of a field, looking through one list level.
    pub fn obj(self) -> Option<&'static Obj> {
        match self {
            Ty::Obj(o) => Some(o),
            Ty::List(Ty::Obj(o)) => Some(o),
            _ => None,
        }
    }
}
