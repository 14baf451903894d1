//! A job's model as a package directory: the blob named by the job's model id, fetched from
//! the node once and unpacked under `DIR/models/ID`.

use std::path::PathBuf;

use super::agent::Market;
use super::error::{io, MarketError};

impl Market {
    /// The package directory of model `id`, fetched and unpacked on first use.
    pub(super) fn model_dir(&self, id: &str) -> Result<PathBuf, MarketError> {
        let dir = super::models_dir(&self.setup.dir).join(id);
        if dir.join("aicmodel.toml").is_file() {
            return Ok(dir);
        }
        let bytes = self.setup.node.blob(id)?;
        let part = dir.with_extension("part");
        let _ = std::fs::remove_dir_all(&part);
        std::fs::create_dir_all(&part).map_err(io(&part))?;
        (self.setup.runtime.unpack_model)(&bytes, &part).map_err(|message| MarketError::Model {
            id: id.into(),
            message,
        })?;
        std::fs::rename(&part, &dir).map_err(io(&dir))?;
        Ok(dir)
    }
}
