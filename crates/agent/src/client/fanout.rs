//! Several clients behind one sink: every entry goes to each of them.

use std::sync::Arc;

use crate::entry::{Entry, Sink, SinkClosed};

/// Gives every entry to every sink in turn (Promtail's multi-client). Each
/// gets its own clone of the receipt, so a line counts as done only once
/// every client has acknowledged or given up on it. A sink that blocks
/// holds up the others, as in Promtail: the reading waits for the slowest
/// store.
pub struct Fanout {
    sinks: Vec<Arc<dyn Sink>>,
}

impl Fanout {
    /// A fan-out to `sinks`, in order.
    pub fn new(sinks: Vec<Arc<dyn Sink>>) -> Self {
        Self { sinks }
    }
}

impl Sink for Fanout {
    /// Hands the entry to every sink, even past one that has shut down;
    /// fails if any had.
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        let Some((last, rest)) = self.sinks.split_last() else {
            return Ok(());
        };
        let mut result = Ok(());
        for sink in rest {
            result = result.and(sink.send(entry.clone()));
        }
        result.and(last.send(entry))
    }
}
