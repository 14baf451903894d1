//! A small HTTP/1.1 client over a Unix stream socket, for `unix:/abs/path.sock` base URLs: the
//! only way out of a job sandbox that has no network (see the worker's data service in
//! `aic-rpc`).
//!
//! One request per connection (`Connection: close`). The response's status line and headers
//! are parsed (names case-insensitively) within [`MAX_HEADER_BYTES`]; `1xx` answers are
//! skipped. The body is framed as RFC 9112 §6.3 says: none for `HEAD`, `204` and `304`;
//! `Transfer-Encoding: chunked` decoded; else `Content-Length`, where a body that ends early is
//! a read error (not a silent short read); else everything until the server closes.
//!
//! Timeouts are the ureq path's: `read_timeout` on every read and write of the socket, and
//! `connect_timeout` on the connect (a Unix connect only blocks when the listener's backlog is
//! full; the wait runs on a helper thread, which is left to finish on its own if it times out).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::transport::{Method, Response};
use crate::BlobError;

/// Most bytes of status line plus headers accepted in one response.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most bytes of one chunk-size line (with extensions) in a chunked body.
const MAX_CHUNK_LINE: usize = 4096;

/// What to ask for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    /// The request target, e.g. `/api/v1/blobs/<id>`.
    pub(crate) target: &'a str,
    /// `Range: bytes=<from>-` when set.
    pub(crate) range_from: Option<u64>,
}

/// Sends `req` to the server listening on `socket`; `url` names the request in errors.
pub(crate) fn request(
    socket: &Path,
    req: &Request<'_>,
    connect_timeout: Duration,
    read_timeout: Duration,
    url: &str,
) -> Result<Response, BlobError> {
    let conn = |message: String| BlobError::Connection {
        url: url.to_owned(),
        message,
    };
    let mut stream = connect(socket, connect_timeout)
        .map_err(|e| conn(format!("connecting to {}: {e}", socket.display())))?;
    stream
        .set_read_timeout(Some(read_timeout))
        .and_then(|()| stream.set_write_timeout(Some(read_timeout)))
        .map_err(|e| conn(format!("setting socket timeouts: {e}")))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: aic-blob\r\nAccept: */*\r\n",
        req.method.as_str(),
        req.target
    );
    if let Some(from) = req.range_from {
        head.push_str(&format!("Range: bytes={from}-\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| conn(format!("sending the request: {e}")))?;
    read_response(BufReader::new(stream), req.method, url)
}

/// Connects, giving up after `timeout`.
fn connect(path: &Path, timeout: Duration) -> io::Result<UnixStream> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    std::thread::Builder::new()
        .name("aic-blob-connect".to_owned())
        .spawn(move || {
            let _ = tx.send(UnixStream::connect(owned));
        })?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {timeout:?}"),
        )),
    }
}

fn bad(url: &str, message: impl Into<String>) -> BlobError {
    BlobError::BadResponse {
        url: url.to_owned(),
        message: message.into(),
    }
}

/// Reads one response (skipping `1xx` ones) from `reader`. Generic so the parser is tested on
/// byte strings.
pub(crate) fn read_response<R: BufRead + Send + 'static>(
    mut reader: R,
    method: Method,
    url: &str,
) -> Result<Response, BlobError> {
    let mut budget = MAX_HEADER_BYTES;
    loop {
        let line = read_line(&mut reader, &mut budget, url)?;
        let status = parse_status_line(&line).ok_or_else(|| {
            bad(
                url,
                format!(
                    "bad status line {:?}",
                    String::from_utf8_lossy(line.get(..80.min(line.len())).unwrap_or_default())
                ),
            )
        })?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut reader, &mut budget, url)?;
            if line.is_empty() {
                break;
            }
            headers.push(parse_header(&line).ok_or_else(|| {
                bad(
                    url,
                    format!(
                        "bad header line {:?}",
                        String::from_utf8_lossy(line.get(..80.min(line.len())).unwrap_or_default())
                    ),
                )
            })?);
        }
        if (100..200).contains(&status) {
            continue; // an interim answer; the real one follows
        }
        let body = body_reader(reader, method, status, &headers, url)?;
        return Ok(Response {
            status,
            headers,
            body,
        });
    }
}

/// One line without its `\r\n` (or bare `\n`), charged to `budget`.
fn read_line(
    reader: &mut impl BufRead,
    budget: &mut usize,
    url: &str,
) -> Result<Vec<u8>, BlobError> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX);
    let n = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|e| BlobError::Connection {
            url: url.to_owned(),
            message: format!("reading the response headers: {e}"),
        })?;
    *budget = budget.saturating_sub(n);
    if line.last() != Some(&b'\n') {
        if n as u64 == limit {
            return Err(bad(
                url,
                format!("status line and headers exceed {MAX_HEADER_BYTES} bytes"),
            ));
        }
        return Err(bad(
            url,
            "the connection closed inside the response headers",
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// `HTTP/1.x NNN reason` → `NNN`.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix("HTTP/1.")?;
    let (minor, rest) = rest.split_once(' ')?;
    if minor.len() != 1 || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit())
        || !matches!(rest.as_bytes().get(3), None | Some(b' '))
    {
        return None;
    }
    code.parse().ok().filter(|c| (100..600).contains(c))
}

/// `Name: value` → (`name`, `value`). Obsolete line folding and names with spaces are refused.
fn parse_header(line: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(line).ok()?;
    let (name, value) = text.split_once(':')?;
    let token = |b: u8| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim().to_owned()))
}

/// The body's reader, framed per RFC 9112 §6.3.
fn body_reader<R: BufRead + Send + 'static>(
    reader: R,
    method: Method,
    status: u16,
    headers: &[(String, String)],
    url: &str,
) -> Result<Box<dyn Read + Send>, BlobError> {
    if method == Method::Head || status == 204 || status == 304 {
        return Ok(Box::new(io::empty()));
    }
    fn values<'a>(
        headers: &'a [(String, String)],
        name: &'static str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    if let Some(te) = values(headers, "transfer-encoding").last() {
        let last = te.rsplit(',').next().unwrap_or_default().trim();
        if last.eq_ignore_ascii_case("chunked") {
            return Ok(Box::new(Chunked {
                inner: reader,
                left: 0,
                done: false,
            }));
        }
        // Not chunked last: the body runs until the server closes (RFC 9112 §6.3 item 4).
        return Ok(Box::new(reader));
    }
    let mut length = None;
    for v in values(headers, "content-length") {
        // `Content-Length: 5, 5` is allowed when the values agree; anything else is refused.
        for part in v.split(',') {
            let part = part.trim();
            let n = if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse::<u64>().ok()
            } else {
                None
            };
            let n = n.ok_or_else(|| bad(url, format!("bad Content-Length {v:?}")))?;
            if length.is_some_and(|l| l != n) {
                return Err(bad(url, "conflicting Content-Length headers"));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(total) => Box::new(Sized {
            inner: reader,
            left: total,
            total,
        }),
        None => Box::new(reader),
    })
}

/// A body of announced length; ending early is an [`io::ErrorKind::UnexpectedEof`] error.
struct Sized<R> {
    inner: R,
    left: u64,
    total: u64,
}

impl<R: Read> Read for Sized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..max).unwrap_or_default())?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the body ended after {} of {} announced bytes",
                    self.total - self.left,
                    self.total
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A `Transfer-Encoding: chunked` body (extensions ignored, trailers read and dropped).
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk.
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        (&mut self.inner)
            .take(MAX_CHUNK_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunked body: a chunk line is cut off or too long",
            ));
        }
        String::from_utf8(line)
            .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunked body: not text"))
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or_default().trim();
            self.left = u64::from_str_radix(size, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("chunked body: bad chunk size {size:?}"),
                )
            })?;
            if self.left == 0 {
                // Trailer fields until an empty line.
                let mut budget = MAX_HEADER_BYTES;
                loop {
                    let l = self.line()?;
                    budget = budget.saturating_sub(l.len() + 2);
                    if l.is_empty() {
                        break;
                    }
                    if budget == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "chunked body: trailers too long",
                        ));
                    }
                }
                self.done = true;
                return Ok(0);
            }
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..max).unwrap_or_default())?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "chunked body: the connection closed inside a chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 && !self.line()?.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunked body: no line end after a chunk",
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const URL: &str = "unix:/test.sock/api/v1/blobs/x";

    fn parse(bytes: &[u8], method: Method) -> Result<(Response, Vec<u8>), BlobError> {
        let mut r = read_response(Cursor::new(bytes.to_vec()), method, URL)?;
        let mut body = Vec::new();
        r.body
            .read_to_end(&mut body)
            .map_err(|e| BlobError::Connection {
                url: URL.to_owned(),
                message: e.to_string(),
            })?;
        Ok((r, body))
    }

    fn message(e: BlobError) -> String {
        match e {
            BlobError::BadResponse { message, .. } | BlobError::Connection { message, .. } => {
                message
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn well_formed_answers() {
        let (r, body) = parse(
            b"HTTP/1.1 206 Partial Content\r\ncontent-RANGE: bytes 2-4/5\r\nContent-Length: 3\r\n\r\nabcEXTRA",
            Method::Get,
        )
        .unwrap();
        assert_eq!(r.status, 206);
        assert_eq!(r.header("Content-Range"), Some("bytes 2-4/5"));
        assert_eq!(body, b"abc");

        // Interim answers are skipped; chunked bodies decoded, extensions and trailers dropped.
        let (r, body) = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
            Method::Get,
        )
        .unwrap();
        assert_eq!((r.status, body.as_slice()), (200, &b"abcde"[..]));

        // HEAD has no body whatever Content-Length says; no length reads to the close.
        let (_, body) = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
            Method::Head,
        )
        .unwrap();
        assert!(body.is_empty());
        let (_, body) = parse(b"HTTP/1.0 404 Not Found\n\nmissing", Method::Get).unwrap();
        assert_eq!(body, b"missing");
    }

    #[test]
    fn malformed_answers_are_clear_errors() {
        let e = parse(b"HTTP/2 200 OK\r\n\r\n", Method::Get).unwrap_err();
        assert!(message(e).starts_with("bad status line"));
        let e = parse(b"HTTP/1.1 2000 OK\r\n\r\n", Method::Get).unwrap_err();
        assert!(message(e).starts_with("bad status line"));
        let e = parse(b"SSH-2.0-OpenSSH\r\n", Method::Get).unwrap_err();
        assert!(message(e).starts_with("bad status line"));

        let e = parse(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", Method::Get).unwrap_err();
        assert!(message(e).starts_with("bad header line"));
        let e = parse(b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", Method::Get).unwrap_err();
        assert!(message(e).starts_with("bad header line"));

        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        while huge.len() <= MAX_HEADER_BYTES {
            huge.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        huge.extend_from_slice(b"\r\n");
        let e = parse(&huge, Method::Get).unwrap_err();
        assert_eq!(
            message(e),
            format!("status line and headers exceed {MAX_HEADER_BYTES} bytes")
        );

        let e = parse(b"HTTP/1.1 200 OK\r\nContent-Len", Method::Get).unwrap_err();
        assert_eq!(
            message(e),
            "the connection closed inside the response headers"
        );

        let e = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            Method::Get,
        )
        .unwrap_err();
        assert_eq!(message(e), "the body ended after 3 of 10 announced bytes");

        let e = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            Method::Get,
        )
        .unwrap_err();
        assert_eq!(message(e), "conflicting Content-Length headers");
        let e = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            Method::Get,
        )
        .unwrap_err();
        assert!(message(e).starts_with("bad Content-Length"));

        let e = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            Method::Get,
        )
        .unwrap_err();
        assert!(message(e).contains("bad chunk size"));
        let e = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            Method::Get,
        )
        .unwrap_err();
        assert!(message(e).contains("closed inside a chunk"));
    }

    #[test]
    fn a_missing_socket_is_a_connection_error() {
        let req = Request {
            method: Method::Get,
            target: "/",
            range_from: None,
        };
        let e = request(
            Path::new("/nonexistent/aic.sock"),
            &req,
            Duration::from_secs(1),
            Duration::from_secs(1),
            URL,
        )
        .err()
        .unwrap();
        assert!(message(e).starts_with("connecting to /nonexistent/aic.sock"));
    }
}
