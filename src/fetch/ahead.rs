//! Fetching ahead: remote resources that a stage asks for one after another are fetched by
//! background threads while the stage writes the previous ones, so waiting on the network,
//! decompressing and hashing the next file overlap with writing this one, and with each other
//! on several cores. Sequential fetching spends most of a run of remote files on round trips
//! and hashing with the disk idle, or the other way round.
//!
//! The caller announces the resources in the order it will ask for them. Remote resource `k`
//! goes to worker `k mod W`, which fetches its share in order through [`Fetcher::fetch`] (so
//! the trust policy, retries, decompression and hash check are the same) and streams the
//! bytes through a bounded channel: at most [`CHUNKS_AHEAD`] chunks of [`CHUNK`] bytes per
//! worker wait in memory, whatever the size of the file. Workers write nothing anywhere else.
//! The caller still writes everything itself, in its own order, and keeps a resource only
//! when its fetch reports success, exactly as with [`Fetcher::fetch`].
//!
//! `data:` URLs and absent sources are part of the config: they are read in place, never
//! handed to a worker. If the caller asks for a remote resource other than the next one it
//! announced, fetching ahead stops and everything is fetched directly from then on. Dropping
//! an [`Ahead`] stops its workers at their next chunk (a worker waiting on the network stops
//! when that wait ends, or with the process).

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread;

use kindling_spec::types::Resource;

use super::redact::redact;
use super::{FetchError, Fetched, Fetcher};

/// Bytes per message between a worker and the caller.
pub const CHUNK: usize = 64 * 1024;
/// Messages a worker may have waiting before it blocks.
pub const CHUNKS_AHEAD: usize = 8;
/// Downloads in flight at most (fewer on machines with fewer CPUs).
const MAX_WORKERS: usize = 4;

enum Msg {
    Data(Vec<u8>),
    Done(Box<Result<Fetched, FetchError>>),
}

#[derive(Debug)]
struct Worker {
    rx: Receiver<Msg>,
    /// Emptied buffers go back for reuse.
    recycle: Sender<Vec<u8>>,
}

/// A fetcher that fetches announced remote resources ahead of time.
#[derive(Debug)]
pub struct Ahead<'a> {
    fetcher: &'a Fetcher,
    /// The announced remote resources not asked for yet, in order.
    expected: VecDeque<Resource>,
    workers: Vec<Worker>,
    /// How many announced resources were handed out.
    taken: usize,
}

/// Whether a resource comes from the network (and so is worth fetching ahead).
fn is_remote(res: &Resource) -> bool {
    res.source.as_deref().is_some_and(super::is_remote)
}

impl<'a> Ahead<'a> {
    /// Starts fetching the remote ones among `resources`, which must be listed in the order
    /// [`Ahead::fetch`] will be asked for them. Nothing starts when there are none.
    pub fn new<'r>(
        fetcher: &'a Fetcher,
        resources: impl IntoIterator<Item = &'r Resource>,
    ) -> Self {
        let expected: VecDeque<Resource> = resources
            .into_iter()
            .filter(|r| is_remote(r))
            .cloned()
            .collect();
        let cpus = thread::available_parallelism().map_or(1, usize::from);
        let count = expected.len().min(cpus.clamp(1, MAX_WORKERS));
        let mut ahead = Self {
            fetcher,
            expected,
            workers: Vec::with_capacity(count),
            taken: 0,
        };
        if count == 0 {
            return ahead;
        }
        // The workers share one client (and so its connection pool). It is built here, once,
        // rather than by the first worker to need it: it reads the system's CA certificates,
        // and allocations made in a thread stay with that thread's heap. Should building fail,
        // the workers meet the same error and report it for their resources.
        let shared = Arc::new(Fetcher::new(fetcher.settings().clone()));
        let scheme_is = |r: &Resource, scheme: &str| {
            r.source
                .as_deref()
                .and_then(|s| s.split_once(':'))
                .is_some_and(|(s, _)| s.eq_ignore_ascii_case(scheme))
        };
        for (scheme, tls) in [("http", false), ("https", true)] {
            if ahead.expected.iter().any(|r| scheme_is(r, scheme)) {
                let _ = shared.http_client(tls);
            }
        }
        for index in 0..count {
            let share: Vec<Resource> = ahead
                .expected
                .iter()
                .skip(index)
                .step_by(count)
                .cloned()
                .collect();
            let (tx, rx) = mpsc::sync_channel(CHUNKS_AHEAD);
            let (recycle, recycled) = mpsc::channel();
            let shared = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("fetch-ahead-{index}"))
                .spawn(move || work(&shared, share, &tx, &recycled));
            if spawned.is_err() {
                // No thread, no fetching ahead: everything is fetched in place.
                log::debug!("could not start a thread to fetch ahead; fetching in turn");
                ahead.stop();
                return ahead;
            }
            ahead.workers.push(Worker { rx, recycle });
        }
        ahead
    }

    /// Streams a resource into `out`, as [`Fetcher::fetch`] does. On error, what was written
    /// to `out` must be discarded.
    pub fn fetch(&mut self, res: &Resource, out: &mut dyn Write) -> Result<Fetched, FetchError> {
        if !is_remote(res) || self.workers.is_empty() {
            return self.fetcher.fetch(res, out);
        }
        if self.expected.front() != Some(res) {
            log::debug!("fetching ahead stopped: a resource came out of the announced order");
            self.stop();
            return self.fetcher.fetch(res, out);
        }
        self.expected.pop_front();
        let index = self.taken % self.workers.len();
        self.taken += 1;
        let url = res.source.as_deref().unwrap_or("");
        let outcome = {
            let worker = &self.workers[index];
            loop {
                match worker.rx.recv() {
                    Ok(Msg::Data(buf)) => {
                        if let Err(source) = out.write_all(&buf) {
                            break Err(FetchError::Write {
                                url: redact(url),
                                source,
                            });
                        }
                        let _ = worker.recycle.send(buf);
                    }
                    Ok(Msg::Done(result)) => return *result,
                    Err(_) => {
                        break Err(FetchError::Transport {
                            url: redact(url),
                            reason: "the thread fetching it ahead stopped".into(),
                        })
                    }
                }
            }
        };
        // The worker is in the middle of this resource: nothing after it can be trusted to
        // line up any more.
        self.stop();
        outcome
    }

    fn stop(&mut self) {
        self.workers.clear();
        self.expected.clear();
    }
}

/// One worker: fetches its share in order, streaming each into the channel, then its outcome.
fn work(
    fetcher: &Fetcher,
    share: Vec<Resource>,
    tx: &SyncSender<Msg>,
    recycled: &Receiver<Vec<u8>>,
) {
    for res in share {
        let mut sink = ChunkWriter {
            tx,
            recycled,
            buf: Vec::new(),
        };
        let result = fetcher.fetch(&res, &mut sink);
        if tx.send(Msg::Done(Box::new(result))).is_err() {
            return;
        }
    }
}

/// Cuts what it is given into chunks and sends them; fails once nobody listens.
struct ChunkWriter<'a> {
    tx: &'a SyncSender<Msg>,
    recycled: &'a Receiver<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChunkWriter<'_> {
    fn send(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        self.tx
            .send(Msg::Data(buf))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "nobody reads it any more"))
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.buf = self
                .recycled
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
            self.buf.clear();
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::hash::sha512_of;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// Serves `/N` as `body(N)` over HTTP/1.1, one connection at a time, until the test ends.
    fn serve(body: fn(usize) -> Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let n: usize = line
                            .split_whitespace()
                            .nth(1)
                            .and_then(|p| p.trim_start_matches('/').parse().ok())
                            .unwrap_or(0);
                        loop {
                            let mut header = String::new();
                            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                                return;
                            }
                            if header == "\r\n" {
                                break;
                            }
                        }
                        let data = body(n);
                        let head =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", data.len());
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(&data).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        format!("http://127.0.0.1:{port}")
    }

    fn body(n: usize) -> Vec<u8> {
        (0..n * 7919 + 3).map(|i| (i % 251) as u8).collect()
    }

    fn res(url: String, hash: Option<Vec<u8>>) -> Resource {
        let mut r = Resource {
            source: Some(url),
            ..Resource::default()
        };
        r.verification.hash = hash.map(|b| sha512_of(&b).to_string());
        r
    }

    #[test]
    fn fetches_in_the_announced_order_with_data_urls_in_between() {
        let base = serve(body);
        let mut all = Vec::new();
        for n in 0..12 {
            all.push(res(format!("{base}/{}", n * 40), Some(body(n * 40))));
            all.push(res(format!("data:,inline{n}"), None));
        }
        let fetcher = Fetcher::default();
        let mut ahead = Ahead::new(&fetcher, &all);
        for (i, r) in all.iter().enumerate() {
            let mut out = Vec::new();
            let got = ahead.fetch(r, &mut out).expect("fetch");
            let want = if i % 2 == 0 {
                body(i / 2 * 40)
            } else {
                format!("inline{}", i / 2).into_bytes()
            };
            assert_eq!(out, want, "resource {i}");
            assert_eq!(got.size, want.len() as u64);
        }
    }

    #[test]
    fn a_hash_mismatch_is_reported_for_that_resource_only() {
        let base = serve(body);
        let good = res(format!("{base}/1"), Some(body(1)));
        let bad = res(format!("{base}/2"), Some(b"other".to_vec()));
        let after = res(format!("{base}/3"), Some(body(3)));
        let fetcher = Fetcher::default();
        let list = [good.clone(), bad.clone(), after.clone()];
        let mut ahead = Ahead::new(&fetcher, &list);
        ahead.fetch(&good, &mut Vec::new()).expect("good");
        let err = ahead.fetch(&bad, &mut Vec::new()).expect_err("mismatch");
        assert!(matches!(err, FetchError::HashMismatch { .. }), "{err}");
        let mut out = Vec::new();
        ahead.fetch(&after, &mut out).expect("after");
        assert_eq!(out, body(3));
    }

    #[test]
    fn out_of_order_requests_fall_back_to_fetching_in_place() {
        let base = serve(body);
        let list: Vec<Resource> = (1..6).map(|n| res(format!("{base}/{n}"), None)).collect();
        let fetcher = Fetcher::default();
        let mut ahead = Ahead::new(&fetcher, &list);
        for n in [3, 1, 5, 2, 4] {
            let mut out = Vec::new();
            ahead.fetch(&list[n - 1], &mut out).expect("fetch");
            assert_eq!(out, body(n));
        }
        assert!(ahead.workers.is_empty());
    }
}
