//! The `tenant` stage: the tenant of an entry, set through the reserved
//! `__tenant_id__` label that the client turns into `X-Scope-OrgID`.

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};
use crate::entry::TENANT_LABEL;

/// Where the tenant comes from: exactly one of `source`, `label`, `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantConfig {
    /// An extracted value.
    Source(String),
    /// A label of the entry.
    Label(String),
    /// A fixed tenant.
    Value(String),
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawTenantConfig {
    #[serde(default)]
    label: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    value: String,
}

impl TryFrom<RawTenantConfig> for TenantConfig {
    type Error = ConfigError;
    fn try_from(raw: RawTenantConfig) -> Result<Self, ConfigError> {
        let set = [&raw.source, &raw.label, &raw.value]
            .iter()
            .filter(|s| !s.is_empty())
            .count();
        match set {
            0 => Err(ConfigError::Invalid(
                "label, source or value config are required",
            )),
            1 if !raw.source.is_empty() => Ok(Self::Source(raw.source)),
            1 if !raw.label.is_empty() => Ok(Self::Label(raw.label)),
            1 => Ok(Self::Value(raw.value)),
            _ => Err(ConfigError::Invalid(
                "label, source and value are mutually exclusive: you should set source, value or label but not all",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for TenantConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawTenantConfig::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

impl StageOptions for TenantConfig {
    type Raw = RawTenantConfig;
    fn from_raw(raw: RawTenantConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        RawTenantConfig::default().try_into()
    }
}

/// The built stage.
#[derive(Debug)]
pub struct TenantStage {
    cfg: TenantConfig,
}

impl TenantStage {
    /// The stage for `cfg`.
    pub fn new(cfg: TenantConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for TenantStage {
    fn name(&self) -> &'static str {
        "tenant"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let tenant = match &self.cfg {
            TenantConfig::Source(key) => e
                .extracted
                .get(key)
                .and_then(get_string)
                .map(|s| s.into_owned()),
            TenantConfig::Label(name) => e.entry.labels.get(name).cloned(),
            TenantConfig::Value(v) => Some(v.clone()),
        };
        // An empty tenant (not found) leaves the entry's tenant alone.
        if let Some(t) = tenant.filter(|t| !t.is_empty()) {
            e.entry.labels.insert(TENANT_LABEL.to_owned(), t);
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;
    use serde_json::json;

    fn tenant_after(
        cfg: TenantConfig,
        label: Option<(&str, &str)>,
        extracted: Option<(&str, serde_json::Value)>,
    ) -> Option<String> {
        let mut e = entry("x");
        if let Some((k, v)) = label {
            e.entry.labels.insert(k.into(), v.into());
        }
        if let Some((k, v)) = extracted {
            e.extracted.insert(k.into(), v);
        }
        let mut out = Vec::new();
        TenantStage::new(cfg).process(e, 0, &mut out);
        out[0].entry.labels.get(TENANT_LABEL).cloned()
    }

    #[test]
    fn from_a_value() {
        assert_eq!(
            tenant_after(TenantConfig::Value("t1".into()), None, None).as_deref(),
            Some("t1")
        );
    }

    #[test]
    fn from_a_source() {
        let got = tenant_after(
            TenantConfig::Source("org".into()),
            None,
            Some(("org", json!("t2"))),
        );
        assert_eq!(got.as_deref(), Some("t2"));
        assert_eq!(
            tenant_after(TenantConfig::Source("org".into()), None, None),
            None
        );
    }

    #[test]
    fn from_a_label() {
        let got = tenant_after(
            TenantConfig::Label("team".into()),
            Some(("team", "t3")),
            None,
        );
        assert_eq!(got.as_deref(), Some("t3"));
    }

    #[test]
    fn exactly_one_option() {
        let parse = |y: &str| yaml_serde::from_str::<TenantConfig>(y).map_err(|e| e.to_string());
        assert_eq!(parse("source: a"), Ok(TenantConfig::Source("a".into())));
        assert!(parse("{}").is_err_and(|e| e.contains("required")));
        assert!(parse("{source: a, value: b}").is_err_and(|e| e.contains("mutually exclusive")));
    }
}
