//! One request path for both transports: HTTP over TCP (ureq) for `http://` and `https://`
//! base URLs, and HTTP/1.1 over a Unix socket ([`crate::unix_http`]) for `unix:/abs/path.sock`
//! bases. Both yield a [`Response`] whose body is a plain reader, so the fetcher's writing,
//! hashing and verification are the same code whatever the transport.
//!
//! Statuses are not errors here: a 404 or a 416 comes back as a [`Response`] and the caller
//! maps it, once, for both transports. Only failures to get any answer (connect, read, a
//! malformed response) are errors: [`BlobError::Connection`] and [`BlobError::BadResponse`].

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::fetch::blob_url;
use crate::{unix_http, BlobError, BlobId};

/// The prefix that marks a base URL as a Unix socket path.
pub(crate) const UNIX_PREFIX: &str = "unix:";

/// `GET` or `HEAD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

/// An answer: status, headers and a body reader that ends where the body ends (a short body is
/// a read error, not an early end, on the Unix transport; ureq's own framing on TCP).
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header names lowercased; values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Box<dyn Read + Send>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The first value of header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends requests for blobs to base URLs of either kind, with one pair of timeouts.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl Transport {
    pub(crate) fn new(connect_timeout: Duration, read_timeout: Duration) -> Transport {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(connect_timeout)
            .timeout_read(read_timeout)
            .build();
        Transport {
            agent,
            connect_timeout,
            read_timeout,
        }
    }

    /// `method` on blob `id` at `base`, asking for bytes from `from` on when `from > 0`.
    pub(crate) fn request(
        &self,
        method: Method,
        base: &str,
        id: &BlobId,
        from: u64,
    ) -> Result<Response, BlobError> {
        let url = blob_url(base, id);
        let range = (from > 0).then_some(from);
        if let Some(socket) = base.strip_prefix(UNIX_PREFIX) {
            let socket = socket.trim_end_matches('/');
            if !socket.starts_with('/') {
                return Err(BlobError::Connection {
                    url,
                    message: "a unix: base URL needs an absolute socket path (unix:/path/to.sock)"
                        .to_owned(),
                });
            }
            let target = format!("/api/v1/blobs/{id}");
            return unix_http::request(
                Path::new(socket),
                &unix_http::Request {
                    method,
                    target: &target,
                    range_from: range,
                },
                self.connect_timeout,
                self.read_timeout,
                &url,
            );
        }
        let mut req = match method {
            Method::Get => self.agent.get(&url),
            Method::Head => self.agent.head(&url),
        };
        if let Some(from) = range {
            req = req.set("Range", &format!("bytes={from}-"));
        }
        let resp = match req.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                return Err(BlobError::Connection {
                    url,
                    message: t.to_string(),
                })
            }
        };
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                let v = resp.header(&n)?.trim().to_owned();
                Some((n.to_ascii_lowercase(), v))
            })
            .collect();
        Ok(Response {
            status: resp.status(),
            headers,
            body: resp.into_reader(),
        })
    }
}
