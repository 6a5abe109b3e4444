//! The unit the agent moves: a log entry with its labels, and the receipt
//! that ties it back to the bytes it was read from.
//!
//! Positions advance only over acknowledged lines. The tailer gives every
//! line it reads a [`Receipt`]; the entry carries it through the pipeline
//! (an entry made of several lines, as `multiline` makes, carries all of
//! theirs) and every client holds a clone until the store has acknowledged
//! the batch, or the client has given up on it. When the last clone is
//! dropped, the line counts as done, and the tailer may record the offset
//! after it. An entry a stage drops releases its receipt at once.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Labels of an entry, sorted by name. Names starting with `__` are
/// Promtail's reserved ones (`__path__`, `__tenant_id__`, …): the client
/// removes them before it pushes, except `__tenant_id__`, which chooses
/// the tenant.
pub type LabelSet = BTreeMap<String, String>;

/// The reserved label whose value a client sends as `X-Scope-OrgID`.
pub const TENANT_LABEL: &str = "__tenant_id__";

/// One log entry on its way to the stores.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The stream's labels.
    pub labels: LabelSet,
    /// When the line was logged, in ns since the epoch (the read time
    /// until a `timestamp` stage sets it). A time past what `i64` ns can
    /// hold saturates to `i64::MAX` or `i64::MIN`; the client takes those
    /// as outside Go's range and drops the batch, as Promtail does.
    pub ts_ns: i64,
    /// The line, without its newline.
    pub line: String,
    /// Structured metadata: name/value pairs kept beside the line.
    pub structured_metadata: LabelSet,
    /// What acknowledges the source bytes once every client is done.
    pub receipt: Receipt,
}

/// A claim on the bytes an entry came from, released when the last clone
/// is dropped.
///
/// It holds shared tokens of any type; the tailer's tokens record the line
/// as done when they are dropped. An entry that does not come from a file
/// (`--stdin`, tests) has an empty receipt.
#[derive(Clone, Default)]
pub struct Receipt(Vec<Arc<dyn Any + Send + Sync>>);

impl Receipt {
    /// A receipt holding one token.
    pub fn new(token: Arc<dyn Any + Send + Sync>) -> Self {
        Self(vec![token])
    }

    /// Takes over the tokens of `other`: the entry now answers for both.
    pub fn merge(&mut self, other: Receipt) {
        self.0.extend(other.0);
    }

    /// Whether the receipt holds no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Receipt({} tokens)", self.0.len())
    }
}

/// Where entries go after the pipeline: the clients, or the printer of
/// `--dry-run`.
pub trait Sink: Send + Sync {
    /// Hands one entry over. It blocks while the sink is full, which is how
    /// a store that is down stops the reading. It must not be called from
    /// an async task.
    fn send(&self, entry: Entry) -> Result<(), SinkClosed>;
}

/// The sink has shut down and takes no more entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sink has shut down")]
pub struct SinkClosed;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_token_is_released_when_the_last_clone_goes() {
        let released = Arc::new(AtomicUsize::new(0));
        let mut a = Receipt::new(Arc::new(Token(released.clone())));
        let b = Receipt::new(Arc::new(Token(released.clone())));
        a.merge(b);
        let copy = a.clone();
        drop(a);
        assert_eq!(released.load(Ordering::SeqCst), 0);
        drop(copy);
        assert_eq!(released.load(Ordering::SeqCst), 2);
    }
}
