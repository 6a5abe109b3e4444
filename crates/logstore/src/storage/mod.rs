//! Storage: per tenant and stream, head, write-ahead log, chunks, label index, retention.
