//! Log files written off the request path: a bounded queue drained by a
//! writer thread, with optional size-based rotation.
//!
//! Request handlers must never wait on the disk, so they enqueue with
//! [`LogSender::try_write`], which drops the line and counts it when the
//! queue is full. Generators, which have nothing better to do, use
//! [`LogSender::write`] and wait for room instead. The writer flushes each
//! time the queue runs empty, so a tailing agent sees lines within
//! milliseconds, and on [`LogFile::close`], which loses nothing queued.
//! It gathers lines for a few milliseconds before writing, so that a busy
//! API costs one wakeup and one `write` per batch rather than per line.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

/// How a log file is written.
#[derive(Debug, Clone)]
pub struct LogFileOptions {
    /// Rotate when the file would grow past this many bytes
    /// (`logs.log` → `logs.log.1`, replacing an older `.1`); `None` never
    /// rotates.
    pub rotate_bytes: Option<u64>,
    /// Lines that may wait for the writer before new ones are dropped.
    pub queue_lines: usize,
}

impl Default for LogFileOptions {
    fn default() -> Self {
        Self {
            rotate_bytes: None,
            queue_lines: 16_384,
        }
    }
}

/// How long the writer waits after a first line for others to join it.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

enum Message {
    Line(String),
    Close,
}

/// An open log file and its writer thread.
pub struct LogFile {
    sender: LogSender,
    writer: JoinHandle<io::Result<()>>,
}

/// A cheap handle that enqueues lines for one [`LogFile`].
#[derive(Clone)]
pub struct LogSender {
    queue: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl LogFile {
    /// Opens (appending to) `path`, creating its directory, and starts the
    /// writer thread.
    pub fn open(path: impl Into<PathBuf>, options: LogFileOptions) -> io::Result<LogFile> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        let (queue, receiver) = mpsc::channel(options.queue_lines.max(1));
        let writer = std::thread::Builder::new()
            .name(format!("log-writer {}", path.display()))
            .spawn(move || {
                Writer {
                    out: BufWriter::with_capacity(64 * 1024, file),
                    size,
                    path,
                    rotate_bytes: options.rotate_bytes,
                }
                .run(receiver)
            })?;
        Ok(LogFile {
            sender: LogSender {
                queue,
                dropped: Arc::new(AtomicU64::new(0)),
            },
            writer,
        })
    }

    /// A handle to enqueue lines with.
    pub fn sender(&self) -> LogSender {
        self.sender.clone()
    }

    /// Writes everything queued so far, flushes and stops the writer; lines
    /// sent afterwards are counted as dropped.
    pub async fn close(self) -> io::Result<()> {
        // Waiting for room is fine here: the writer is draining.
        let _ = self.sender.queue.send(Message::Close).await;
        tokio::task::spawn_blocking(move || self.writer.join())
            .await
            .map_err(io::Error::other)?
            .map_err(|_| io::Error::other("log writer thread panicked"))?
    }
}

impl LogSender {
    /// Enqueues a line without waiting; when the queue is full (or the file
    /// closed) the line is dropped, counted, and `false` returned.
    pub fn try_write(&self, line: String) -> bool {
        let sent = self.queue.try_send(Message::Line(line)).is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Enqueues a line, waiting for room; `false` if the file is closed.
    pub async fn write(&self, line: String) -> bool {
        let sent = self.queue.send(Message::Line(line)).await.is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Lines dropped so far because the queue was full or the file closed.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Writer {
    out: BufWriter<File>,
    size: u64,
    path: PathBuf,
    rotate_bytes: Option<u64>,
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<Message>) -> io::Result<()> {
        while let Some(message) = receiver.blocking_recv() {
            // Let a burst gather: one wakeup and one write per window
            // instead of per line, at the cost of this much latency.
            std::thread::sleep(BATCH_WINDOW);
            let mut next = Some(message);
            while let Some(message) = next.take() {
                match message {
                    Message::Line(line) => self.write_line(&line)?,
                    Message::Close => return self.out.flush(),
                }
                next = receiver.try_recv().ok();
            }
            self.out.flush()?;
        }
        self.out.flush()
    }

    fn write_line(&mut self, line: &str) -> io::Result<()> {
        let len = line.len() as u64;
        if let Some(limit) = self.rotate_bytes {
            if self.size > 0 && self.size + len > limit {
                self.rotate()?;
            }
        }
        self.out.write_all(line.as_bytes())?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        fs::rename(&self.path, rotated_path(&self.path))?;
        self.out = BufWriter::with_capacity(64 * 1024, open_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `logs.log` → `logs.log.1`.
pub fn rotated_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_everything_queued_before_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/logs.log");
        let file = LogFile::open(&path, LogFileOptions::default()).unwrap();
        let sender = file.sender();
        for i in 0..1000 {
            assert!(sender.write(format!("line {i}\n")).await);
        }
        file.close().await.unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1000);
        assert_eq!(text.lines().last(), Some("line 999"));
        assert!(!sender.try_write("late\n".into()));
        assert_eq!(sender.dropped(), 1);
    }

    #[tokio::test]
    async fn rotates_by_size_without_losing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.log");
        let options = LogFileOptions {
            rotate_bytes: Some(100),
            ..LogFileOptions::default()
        };
        let file = LogFile::open(&path, options).unwrap();
        let sender = file.sender();
        // 30 lines of 10 bytes: 100-byte files, so `.1` ends with lines 10..20
        // and the live file holds 20..30.
        for i in 0..30 {
            assert!(sender.write(format!("line {i:04}\n")).await);
        }
        file.close().await.unwrap();
        let live = fs::read_to_string(&path).unwrap();
        let rotated = fs::read_to_string(rotated_path(&path)).unwrap();
        assert_eq!(live.lines().next(), Some("line 0020"));
        assert_eq!(live.lines().count(), 10);
        assert_eq!(rotated.lines().next(), Some("line 0010"));
        assert_eq!(rotated.lines().count(), 10);
        assert!(live.len() <= 100 && rotated.len() <= 100);
    }

    #[tokio::test]
    async fn full_queue_drops_and_counts_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = LogFile::open(
            dir.path().join("logs.log"),
            LogFileOptions {
                queue_lines: 1,
                ..LogFileOptions::default()
            },
        )
        .unwrap();
        let sender = file.sender();
        let mut accepted = 0;
        for _ in 0..10_000 {
            accepted += u64::from(sender.try_write("x\n".into()));
        }
        assert_eq!(accepted + sender.dropped(), 10_000);
        file.close().await.unwrap();
        let written = fs::read_to_string(dir.path().join("logs.log"))
            .unwrap()
            .lines()
            .count() as u64;
        assert_eq!(written, accepted);
    }
}
