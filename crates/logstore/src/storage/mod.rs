//! Storage: per tenant and stream, head, write-ahead log, chunks, label index, retention.
//!
//! An append ([`Storage::append`]) is judged against its streams (too far
//! behind the newest entry, exact duplicates), written to the log
//! (`wal.rs`), then applied to the head (`head.rs`): per stream and index
//! period, an open block kept sorted, sealed into compressed blocks
//! (`block.rs`, `codec.rs`) at the block size. A chunk that reaches the
//! target size, goes idle or grows old is sealed and written to a chunk
//! file (`chunk.rs`), recorded in its period's index file (`index.rs`), and
//! the log segments it no longer needs are deleted.
//!
//! Queries ([`TenantReader`], a [`logql::store::Store`]) find streams
//! through the in-memory inverted index, hold shared references to their
//! chunk files and a snapshot of their head (reference counts, no copies),
//! and read them through cursors (`query.rs`) that decode one block at a
//! time, only blocks overlapping the range.
//!
//! On disk, under the data directory (the log's directory may be elsewhere):
//!
//! ```text
//! wal/00000000 …                          log segments
//! tenants/<tenant>/<period>/index         the period's index file
//! tenants/<tenant>/<period>/chunks/<id>   chunk files (16 hex digits)
//! ```
//!
//! `<period>` is the period's number (time divided by the period length),
//! `<tenant>` the tenant id with unsafe bytes written `%XX`.

mod api;
mod block;
mod chunk;
mod codec;
mod encoding;
mod error;
mod head;
mod index;
mod query;
#[allow(clippy::module_inception)] // The module is the concept: the storage.
mod storage;
mod wal;

pub use api::IndexStats;
pub use codec::Compression;
pub use error::StorageError;
pub use head::Rejected;
pub use storage::{
    AppendReport, AppendStream, Durable, Storage, StorageMetrics, StorageOptions, StreamReport,
    TenantReader,
};
pub use wal::{DEFAULT_SEGMENT_SIZE, SyncPolicy};
