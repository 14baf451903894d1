//! Reading a model to run: a package file (`.aicpkg`, verified whole) or a package directory
//! (manifest validated, weights checked against the manifest's BLAKE3, size and tensor list).

use std::path::{Path, PathBuf};

use aic_model::{
    check_files, parse_manifest, unpack, validate, verify, Manifest, ManifestError, PackError,
    PackageFiles, PackageId, MANIFEST_FILE, PACKAGE_EXTENSION,
};

/// Why a model could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The package or its files break rules of the standard.
    #[error("{path}: {}", first_rules(.errors))]
    Invalid {
        /// The file or directory.
        path: PathBuf,
        /// Every broken rule.
        errors: Vec<ManifestError>,
    },
    /// The package archive is refused.
    #[error("{path}: {source}")]
    Package {
        /// The package file.
        path: PathBuf,
        /// Why.
        source: PackError,
    },
}

fn first_rules(errors: &[ManifestError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("{} rule(s) broken: {}", errors.len(), lines.join("; "))
}

/// A model read from disk and checked.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// Where it was read from.
    pub path: PathBuf,
    /// The valid manifest.
    pub manifest: Manifest,
    /// Its files; the weights hash to `manifest.weights.blake3`.
    pub files: PackageFiles,
    /// The package id, when read from a package file.
    pub package_id: Option<PackageId>,
}

impl LoadedModel {
    /// BLAKE3 of the weights file (checked equal to the manifest's).
    pub fn weights_blake3(&self) -> &str {
        &self.manifest.weights.blake3
    }

    /// The model's id: the package id when read from a package, else the weights' BLAKE3.
    pub fn id(&self) -> String {
        match &self.package_id {
            Some(id) => id.to_string(),
            None => self.weights_blake3().to_string(),
        }
    }
}

/// Reads and checks a model. `path` is a package file (`*.aicpkg`, refused unless canonical
/// and valid, and unless its id is `expected` when given), a package directory, or the
/// `aicmodel.toml` of one.
pub fn load_model(path: &Path, expected: Option<&PackageId>) -> Result<LoadedModel, LoadError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| LoadError::Io { path: p, source }
    };
    if path.is_file() && path.extension().is_some_and(|e| e == PACKAGE_EXTENSION) {
        let bytes = std::fs::read(path).map_err(io(path))?;
        let u = match expected {
            Some(id) => verify(&bytes, id),
            None => unpack(&bytes),
        }
        .map_err(|source| LoadError::Package {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(LoadedModel {
            path: path.to_path_buf(),
            manifest: u.manifest,
            files: u.files,
            package_id: Some(u.id),
        });
    }
    let dir = if path.is_file() && path.file_name().is_some_and(|n| n == MANIFEST_FILE) {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    let files = PackageFiles::read_dir(&dir).map_err(io(&dir))?;
    let invalid = |errors| LoadError::Invalid {
        path: dir.clone(),
        errors,
    };
    let manifest = parse_manifest(&files.manifest).map_err(|e| invalid(vec![e]))?;
    validate(&manifest).map_err(invalid)?;
    check_files(&manifest, &files).map_err(invalid)?;
    Ok(LoadedModel {
        path: dir.clone(),
        manifest,
        files,
        package_id: None,
    })
}
