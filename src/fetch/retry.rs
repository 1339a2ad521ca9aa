//! The one retry loop of every HTTP request, resource fetches and metadata requests alike:
//! exponential backoff with jitter, a server's Retry-After, a deadline, and failures that
//! trying again cannot mend ending at once. Callers decide what an answer means.

use std::time::{Duration, Instant};

use super::FetchError;

/// The first wait between attempts; doubled after each, up to [`MAX_BACKOFF`].
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one attempt came to.
pub(super) enum Attempt<T> {
    /// An answer the caller takes.
    Done(T),
    /// Worth another try, after `wait` when the server named one (Retry-After).
    Retry {
        reason: String,
        wait: Option<Duration>,
    },
    /// Never worth another try: an untrusted certificate, a redirect loop, a redirect to
    /// another scheme. Retrying these only held the boot for minutes before failing the
    /// same way (issue 15, defect 11).
    Permanent(String),
}

/// How a retry loop is shown and bounded.
pub(super) struct Retries<'a> {
    /// The URL as it may be shown (credentials removed).
    pub shown: &'a str,
    /// What is being done, for the log: `fetching`, `GET`.
    pub doing: &'a str,
    pub started: Instant,
    /// No attempt starts after this.
    pub deadline: Instant,
    /// Said after "gave up after N attempts in T s" (how to allow more time), if anything.
    pub hint: Option<String>,
}

impl Retries<'_> {
    /// Runs `attempt` until it is done, fails for good, or the deadline would pass.
    pub fn run<T>(
        &self,
        mut attempt: impl FnMut() -> Result<Attempt<T>, FetchError>,
    ) -> Result<T, FetchError> {
        let mut backoff = FIRST_BACKOFF;
        let mut n = 1u32;
        loop {
            let (reason, wait) = match attempt()? {
                Attempt::Done(t) => return Ok(t),
                Attempt::Permanent(reason) => {
                    return Err(self.error(format!(
                        "{reason}; not retried (attempt {n}), since trying again cannot help"
                    )))
                }
                Attempt::Retry { reason, wait } => (reason, wait),
            };
            let delay = wait.unwrap_or_else(|| jitter(backoff));
            if Instant::now() + delay > self.deadline {
                let hint = self
                    .hint
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(self.error(format!(
                    "{reason}; gave up after {n} attempts in {:.1} s{hint}",
                    self.started.elapsed().as_secs_f64()
                )));
            }
            log::warn!(
                "{} {}: {reason}; retrying in {} ms (attempt {n})",
                self.doing,
                self.shown,
                delay.as_millis()
            );
            std::thread::sleep(delay);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            n += 1;
        }
    }

    fn error(&self, reason: String) -> FetchError {
        FetchError::Transport {
            url: self.shown.to_owned(),
            reason,
        }
    }
}

/// Up to a quarter less than `d`, so that many machines booting at once spread out.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d - d.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retries(budget: Duration) -> Retries<'static> {
        let started = Instant::now();
        Retries {
            shown: "http://h/x",
            doing: "fetching",
            started,
            deadline: started + budget,
            hint: Some("set a longer limit".into()),
        }
    }

    #[test]
    fn retries_until_done() {
        let mut left = 2;
        let got = retries(Duration::from_secs(10)).run(|| {
            if left == 0 {
                return Ok(Attempt::Done(7));
            }
            left -= 1;
            Ok(Attempt::Retry {
                reason: "HTTP 503".into(),
                wait: Some(Duration::from_millis(1)),
            })
        });
        assert_eq!(got.expect("done"), 7);
    }

    #[test]
    fn a_permanent_failure_ends_at_once() {
        let mut tries = 0;
        let err = retries(Duration::from_secs(10))
            .run(|| -> Result<Attempt<()>, FetchError> {
                tries += 1;
                Ok(Attempt::Permanent("unknown issuer".into()))
            })
            .expect_err("permanent");
        assert_eq!(tries, 1);
        assert!(err
            .to_string()
            .contains("unknown issuer; not retried (attempt 1), since trying again cannot help"));
    }

    #[test]
    fn the_deadline_ends_it_with_the_hint() {
        let err = retries(Duration::from_millis(300))
            .run(|| -> Result<Attempt<()>, FetchError> {
                Ok(Attempt::Retry {
                    reason: "HTTP 503".into(),
                    wait: None,
                })
            })
            .expect_err("gives up");
        let text = err.to_string();
        assert!(text.contains("HTTP 503; gave up after"), "{text}");
        assert!(text.ends_with("(set a longer limit)"), "{text}");
    }
}
