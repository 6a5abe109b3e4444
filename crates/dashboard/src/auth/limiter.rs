//! Grafana's brute-force login protection: after 5 failed logins for a
//! user (or, here, from a client address) within 5 minutes, further
//! attempts are refused until the oldest failure leaves the window. A
//! successful login clears the user's failures. Kept in memory: a restart
//! forgets them, which only ever unblocks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed within [`WINDOW`] before logins are refused.
pub const MAX_FAILURES: usize = 5;
/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

/// Failed logins per key (`user:<login>`, `ip:<address>`).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    /// Whether any of `keys` has [`MAX_FAILURES`] failures in the window
    /// ending at `now`.
    pub fn blocked(&self, keys: &[String], now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter().any(|key| match map.get_mut(key) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                times.len() >= MAX_FAILURES
            }
            None => false,
        })
    }

    /// Counts a failure for each of `keys`.
    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound the memory an attacker trying many names can take.
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            let times = map.entry(key.clone()).or_default();
            times.retain(|t| now.duration_since(*t) < WINDOW);
            times.push(now);
        }
    }

    /// Forgets the failures of `key` (a successful login).
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_blocks_until_the_window_passes() {
        let limiter = LoginLimiter::default();
        let keys = vec!["user:admin".to_string()];
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(!limiter.blocked(&keys, t0), "blocked after {i} failures");
            limiter.record_failure(&keys, t0);
        }
        assert!(limiter.blocked(&keys, t0));
        assert!(!limiter.blocked(&["user:other".to_string()], t0));
        assert!(!limiter.blocked(&keys, t0 + WINDOW));
    }

    #[test]
    fn a_success_clears_the_user() {
        let limiter = LoginLimiter::default();
        let keys = vec!["user:admin".to_string(), "ip:127.0.0.1".to_string()];
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            limiter.record_failure(&keys, t0);
        }
        limiter.reset("user:admin");
        assert!(!limiter.blocked(&keys[..1], t0));
        assert!(limiter.blocked(&keys[1..], t0), "the address stays blocked");
    }
}
