//! The worker's identity: one ed25519 key in a file only its owner can read.

use std::io::Write;
use std::path::{Path, PathBuf};

use aic_primitives::{Address, Network, SecretKey};
use serde::{Deserialize, Serialize};

/// File name of the identity key inside the worker's data directory.
pub const IDENTITY_FILE: &str = "provider.key";

/// The key a worker signs its announcements and reports with, and the network it is for.
///
/// # Invariants
/// `Debug` never shows the secret key.
#[derive(Debug, Clone)]
pub struct Identity {
    network: Network,
    key: SecretKey,
}

/// On disk: the same JSON as a wallet key file (`aic wallet`), written with mode 0600.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDisk {
    network: String,
    address: String,
    secret_seed_hex: String,
}

/// An identity file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// IO failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The content is not a key file.
    #[error("{path} is not a valid key file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key is for another network.
    #[error("{path} holds a {found} key; this worker runs on {expected}")]
    WrongNetwork {
        /// The file.
        path: PathBuf,
        /// Its network.
        found: Network,
        /// The network asked for.
        expected: Network,
    },
    /// Others than the owner may read the file.
    #[error("{path} has mode {mode:o}; a key must be readable by its owner only (chmod 600)")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl Identity {
    /// An identity with `key` on `network`.
    pub fn new(network: Network, key: SecretKey) -> Identity {
        Identity { network, key }
    }

    /// A fresh random identity on `network`.
    pub fn generate(network: Network) -> Identity {
        Identity::new(network, SecretKey::generate())
    }

    /// Loads the identity at `path`, or creates one there (mode 0600, never overwriting) if
    /// there is no file.
    pub fn load_or_create(path: &Path, network: Network) -> Result<Identity, IdentityError> {
        match Identity::load(path, network) {
            Err(IdentityError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                let id = Identity::generate(network);
                match id.create(path) {
                    Ok(()) => Ok(id),
                    // Another process created it first: use theirs.
                    Err(IdentityError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists =>
                    {
                        Identity::load(path, network)
                    }
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }

    /// Reads the identity at `path`, refusing a key for another network or one that others may
    /// read.
    pub fn load(path: &Path, network: Network) -> Result<Identity, IdentityError> {
        let invalid = |reason: String| IdentityError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let io = |source| IdentityError::Io {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(IdentityError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        let disk: OnDisk = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let found: Network = disk.network.parse().map_err(|e| invalid(format!("{e}")))?;
        if found != network {
            return Err(IdentityError::WrongNetwork {
                path: path.to_owned(),
                found,
                expected: network,
            });
        }
        let mut seed = [0u8; 32];
        hex::decode_to_slice(disk.secret_seed_hex.trim(), &mut seed)
            .map_err(|e| invalid(format!("secret_seed_hex: {e}")))?;
        let id = Identity::new(network, SecretKey::from_seed(seed));
        if id.address_text() != disk.address {
            return Err(invalid("address does not match the key".to_owned()));
        }
        Ok(id)
    }

    /// Writes the identity to a new file with mode 0600; fails if the file exists.
    pub fn create(&self, path: &Path) -> Result<(), IdentityError> {
        let io = |source| IdentityError::Io {
            path: path.to_owned(),
            source,
        };
        let body = OnDisk {
            network: self.network.to_string(),
            address: self.address_text(),
            secret_seed_hex: hex::encode(self.key.to_seed()),
        };
        let text = serde_json::to_string_pretty(&body).map_err(|e| IdentityError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The signing key.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// The worker's address.
    pub fn address(&self) -> Address {
        Address::from_public_key(&self.key.public_key())
    }

    /// The worker's address in bech32m.
    pub fn address_text(&self) -> String {
        self.address().to_bech32(self.network)
    }

    /// The public key, 64 hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.public_key().to_bytes())
    }

    /// Signs `message`, 128 hex digits.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).0)
    }
}
