//! Test support shared by the workspace's tests. Only ever a
//! dev-dependency: nothing here ships in the binary.
//!
//! It owns where the shared test inputs live ([`shared_dir`]: the upstream
//! suites, fixtures and reference configs are read at test time from
//! `shared/` beside the repository and never copied into it), and how tests
//! run the real Prometheus next to ours ([`RealPrometheus`]), and the
//! certificates and https server of `tls_config` tests ([`tls`]).
//!
//! ```
//! let fixtures = testkit::shared_dir().join("fixtures");
//! # let _ = fixtures;
//! ```

pub mod tls;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `shared/` beside the repository, or `$VIGIL_SHARED_DIR` when set.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("VIGIL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

/// Debian's `prometheus` (2.42) running on a free loopback port with its
/// remote-write receiver on and nothing to scrape; killed when dropped.
pub struct RealPrometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl RealPrometheus {
    /// Starts it and waits until `/-/ready` answers 200.
    ///
    /// # Panics
    /// When the binary is missing (`./test.sh` installs it; a skipped test
    /// would pass silently) or not ready within 30 s.
    pub fn start() -> RealPrometheus {
        let found = Command::new("prometheus")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "no prometheus binary on the PATH: run ./test.sh, which installs Debian's prometheus package"
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1h\n")
            .expect("writing prometheus.yml");
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .expect("a free loopback port");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus");
        let prometheus = RealPrometheus {
            child,
            addr,
            _dir: dir,
        };
        let started = Instant::now();
        while !prometheus.is_ready() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prometheus
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn is_ready(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /-/ready HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr);
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.0 200") | answer.starts_with("HTTP/1.1 200")
    }
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
