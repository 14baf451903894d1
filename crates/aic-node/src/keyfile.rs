//! Wallet key files: one ed25519 key per file, readable only by its owner.

use std::io::Write;
use std::path::{Path, PathBuf};

use aic_primitives::{Address, Network, SecretKey};
use serde::{Deserialize, Serialize};

/// A wallet key and the network it is for.
#[derive(Debug)]
pub struct KeyFile {
    /// The network.
    pub network: Network,
    /// The key.
    pub key: SecretKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDisk {
    network: String,
    address: String,
    secret_seed_hex: String,
}

/// A key file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// IO failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file exists already (creating never overwrites a key).
    #[error("{0} exists already; refusing to overwrite a key")]
    Exists(PathBuf),
    /// The content is not a key file.
    #[error("{path} is not a valid key file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl KeyFile {
    /// A new random key for `network`.
    pub fn generate(network: Network) -> KeyFile {
        KeyFile {
            network,
            key: SecretKey::generate(),
        }
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        Address::from_public_key(&self.key.public_key())
    }

    /// Writes a new file with mode 0600; fails if it exists.
    pub fn create(&self, path: &Path) -> Result<(), KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let body = OnDisk {
            network: self.network.to_string(),
            address: self.address().to_bech32(self.network),
            secret_seed_hex: hex::encode(self.key.to_seed()),
        };
        let text = serde_json::to_string_pretty(&body).map_err(|e| KeyFileError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyFileError::Exists(path.to_owned())
            } else {
                io(e)
            }
        })?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<KeyFile, KeyFileError> {
        let invalid = |reason: String| KeyFileError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        let disk: OnDisk = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let network: Network = disk.network.parse().map_err(|e| invalid(format!("{e}")))?;
        let mut seed = [0u8; 32];
        hex::decode_to_slice(disk.secret_seed_hex.trim(), &mut seed)
            .map_err(|e| invalid(format!("secret_seed_hex: {e}")))?;
        let kf = KeyFile {
            network,
            key: SecretKey::from_seed(seed),
        };
        if kf.address().to_bech32(network) != disk.address {
            return Err(invalid("address does not match the key".to_owned()));
        }
        Ok(kf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_load_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.key");
        let k = KeyFile::generate(Network::Devnet);
        k.create(&path).unwrap();
        let back = KeyFile::load(&path).unwrap();
        assert_eq!(back.address(), k.address());
        assert!(matches!(k.create(&path), Err(KeyFileError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
