//! Promtail's command-line overrides of the config file: `-client.url`
//! and `-client.external-labels`.
//!
//! Promtail reads its flags after the file, into the legacy `client`
//! block, and then merges that block into `clients`: the flag's external
//! labels go to every client, under the client's own (the file wins on a
//! clash). vigil does the same, with one deliberate difference: Promtail
//! *adds* a client for `-client.url` when the file has `clients`, so the
//! agent would also keep pushing to the file's URL; vigil's `-client.url`
//! *replaces* it. The agent then pushes to exactly that URL, with the
//! settings of the legacy `client` block, else of the first of `clients`,
//! else the defaults. That is what the flag is used for: pointing a config
//! at another store.

use super::{Config, ConfigError};
use crate::entry::LabelSet;

/// The command line's say over the file.
///
/// What `vigil promtail` does with its flags:
///
/// ```
/// use agent::config::{Config, Overrides, parse_external_labels};
///
/// let text = "clients:\n  - url: http://loki:3100/loki/api/v1/push\n";
/// let mut config = Config::parse(text, "promtail.yaml")?;
/// config.apply(&Overrides {
///     client_url: Some("http://127.0.0.1:3100/loki/api/v1/push".into()),
///     client_external_labels: Some(parse_external_labels("host=web1,dc=eu")?),
/// });
/// config.validate(true)?; // true: reading --stdin
/// assert_eq!(config.clients.len(), 1);
/// assert_eq!(config.clients[0].external_labels["dc"], "eu");
/// # Ok::<(), agent::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `-client.url`: the one URL to push to.
    pub client_url: Option<String>,
    /// `-client.external-labels`: labels for every client, parsed with
    /// [`parse_external_labels`]; the file's labels win on a clash.
    pub client_external_labels: Option<LabelSet>,
}

/// Parses `-client.external-labels` as Promtail does: `k=v` alone is one
/// label whose value may hold commas (`a=b,c` is `a` = `b,c`); with more
/// than one `=`, the text is a CSV record of `k=v` fields (so a value with
/// a comma is quoted: `a=1,"b=x,y"`). Names must be valid label names.
pub fn parse_external_labels(text: &str) -> Result<LabelSet, ConfigError> {
    let invalid = |message: String| ConfigError::Flag {
        flag: "-client.external-labels",
        message,
    };
    let pairs = match text.matches('=').count() {
        0 => return Err(invalid(format!("{text} must be formatted as key=value"))),
        1 => vec![text.trim_matches('"').to_owned()],
        _ => csv_record(text).map_err(invalid)?,
    };
    let mut labels = LabelSet::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(invalid(format!("{pair} must be formatted as key=value")));
        };
        if !model::is_valid_label_name(name) {
            return Err(invalid(format!("invalid name {name:?}")));
        }
        labels.insert(name.to_owned(), value.to_owned());
    }
    Ok(labels)
}

/// The first record of a CSV text, as Go's `encoding/csv` reads it with
/// its defaults: fields split on commas, a field in double quotes may hold
/// commas and doubled quotes, a quote inside an unquoted field is an error.
fn csv_record(text: &str) -> Result<Vec<String>, String> {
    let line = text.lines().next().unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut field = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    Some((i, '"')) => {
                        if quoted[i + 1..].starts_with('"') {
                            field.push('"');
                            chars.next();
                        } else {
                            break &quoted[i + 1..];
                        }
                    }
                    Some((_, c)) => field.push(c),
                    None => return Err("extraneous or missing \" in quoted-field".to_owned()),
                }
            };
            fields.push(field);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(fields),
                None => return Err("extraneous or missing \" in quoted-field".to_owned()),
            }
        } else {
            let (field, next) = match rest.split_once(',') {
                Some((field, next)) => (field, Some(next)),
                None => (rest, None),
            };
            if field.contains('"') {
                return Err("bare \" in non-quoted-field".to_owned());
            }
            fields.push(field.to_owned());
            match next {
                Some(next) => rest = next,
                None => return Ok(fields),
            }
        }
    }
}

impl Config {
    /// Applies the command line's overrides (see [`Overrides`]). The
    /// clients are rebuilt from what the file says each time, so applying
    /// twice is applying the last.
    pub fn apply(&mut self, overrides: &Overrides) {
        let mut legacy = self.legacy_client.clone().unwrap_or_default();
        if let Some(labels) = &overrides.client_external_labels {
            // The flag fills the legacy block's labels, replacing them.
            legacy.external_labels = labels.clone();
        }
        let shared_labels = legacy.external_labels.clone();
        let mut clients = match &overrides.client_url {
            Some(url) => {
                let mut client = match (&self.legacy_client, self.file_clients.first()) {
                    (Some(_), _) => legacy,
                    (None, Some(first)) => first.clone(),
                    (None, None) => legacy,
                };
                client.url = url.clone();
                vec![client]
            }
            None => {
                let mut clients = self.file_clients.clone();
                if !legacy.url.is_empty() {
                    clients.push(legacy);
                }
                clients
            }
        };
        for client in &mut clients {
            merge_under(&mut client.external_labels, &shared_labels);
        }
        self.clients = clients;
    }
}

/// Adds `shared` labels that `own` does not set.
fn merge_under(own: &mut LabelSet, shared: &LabelSet) {
    for (name, value) in shared {
        own.entry(name.clone()).or_insert_with(|| value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;

    fn urls(clients: &[ClientConfig]) -> Vec<&str> {
        clients.iter().map(|c| c.url.as_str()).collect()
    }

    fn labels(text: &str) -> Result<Vec<(String, String)>, String> {
        parse_external_labels(text)
            .map(|l| l.into_iter().collect())
            .map_err(|e| e.to_string())
    }

    fn pairs(list: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
        Ok(list
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    #[test]
    fn one_pair_keeps_commas_in_its_value() {
        assert_eq!(labels("a=b"), pairs(&[("a", "b")]));
        assert_eq!(labels("a=b,c"), pairs(&[("a", "b,c")]));
        assert_eq!(labels("\"a=b\""), pairs(&[("a", "b")]));
        assert_eq!(labels("a="), pairs(&[("a", "")]));
    }

    #[test]
    fn several_pairs_are_a_csv_record() {
        assert_eq!(labels("a=1,b=2"), pairs(&[("a", "1"), ("b", "2")]));
        assert_eq!(labels("a=1,\"b=x,y\""), pairs(&[("a", "1"), ("b", "x,y")]));
        assert_eq!(
            labels("a=1,\"b=say \"\"hi\"\"\""),
            pairs(&[("a", "1"), ("b", "say \"hi\"")])
        );
    }

    #[test]
    fn malformed_labels_are_refused() {
        for text in [
            "",
            "abc",
            "a=1,b,c=2",
            "1a=x,b=2",
            "a-b=1",
            "a=1,b=\"2",
            "a=1,b\"=2",
        ] {
            assert!(labels(text).is_err(), "{text}");
        }
        assert_eq!(
            labels("abc").unwrap_err(),
            "invalid value for -client.external-labels: abc must be formatted as key=value"
        );
    }

    const TWO_CLIENTS: &str = "
clients:
  - url: http://a/push
    external_labels: {host: a}
  - url: http://b/push
    tenant_id: t
";

    #[test]
    fn the_url_flag_replaces_the_files_clients() {
        let mut config = Config::parse(TWO_CLIENTS, "p.yaml").unwrap();
        assert_eq!(urls(&config.clients), ["http://a/push", "http://b/push"]);
        config.apply(&Overrides {
            client_url: Some("http://127.0.0.1:3100/loki/api/v1/push".into()),
            ..Overrides::default()
        });
        assert_eq!(
            urls(&config.clients),
            ["http://127.0.0.1:3100/loki/api/v1/push"]
        );
        // The first client's settings are kept.
        assert_eq!(config.clients[0].external_labels["host"], "a");
    }

    #[test]
    fn the_url_flag_defines_a_client_with_the_defaults() {
        let mut config = Config::parse("positions: {filename: /tmp/p.yaml}\n", "p.yaml").unwrap();
        assert!(config.clients.is_empty());
        config.apply(&Overrides {
            client_url: Some("http://x/push".into()),
            ..Overrides::default()
        });
        let expected = ClientConfig {
            url: "http://x/push".into(),
            ..ClientConfig::default()
        };
        assert_eq!(config.clients, [expected]);
    }

    #[test]
    fn the_url_flag_fills_the_legacy_client_block() {
        let mut config = Config::parse("client:\n  tenant_id: team\n", "p.yaml").unwrap();
        assert!(
            config.clients.is_empty(),
            "a client block without url pushes nowhere"
        );
        config.apply(&Overrides {
            client_url: Some("http://x/push".into()),
            ..Overrides::default()
        });
        assert_eq!(config.clients[0].tenant_id, "team");
        assert_eq!(config.clients[0].url, "http://x/push");
    }

    #[test]
    fn external_labels_go_under_each_clients_own() {
        let mut config = Config::parse(TWO_CLIENTS, "p.yaml").unwrap();
        config.apply(&Overrides {
            client_external_labels: Some(parse_external_labels("host=cli,env=dev").unwrap()),
            ..Overrides::default()
        });
        assert_eq!(config.clients[0].external_labels["host"], "a");
        assert_eq!(config.clients[0].external_labels["env"], "dev");
        assert_eq!(config.clients[1].external_labels["host"], "cli");
    }

    #[test]
    fn the_legacy_blocks_labels_go_to_every_client_unless_the_flag_replaces_them() {
        let text = format!("{TWO_CLIENTS}client:\n  external_labels: {{dc: eu, host: legacy}}\n");
        let mut config = Config::parse(&text, "p.yaml").unwrap();
        assert_eq!(config.clients.len(), 2);
        assert_eq!(config.clients[0].external_labels["dc"], "eu");
        assert_eq!(config.clients[0].external_labels["host"], "a");
        assert_eq!(config.clients[1].external_labels["host"], "legacy");
        config.apply(&Overrides {
            client_external_labels: Some(parse_external_labels("zone=z1").unwrap()),
            ..Overrides::default()
        });
        assert!(!config.clients[1].external_labels.contains_key("dc"));
        assert_eq!(config.clients[1].external_labels["zone"], "z1");
    }

    #[test]
    fn a_legacy_client_with_a_url_is_added_after_the_clients() {
        let text = format!("{TWO_CLIENTS}client:\n  url: http://c/push\n");
        let config = Config::parse(&text, "p.yaml").unwrap();
        assert_eq!(
            urls(&config.clients),
            ["http://a/push", "http://b/push", "http://c/push"]
        );
    }
}
