//! The push API's bodies: Loki protobuf + snappy, JSON (gzip/deflate), OTLP logs; and Loki's validation of pushed entries.
