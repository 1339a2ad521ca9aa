//! Deserialization helpers that mirror how Ignition's Go decoder treats `null`.

use serde::{Deserialize, Deserializer};

/// `null` becomes the type's default, as a JSON null leaves a Go value at its zero value.
pub(crate) fn nullable<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// For `skip_serializing_if`: leave out values that mean "not set".
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
