//! Scalars of promtail-config.yaml that Promtail reads with Go's yaml.v2
//! into Go types: strings, label sets. (`time.Duration` is
//! [`gocompat::yaml::GoDuration`].)
//!
//! A Go string takes any scalar as written (`tenant_id: 42`), and a
//! Prometheus label set refuses names outside `[a-zA-Z_][a-zA-Z0-9_]*` and
//! reads a missing value as the empty string.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::entry::LabelSet;

/// A Go string: any scalar, as written; a missing value is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoString(pub(crate) String);

impl<'de> Deserialize<'de> for GoString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // yaml_serde hands a plain scalar to a `String` as its text
        // (`1.50` stays `1.50`), which is what yaml.v2 does.
        Option::<String>::deserialize(deserializer).map(|s| GoString(s.unwrap_or_default()))
    }
}

/// A Prometheus label set (`model.LabelSet`): names checked, values any
/// scalar, a missing value empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelMap(pub(crate) LabelSet);

impl<'de> Deserialize<'de> for LabelMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = LabelMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of label names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<LabelMap, E> {
                Ok(LabelMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelMap, A::Error> {
                let mut labels = LabelSet::new();
                while let Some(name) = map.next_key::<GoString>()? {
                    let value = map.next_value::<GoString>()?;
                    if !model::is_valid_label_name(&name.0) {
                        return Err(de::Error::custom(format!(
                            "{:?} is not a valid label name",
                            name.0
                        )));
                    }
                    labels.insert(name.0, value.0);
                }
                Ok(LabelMap(labels))
            }
        }
        deserializer.deserialize_any(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_maps_check_names_and_keep_empty_values() {
        let read = |text: &str| yaml_serde::from_str::<LabelMap>(text).map(|m| m.0);
        let labels = read("{a: 1, b: , c: x}").unwrap();
        assert_eq!(labels["a"], "1");
        assert_eq!(labels["b"], "");
        assert!(read("{1a: x}").is_err());
        assert!(read("{a-b: x}").is_err());
    }
}
