//! Writing what clients sent into the log without letting them write the
//! log: strings are cut short and escaped (a newline or an ANSI escape in a
//! user name must not forge a line or recolour a terminal), and repeated
//! warnings are rate-limited so a flood of bad requests cannot fill the disk.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

/// Characters of a client string kept in a log line.
const MAX_CHARS: usize = 64;

/// `s` as it may appear in a log line: at most 64 characters, every control
/// or non-ASCII-printable character escaped (`\n`, `\u{1b}`), marked `…`
/// when cut.
pub fn for_log(s: &str) -> String {
    for_log_within(s, MAX_CHARS)
}

/// [`for_log`] with another bound: for text that is ours but may quote a
/// client's or Microsoft's (an error and its causes), which needs more room
/// than a user name.
pub fn for_log_within(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(2)));
    for (i, c) in s.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if c.is_ascii_graphic()
            || c == ' '
            || (!c.is_control() && !c.is_ascii() && c.is_alphanumeric())
        {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

/// At most `burst` warnings of one kind per `window`; the rest are counted
/// and reported with the next warning that is let through.
pub struct WarnLimiter {
    clock: SharedClock,
    window: Duration,
    burst: u32,
    state: Mutex<LimiterState>,
}

struct LimiterState {
    window_start: Option<Instant>,
    emitted: u32,
    suppressed: u64,
}

impl WarnLimiter {
    pub fn new(clock: SharedClock, window: Duration, burst: u32) -> Self {
        Self {
            clock,
            window,
            burst,
            state: Mutex::new(LimiterState {
                window_start: None,
                emitted: 0,
                suppressed: 0,
            }),
        }
    }

    /// `Some(n)`: log this warning, and say that `n` like it were left out
    /// since the last one. `None`: leave it out.
    pub fn admit(&self) -> Option<u64> {
        let now = self.clock.instant();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = state
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= self.window);
        if fresh {
            state.window_start = Some(now);
            state.emitted = 0;
        }
        if state.emitted < self.burst {
            state.emitted += 1;
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed = state.suppressed.saturating_add(1);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn client_strings_are_escaped_and_bounded() {
        assert_eq!(for_log("admin"), "admin");
        assert_eq!(for_log("José Müller"), "José Müller");
        let forged = "admin\n2026-01-01T00:00:00Z  INFO sign-in succeeded\u{1b}[31m";
        let logged = for_log(forged);
        assert!(
            !logged.contains('\n') && !logged.contains('\u{1b}'),
            "{logged}"
        );
        assert!(logged.starts_with("admin\\n2026"), "{logged}");
        let huge = "x".repeat(1_000_000);
        let logged = for_log(&huge);
        assert_eq!(logged.chars().count(), MAX_CHARS + 1);
        assert!(logged.ends_with('…'));
        // Invisible and direction-changing characters are escaped too.
        assert_eq!(for_log("a\u{202e}b\u{200b}"), "a\\u{202e}b\\u{200b}");
    }

    #[test]
    fn warnings_beyond_the_burst_are_counted_and_reported_later() {
        let clock = ManualClock::new();
        let limiter = WarnLimiter::new(clock.clone(), Duration::from_secs(10), 3);
        let admitted: Vec<Option<u64>> = (0..1000).map(|_| limiter.admit()).collect();
        assert_eq!(admitted.iter().filter(|a| a.is_some()).count(), 3);
        assert_eq!(&admitted[..3], &[Some(0), Some(0), Some(0)]);
        clock.advance(Duration::from_secs(10));
        assert_eq!(limiter.admit(), Some(997), "the left-out ones are reported");
        assert_eq!(limiter.admit(), Some(0));
    }
}
