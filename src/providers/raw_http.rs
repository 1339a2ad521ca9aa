//! One HTTP/1.1 GET over a stream the caller connected itself, for the sources that reqwest
//! cannot reach: a connection from a privileged source port (scaleway), a vsock connection
//! to the host (applehv).

use std::io::{Read, Write};

/// Sends `GET path` with `headers` over `stream` and reads the answer to the end: its status
/// and body (at most `limit` bytes). The connection is closed after one answer.
pub fn get<S: Read + Write>(
    mut stream: S,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    limit: u64,
) -> Result<(u16, Vec<u8>), String> {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Kindling/{}\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut raw = Vec::new();
    // The head is small; the body is bounded by the config limit.
    stream
        .take(limit + 64 * 1024)
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading the answer: {e}"))?;
    parse_response(&raw, limit)
}

/// Status and body of a complete HTTP/1.x answer (Content-Length or read-to-close).
pub fn parse_response(raw: &[u8], limit: u64) -> Result<(u16, Vec<u8>), String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("the answer ended inside its headers".into()),
        Err(e) => return Err(format!("the answer is not HTTP: {e}")),
    };
    let status = resp.code.unwrap_or(0);
    let body = &raw[head..];
    let declared = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        });
    if resp
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
    {
        return Err("the answer uses a transfer encoding this request did not ask for".into());
    }
    let body = match declared {
        Some(n) if body.len() < n => {
            return Err(format!("body ended after {} of {n} bytes", body.len()))
        }
        Some(n) => &body[..n],
        None => body,
    };
    if body.len() as u64 > limit {
        return Err(format!(
            "the user data is larger than the limit of {limit} bytes"
        ));
    }
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_bounds_the_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}trailing";
        assert_eq!(parse_response(raw, 100), Ok((200, b"{}".to_vec())));
    }

    #[test]
    fn short_bodies_and_big_bodies_are_errors() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}";
        assert!(parse_response(raw, 100)
            .expect_err("short")
            .contains("after 2 of 9"));
        let raw = b"HTTP/1.1 200 OK\r\n\r\n0123456789";
        assert!(parse_response(raw, 4)
            .expect_err("big")
            .contains("limit of 4"));
    }

    #[test]
    fn chunked_answers_are_refused() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        assert!(parse_response(raw, 100).is_err());
    }

    #[test]
    fn the_request_carries_the_extra_headers() {
        let mut stream = std::io::Cursor::new(Vec::new());
        // A cursor reads back what was written: the request itself, which is not HTTP.
        let _ = get(
            &mut stream,
            "d",
            "/",
            &[("Accept", "application/json")],
            100,
        );
        let sent = String::from_utf8(stream.into_inner()).expect("utf-8");
        assert!(sent.starts_with("GET / HTTP/1.1\r\nHost: d\r\n"), "{sent}");
        assert!(sent.contains("\r\nAccept: application/json\r\n"), "{sent}");
        assert!(sent.ends_with("\r\n\r\n"), "{sent}");
    }
}
