//! What the tool reads about the server's process when given its pid:
//! CPU time and memory from `/proc`, so that they cover exactly the timed
//! window (the encoding before it is the tool's own work).

use std::path::PathBuf;

/// A process to watch, by pid.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    dir: PathBuf,
}

/// Linux reports CPU times in clock ticks of `USER_HZ`, which is 100 on
/// every architecture Linux userspace knows (it is part of the ABI, unlike
/// the kernel's `HZ`), so no `sysconf` call is needed.
const TICKS_PER_SECOND: f64 = 100.0;

impl ServerProcess {
    pub(crate) fn new(pid: u32) -> Self {
        Self {
            dir: PathBuf::from(format!("/proc/{pid}")),
        }
    }

    /// User + system CPU seconds so far, or `None` if the process is gone.
    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(self.dir.join("stat")).ok()?;
        parse_cpu_seconds(&stat)
    }

    /// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
    pub(crate) fn status_kib(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(self.dir.join("status")).ok()?;
        parse_status_kib(&status, key)
    }
}

/// Fields 14 and 15 of `/proc/<pid>/stat`. The command name (field 2) is
/// in parentheses and may hold spaces or `)`, so counting starts after the
/// last `)`.
fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stat_with_an_awkward_command_name() {
        let stat = "42 (my) prog) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 4 0 1 1 1";
        assert_eq!(parse_cpu_seconds(stat), Some(3.0));
        assert_eq!(parse_cpu_seconds("garbage"), None);
    }

    #[test]
    fn reads_status_lines() {
        let status = "Name:\tvigil\nVmHWM:\t  216064 kB\nVmRSS:\t   61952 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(216_064));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(61_952));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn reads_its_own_process() {
        let me = ServerProcess::new(std::process::id());
        assert!(me.cpu_seconds().is_some());
        assert!(me.status_kib("VmRSS").unwrap() > 0);
    }
}
