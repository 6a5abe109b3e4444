//! Framed-record segment files: the plumbing under vigil's write-ahead logs and append-only index files.
//!
//! `segments` owns the bytes-on-disk machinery that the metrics storage
//! (`tsdb`) and the log store (`logstore`) share, so that each holds only
//! what is its own (its record payloads, its fsync policy, its
//! checkpoints):
//! - [`encoding`]: varints, length-prefixed strings, and [`Reader`], which
//!   checks every bound and answers `None` instead of panicking;
//! - [`frame`]: the frame `[payload length: u32 LE][CRC32 of payload: u32 LE][payload]`,
//!   written in place ([`begin_frame`], [`end_frame`]) and read back checked
//!   ([`read_frame`], [`scan_frames`]);
//! - [`files`]: numbered segment files (`00000000`, `00000001`, …), listing,
//!   creating, deleting, fsync of a directory, and replay that cuts a torn
//!   or corrupt tail with a warning ([`read_repairing`], [`replay_segments`]);
//! - [`SegmentWriter`]: the segment being written, its rotation, and the
//!   broken state after a failed write or fsync.
//!
//! Key decision: these formats are on disk in existing data directories, so
//! they never change; a test pins the frame's bytes.
//!
//! **Invariant:** `segments` knows nothing of series, streams, tenants or
//! what a payload means: callers decode payloads and say which to refuse.
//! It never panics on bytes read from disk, and it never fsyncs a file on
//! its own initiative: when is the caller's policy. It depends on no other
//! crate of the workspace.
//!
//! ```
//! use segments::{begin_frame, end_frame, scan_frames, put_str, Reader};
//!
//! let mut buf = Vec::new();
//! let start = begin_frame(&mut buf);
//! put_str(&mut buf, "hello");
//! end_frame(&mut buf, start);
//!
//! let mut seen = Vec::new();
//! let scan = scan_frames(&buf, |payload| {
//!     seen.push(Reader::new(payload).str().ok_or("not a string")?.to_owned());
//!     Ok(())
//! });
//! assert_eq!(seen, ["hello"]);
//! assert_eq!((scan.valid, scan.problem), (buf.len(), None));
//! // A torn tail is where the good frames end.
//! assert_eq!(scan_frames(&buf[..buf.len() - 1], |_| Ok(())).valid, 0);
//! ```

pub mod encoding;
mod error;
pub mod files;
pub mod frame;
mod writer;

pub use encoding::{Reader, put_str, put_uvarint, put_varint};
pub use error::{CorruptFile, IoError, SegmentsError};
pub use files::{
    Repaired, Replayed, create_segment, list_segments, read_repairing, remove_segments,
    remove_segments_below, replay_segments, segment_path, sync_dir,
};
pub use frame::{FRAME_HEADER, Frame, Scan, begin_frame, end_frame, read_frame, scan_frames};
pub use writer::SegmentWriter;
