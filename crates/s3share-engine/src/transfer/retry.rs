//! The retry rule every transfer follows: what is worth another try, and how long to wait.

use std::time::Duration;

use crate::base::error::{Error, ErrorKind};

/// Is a failure worth another try (the network, a timeout, the server busy or failing)?
pub fn transient(status: Option<u16>, err: &Error) -> bool {
    match status {
        Some(s) => matches!(s, 408 | 429 | 500 | 502 | 503 | 504),
        None => err.kind() == ErrorKind::Network,
    }
}

/// The wait before attempt `attempt` (1-based): exponential, capped, with jitter so parallel
/// parts do not retry in step.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250) * 2u32.saturating_pow(attempt.saturating_sub(1).min(5));
    let base = base.min(Duration::from_secs(8));
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    let jitter = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX);
    base.mul_f64(0.5 + 0.5 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(backoff(1) <= Duration::from_millis(250));
        assert!(backoff(4) >= Duration::from_secs(1));
        assert!(backoff(30) <= Duration::from_secs(8));
    }

    #[test]
    fn only_the_network_and_busy_servers_are_retried() {
        let net = Error::new(ErrorKind::Network, "x");
        let denied = Error::new(ErrorKind::AccessDenied, "x");
        assert!(transient(None, &net));
        assert!(!transient(None, &denied));
        assert!(transient(Some(503), &denied));
        assert!(!transient(Some(403), &net));
    }
}
