//! The Dockerfile's stages and the `.dockerignore` patterns, read as the
//! builder reads them, for the checks in `deploy.rs`.

use super::{DOCKERFILE, repo};

/// One `FROM` stage of the Dockerfile.
#[derive(Debug)]
pub(crate) struct Stage {
    pub(crate) from: String,
    pub(crate) name: Option<String>,
    /// `COPY`/`ADD` lines: (`--from` value, sources).
    pub(crate) copies: Vec<(Option<String>, Vec<String>)>,
    pub(crate) runs: Vec<String>,
    pub(crate) workdir: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) expose: Vec<u16>,
    pub(crate) entrypoint: Option<String>,
    /// `CMD` in exec form: the arguments vigil runs with by default.
    pub(crate) cmd: Option<Vec<String>>,
}

pub(crate) struct Dockerfile {
    pub(crate) stages: Vec<Stage>,
}

impl Dockerfile {
    /// Reads the Dockerfile's instructions, joining continued lines.
    pub(crate) fn read() -> Dockerfile {
        let text = std::fs::read_to_string(repo().join(DOCKERFILE))
            .unwrap_or_else(|e| panic!("{DOCKERFILE}: {e}"));
        let mut instructions = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
                continue;
            }
            if trimmed.starts_with('#') {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(head) => {
                    current.push_str(head);
                    current.push(' ');
                }
                None => {
                    current.push_str(trimmed);
                    instructions.push(std::mem::take(&mut current));
                }
            }
        }
        let mut stages: Vec<Stage> = Vec::new();
        for instruction in instructions {
            let (keyword, rest) = instruction
                .split_once(char::is_whitespace)
                .unwrap_or((&instruction, ""));
            let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
            match keyword.to_ascii_uppercase().as_str() {
                "FROM" => {
                    let from = words
                        .iter()
                        .find(|w| !w.starts_with("--"))
                        .cloned()
                        .unwrap_or_default();
                    let name = words
                        .iter()
                        .position(|w| w.eq_ignore_ascii_case("as"))
                        .and_then(|i| words.get(i + 1).cloned());
                    stages.push(Stage {
                        from,
                        name,
                        copies: Vec::new(),
                        runs: Vec::new(),
                        workdir: None,
                        user: None,
                        expose: Vec::new(),
                        entrypoint: None,
                        cmd: None,
                    });
                }
                other => {
                    let stage = stages
                        .last_mut()
                        .unwrap_or_else(|| panic!("{DOCKERFILE}: {other} before any FROM"));
                    match other {
                        "COPY" | "ADD" => {
                            let from = words
                                .iter()
                                .find_map(|w| w.strip_prefix("--from="))
                                .map(str::to_owned);
                            let paths: Vec<String> = words
                                .iter()
                                .filter(|w| !w.starts_with("--"))
                                .cloned()
                                .collect();
                            let sources = paths[..paths.len().saturating_sub(1)].to_vec();
                            stage.copies.push((from, sources));
                        }
                        "RUN" => stage.runs.push(rest.to_owned()),
                        "WORKDIR" => stage.workdir = Some(rest.trim().to_owned()),
                        "USER" => stage.user = Some(rest.trim().to_owned()),
                        "EXPOSE" => stage.expose.extend(
                            words
                                .iter()
                                .filter_map(|w| w.split('/').next()?.parse::<u16>().ok()),
                        ),
                        "ENTRYPOINT" => stage.entrypoint = Some(rest.trim().to_owned()),
                        "CMD" => stage.cmd = serde_json::from_str(rest.trim()).ok(),
                        _ => {}
                    }
                }
            }
        }
        Dockerfile { stages }
    }

    /// The repository paths the build copies from its context.
    pub(crate) fn context_sources(&self) -> Vec<String> {
        self.stages
            .iter()
            .flat_map(|s| s.copies.iter())
            .filter(|(from, _)| from.is_none())
            .flat_map(|(_, sources)| sources.iter().cloned())
            .collect()
    }
}

/// The `.dockerignore` patterns at the root of the build context.
pub(crate) fn dockerignore() -> Vec<String> {
    std::fs::read_to_string(repo().join(".dockerignore"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Whether `.dockerignore` leaves `path` (relative to the context) out:
/// literal patterns match the path or a parent, `**/name` any component,
/// a trailing `*` any continuation of the component.
pub(crate) fn ignored(path: &str, patterns: &[String]) -> bool {
    let components: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    patterns
        .iter()
        .filter(|p| !p.starts_with('!'))
        .any(|pattern| {
            let component_matches = |pattern: &str, name: &str| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => pattern == name,
            };
            if let Some(name) = pattern.strip_prefix("**/") {
                return components.iter().any(|c| component_matches(name, c));
            }
            let parts: Vec<&str> = pattern.split('/').collect();
            parts.len() <= components.len()
                && parts
                    .iter()
                    .zip(&components)
                    .all(|(p, c)| component_matches(p, c))
        })
}
