//! Storage: per tenant and stream, head, write-ahead log, chunks, label index, retention.

mod block;
mod codec;
mod encoding;
mod error;

pub use codec::Compression;
pub use error::StorageError;
