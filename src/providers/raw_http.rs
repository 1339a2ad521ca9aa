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
    // The same User-Agent and encoding as every other request (Ignition's, which services
    // match on).
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
        crate::fetch::USER_AGENT
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
    let coding = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
        .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase());
    let dechunked;
    let body = match (coding.as_deref(), declared) {
        // Every HTTP/1.1 client must take chunked answers (a Go server sends one when the
        // handler does not set the length), and chunking overrides any length.
        (Some("chunked"), _) => {
            dechunked = dechunk(body, limit)?;
            &dechunked[..]
        }
        (Some(other), _) => {
            return Err(format!(
                "the answer uses the transfer coding {other:?}, which this request did not ask for"
            ))
        }
        (None, Some(n)) if body.len() < n => {
            return Err(format!("body ended after {} of {n} bytes", body.len()))
        }
        (None, Some(n)) => &body[..n],
        (None, None) => body,
    };
    if body.len() as u64 > limit {
        return Err(format!(
            "the user data is larger than the limit of {limit} bytes"
        ));
    }
    Ok((status, body.to_vec()))
}

/// The body of a chunked answer: chunks up to the last (empty) one; trailers are ignored.
fn dechunk(mut raw: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(raw) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => {
                return Err("the chunked answer ended inside a chunk size".into())
            }
            Err(_) => return Err("the chunked answer has a bad chunk size".into()),
        };
        if size == 0 {
            return Ok(out);
        }
        if out.len() as u64 + size > limit {
            return Err(format!(
                "the user data is larger than the limit of {limit} bytes"
            ));
        }
        let size = size as usize;
        let rest = &raw[start..];
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return Err("the chunked answer ended inside a chunk".into());
        }
        out.extend_from_slice(&rest[..size]);
        raw = &rest[size + 2..];
    }
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
    fn chunked_answers_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\nb;ext=1\r\na\":12345678\r\n1\r\n}\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(raw, 100),
            Ok((200, br#"{"a":12345678}"#.to_vec()))
        );
    }

    #[test]
    fn broken_or_big_chunked_answers_and_other_codings_are_refused() {
        let cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{}";
        assert!(parse_response(cut, 100)
            .expect_err("cut")
            .contains("inside a chunk"));
        let unended = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n";
        assert!(parse_response(unended, 100).is_err());
        let big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n";
        assert!(parse_response(big, 4)
            .expect_err("big")
            .contains("limit of 4"));
        let gzip = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
        assert!(parse_response(gzip, 100)
            .expect_err("gzip")
            .contains("transfer coding"));
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
