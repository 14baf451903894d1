//! Publishing a digitized data set to a node: its shards, then its manifest.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use aic_data::DatasetManifest;

use crate::fetch::blob_url;
use crate::{BlobError, BlobId};

/// What [`publish`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishReport {
    /// The data set id: BLAKE3 of `manifest.json`.
    pub dataset: BlobId,
    /// Blobs sent.
    pub uploaded: Vec<BlobId>,
    /// Blobs the node already had (answered `HEAD` with 200).
    pub skipped: Vec<BlobId>,
    /// Bytes sent.
    pub bytes: u64,
}

fn dataset_error(path: &Path, message: impl Into<String>) -> BlobError {
    BlobError::Dataset {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Uploads `dir/shards/<id>` for every shard of `dir/manifest.json` and every `dir/blobs/<id>`
/// (a vocabulary the manifest names), then the manifest, to the
/// node at `base_url` (`PUT /api/v1/blobs/{id}`, with `authorization` as the `Authorization`
/// header). Blobs the node has are skipped. The manifest goes last, so a node that has a data
/// set's manifest has its shards. The node verifies every hash; this side checks the manifest
/// and the shard sizes.
pub fn publish(
    dir: &Path,
    base_url: &str,
    authorization: Option<&str>,
) -> Result<PublishReport, BlobError> {
    let manifest_path = dir.join("manifest.json");
    let bytes = std::fs::read(&manifest_path).map_err(BlobError::io(format!(
        "reading {}",
        manifest_path.display()
    )))?;
    let manifest = DatasetManifest::from_json(&bytes)
        .map_err(|e| dataset_error(&manifest_path, e.to_string()))?;
    let dataset = BlobId::of(&bytes);
    if manifest.blake3_hex() != dataset.to_hex() {
        return Err(dataset_error(
            &manifest_path,
            "not in canonical form (DatasetManifest::to_json): its hash would not be the data set id",
        ));
    }
    if base_url.starts_with(crate::transport::UNIX_PREFIX) {
        return Err(BlobError::Connection {
            url: base_url.to_owned(),
            message: "publishing needs a node's http:// URL; unix: sockets serve reads only"
                .to_owned(),
        });
    }
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut report = PublishReport {
        dataset,
        uploaded: Vec::new(),
        skipped: Vec::new(),
        bytes: 0,
    };
    let mut items = Vec::with_capacity(manifest.shards.len() + 1);
    for shard in &manifest.shards {
        let id: BlobId = shard.blake3.parse()?;
        let path = dir.join("shards").join(&shard.blake3);
        let len = std::fs::metadata(&path)
            .map_err(BlobError::io(format!("reading {}", path.display())))?
            .len();
        if len != shard.bytes {
            return Err(dataset_error(
                &path,
                format!("{len} bytes, the manifest says {}", shard.bytes),
            ));
        }
        items.push((id, path, len));
    }
    // Side blobs the manifest names (a text data set's vocabulary): `dir/blobs/<id>`.
    let blobs_dir = dir.join("blobs");
    if blobs_dir.is_dir() {
        let entries = std::fs::read_dir(&blobs_dir)
            .map_err(BlobError::io(format!("reading {}", blobs_dir.display())))?;
        let mut side = Vec::new();
        for entry in entries {
            let entry = entry.map_err(BlobError::io(format!("reading {}", blobs_dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(id) = name.parse::<BlobId>() else {
                continue;
            };
            let path = entry.path();
            let len = entry
                .metadata()
                .map_err(BlobError::io(format!("reading {}", path.display())))?
                .len();
            side.push((id, path, len));
        }
        side.sort_by(|a, b| a.1.cmp(&b.1));
        items.extend(side);
    }
    items.push((dataset, manifest_path, bytes.len() as u64));
    for (id, path, len) in items {
        let url = blob_url(base_url, &id);
        match agent.head(&url).call() {
            Ok(_) => {
                report.skipped.push(id);
                continue;
            }
            Err(ureq::Error::Status(404, _)) => {}
            Err(e) => return Err(http_error(&url, e)),
        }
        let file =
            File::open(&path).map_err(BlobError::io(format!("opening {}", path.display())))?;
        let mut req = agent
            .put(&url)
            .set("Content-Type", "application/octet-stream")
            .set("Content-Length", &len.to_string());
        if let Some(a) = authorization {
            req = req.set("Authorization", a);
        }
        req.send(file).map_err(|e| http_error(&url, e))?;
        report.uploaded.push(id);
        report.bytes += len;
    }
    Ok(report)
}

fn http_error(url: &str, e: ureq::Error) -> BlobError {
    match e {
        ureq::Error::Status(status, _) => BlobError::Http {
            url: url.to_owned(),
            status,
        },
        ureq::Error::Transport(t) => BlobError::Connection {
            url: url.to_owned(),
            message: t.to_string(),
        },
    }
}
