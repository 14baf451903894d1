//! HTTP Basic authentication for JSON-RPC, as Bitcoin Core does it.

use std::io::Write;
use std::path::Path;

use base64::Engine;

/// Name of the cookie file in the data directory.
pub const COOKIE_FILE: &str = ".cookie";
const COOKIE_USER: &str = "__cookie__";

/// Accepted JSON-RPC credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcAuth {
    user: String,
    password: String,
}

impl std::fmt::Debug for RpcAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RpcAuth({}:<redacted>)", self.user)
    }
}

impl RpcAuth {
    /// Credentials set by the operator.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> RpcAuth {
        RpcAuth {
            user: user.into(),
            password: password.into(),
        }
    }

    /// Fresh random cookie credentials, written to `dir/.cookie` as `__cookie__:<hex>` with
    /// mode 0600 (Bitcoin Core's cookie authentication).
    pub fn create_cookie(dir: &Path) -> std::io::Result<RpcAuth> {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        let auth = RpcAuth::new(COOKIE_USER, hex::encode(secret));
        let path = dir.join(COOKIE_FILE);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&path)?;
        // The mode above applies only to a new file: tighten one left by an earlier run too.
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        write!(f, "{}:{}", auth.user, auth.password)?;
        Ok(auth)
    }

    /// Reads credentials from a cookie file.
    pub fn read_cookie(path: &Path) -> std::io::Result<RpcAuth> {
        let text = std::fs::read_to_string(path)?;
        let (user, password) = text.trim().split_once(':').ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "cookie is not user:password",
            )
        })?;
        Ok(RpcAuth::new(user, password))
    }

    /// The `Authorization` header value for these credentials.
    pub fn header_value(&self) -> String {
        let raw = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// True if `header` (an `Authorization` value) carries these credentials.
    pub fn check(&self, header: Option<&str>) -> bool {
        let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let expected = format!("{}:{}", self.user, self.password);
        constant_time_eq(&raw, expected.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_round_trip_and_cookie() {
        let a = RpcAuth::new("u", "p");
        assert!(a.check(Some(&a.header_value())));
        assert!(!a.check(Some(&RpcAuth::new("u", "q").header_value())));
        assert!(!a.check(None));
        assert!(!a.check(Some("Basic !!!")));
        let dir = tempfile::tempdir().unwrap();
        let c = RpcAuth::create_cookie(dir.path()).unwrap();
        assert_eq!(
            RpcAuth::read_cookie(&dir.path().join(COOKIE_FILE)).unwrap(),
            c
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(COOKIE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
