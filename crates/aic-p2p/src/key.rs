//! The node's network identity: an ed25519 key kept in a file, so a restarted node keeps its
//! peer id (and the bans and scores others hold of it).

use std::io::Write;
use std::path::Path;

use libp2p::identity::Keypair;

/// Loads the key at `path`, or creates one there (mode 0600 on Unix) if the file is absent.
pub fn load_or_create_key(path: &Path) -> std::io::Result<Keypair> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: a network key is 32 bytes", path.display()),
                )
            })?;
            Keypair::ed25519_from_bytes(&mut secret)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = libp2p::identity::ed25519::Keypair::generate();
            let secret = key.secret();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(path)?;
            f.write_all(secret.as_ref())?;
            f.sync_all()?;
            Ok(Keypair::from(key))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_survives_a_reload_and_a_bad_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p2p.key");
        let a = load_or_create_key(&path).unwrap();
        let b = load_or_create_key(&path).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        std::fs::write(&path, b"short").unwrap();
        assert!(load_or_create_key(&path).is_err());
    }
}
