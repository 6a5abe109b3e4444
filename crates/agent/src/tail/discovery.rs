//! Finding the files of a target: its `__path__` glob (with `**`) minus its
//! `__path_exclude__` glob, as Promtail's file target does with doublestar.
//!
//! The glob is matched by `globset` against the paths a directory walk
//! finds under the pattern's literal prefix; the walk goes only as deep as
//! the pattern can match unless it has a `**`.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// A compiled `__path__` or `__path_exclude__` pattern.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pattern: String,
    matcher: GlobMatcher,
    /// The deepest directory without glob characters.
    root: PathBuf,
    /// How many components below `root` a match can be, when bounded.
    depth: Option<usize>,
}

/// A pattern globset cannot compile.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid path glob {pattern:?}: {message}")]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub message: String,
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{', '\\'])
}

impl PathGlob {
    /// Compiles `pattern`; a relative one is taken from the current
    /// directory, as Promtail makes its matches absolute.
    pub fn new(pattern: &str) -> Result<PathGlob, GlobError> {
        let absolute = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            std::env::current_dir()
                .unwrap_or_else(|_| PathBuf::from("/"))
                .join(pattern)
        };
        let text = absolute.to_string_lossy().into_owned();
        let matcher = GlobBuilder::new(&text)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| GlobError {
                pattern: pattern.to_owned(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        let mut root = PathBuf::new();
        let mut rest = Vec::new();
        for component in absolute.components() {
            let part = component.as_os_str().to_string_lossy();
            if rest.is_empty() && !has_meta(&part) {
                root.push(component);
            } else {
                rest.push(component);
            }
        }
        let depth = if rest
            .iter()
            .any(|c| matches!(c, Component::Normal(s) if s.to_string_lossy().contains("**")))
        {
            None
        } else {
            Some(rest.len())
        };
        Ok(PathGlob {
            pattern: text,
            matcher,
            root,
            depth,
        })
    }

    /// The pattern, made absolute.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The regular files matching now, sorted. A pattern without glob
    /// characters names one file, matched when it exists.
    pub fn matches(&self) -> Vec<String> {
        if self.depth == Some(0) {
            return match std::fs::metadata(&self.root) {
                Ok(m) if m.is_file() => vec![self.pattern.clone()],
                _ => Vec::new(),
            };
        }
        let mut walk = walkdir::WalkDir::new(&self.root)
            .follow_links(true)
            .min_depth(1);
        if let Some(depth) = self.depth {
            walk = walk.max_depth(depth);
        }
        let mut out: Vec<String> = walk
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && self.matcher.is_match(e.path()))
            .map(|e| e.path().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }
}

/// The files of a target now: matches of `path` that `exclude` does not
/// match.
pub fn discover(path: &PathGlob, exclude: Option<&PathGlob>) -> Vec<String> {
    let mut found = path.matches();
    if let Some(exclude) = exclude {
        let excluded = exclude.matches();
        found.retain(|p| excluded.binary_search(p).is_err());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x\n").unwrap();
        }
        dir
    }

    fn check(files: &[&str], pattern: &str, exclude: Option<&str>, want: &[&str]) {
        let dir = tree(files);
        let base = dir.path().to_string_lossy().into_owned();
        let glob = PathGlob::new(&format!("{base}/{pattern}")).unwrap();
        let exclude = exclude.map(|e| PathGlob::new(&format!("{base}/{e}")).unwrap());
        let got = discover(&glob, exclude.as_ref());
        let want: Vec<String> = want.iter().map(|w| format!("{base}/{w}")).collect();
        assert_eq!(got, want, "{pattern}");
    }

    #[test]
    fn globs_match_as_doublestar_does() {
        let files = [
            "a.log",
            "b.txt",
            "sub/c.log",
            "sub/deep/d.log",
            ".hidden.log",
        ];
        check(&files, "*.log", None, &[".hidden.log", "a.log"]);
        check(
            &files,
            "**/*.log",
            None,
            &[".hidden.log", "a.log", "sub/c.log", "sub/deep/d.log"],
        );
        check(
            &files,
            "sub/**/*.log",
            None,
            &["sub/c.log", "sub/deep/d.log"],
        );
        check(&files, "*/*.log", None, &["sub/c.log"]);
        check(&files, "{a,b}.*", None, &["a.log", "b.txt"]);
        check(&files, "[ab].log", None, &["a.log"]);
        check(&files, "a.log", None, &["a.log"]);
        check(&files, "missing.log", None, &[]);
    }

    #[test]
    fn excluded_paths_are_left_out() {
        let files = ["a.log", "b.log", "sub/c.log"];
        check(&files, "**/*.log", Some("b.log"), &["a.log", "sub/c.log"]);
        check(&files, "**/*.log", Some("sub/*"), &["a.log", "b.log"]);
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        assert!(PathGlob::new("/var/log/[a.log").is_err());
    }
}
