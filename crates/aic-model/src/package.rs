//! The package: a reproducible tar archive of the manifest, the optional model card and
//! vocabulary, and the weights, addressed by the BLAKE3 of its bytes.
//!
//! # Format
//!
//! A POSIX ustar archive whose entries are, in this order, `aicmodel.toml`, `README.md`
//! (optional), `vocab.txt` (optional) and `weights.safetensors`: the manifest first, so a
//! reader knows the hashes before the large file. Every header has mode `0644`, uid and gid 0,
//! mtime 0, empty user and group names and type "regular file"; the archive ends with the two
//! zero blocks of the standard and nothing else. The files are stored byte for byte as given.
//! The same files therefore always give the same bytes, and the package id, the BLAKE3 of those
//! bytes, names the package.
//!
//! # Invariants
//!
//! [`unpack`] accepts exactly the archives [`pack`] makes: it re-packs what it read and refuses
//! any difference, so a package is valid if and only if it is the canonical archive of valid
//! files. Changing any byte (the weights, a header, the padding) either breaks a rule (the
//! weights no longer hash to `weights.blake3`) or changes the id.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::featurizer::Featurizer;
use crate::manifest::{Manifest, WeightsFormat};
use crate::safetensors::read_tensors;
use crate::validate::{validate, ManifestError, Rule};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "aicmodel.toml";
/// The model card's file name.
pub const CARD_FILE: &str = "README.md";
/// The vocabulary's file name.
pub const VOCAB_FILE: &str = "vocab.txt";
/// The weights' file name (safetensors weights).
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// The weights' file name of an ONNX model.
pub const ONNX_WEIGHTS_FILE: &str = "weights.onnx";

/// The weights' file name for a weights format.
pub fn weights_file(format: WeightsFormat) -> &'static str {
    match format {
        WeightsFormat::Safetensors => WEIGHTS_FILE,
        WeightsFormat::Onnx => ONNX_WEIGHTS_FILE,
    }
}

/// The weights' file name the manifest bytes name (safetensors when they do not parse).
fn weights_file_of(manifest: &[u8]) -> &'static str {
    parse_manifest(manifest).map_or(WEIGHTS_FILE, |m| weights_file(m.weights.format))
}
/// The extension of a package file.
pub const PACKAGE_EXTENSION: &str = "aicpkg";

/// A package's content address: the BLAKE3 of its archive bytes. Written as 64 lower-case hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId(pub [u8; 32]);

impl PackageId {
    /// The id of archive bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackageId({self})")
    }
}

/// Text that is not a package id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a package id (64 lower-case hex digits)")]
pub struct BadPackageId(pub String);

impl FromStr for PackageId {
    type Err = BadPackageId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !crate::validate::is_hash(s) {
            return Err(BadPackageId(s.to_string()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| BadPackageId(s.to_string()))?;
        Ok(Self(out))
    }
}

impl Serialize for PackageId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PackageId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The files of a package, as bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageFiles {
    /// `aicmodel.toml`.
    pub manifest: Vec<u8>,
    /// `README.md`, the model card.
    pub card: Option<Vec<u8>>,
    /// `vocab.txt`, the tokenizer's vocabulary.
    pub vocab: Option<Vec<u8>>,
    /// `weights.safetensors` (`weights.onnx` when the manifest's `weights.format` is `onnx`).
    pub weights: Vec<u8>,
}

impl PackageFiles {
    /// Reads the files from a directory (the card and vocabulary when present).
    pub fn read_dir(dir: &Path) -> std::io::Result<Self> {
        let optional = |name: &str| match std::fs::read(dir.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let manifest = std::fs::read(dir.join(MANIFEST_FILE))?;
        let weights = std::fs::read(dir.join(weights_file_of(&manifest)))?;
        Ok(Self {
            manifest,
            card: optional(CARD_FILE)?,
            vocab: optional(VOCAB_FILE)?,
            weights,
        })
    }

    /// Writes the files into a directory (which must exist), replacing files of the same names.
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        for (name, bytes) in self.entries() {
            std::fs::write(dir.join(name), bytes)?;
        }
        Ok(())
    }

    /// The files present, in archive order.
    fn entries(&self) -> Vec<(&'static str, &[u8])> {
        let mut v = vec![(MANIFEST_FILE, self.manifest.as_slice())];
        if let Some(c) = &self.card {
            v.push((CARD_FILE, c));
        }
        if let Some(c) = &self.vocab {
            v.push((VOCAB_FILE, c));
        }
        v.push((weights_file_of(&self.manifest), &self.weights));
        v
    }
}

/// Why a package could not be made, read or trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// The manifest or the files break rules of the standard.
    #[error("{} rule(s) broken; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<ManifestError>),
    /// The bytes are not a canonical package archive.
    #[error("not a package archive: {0}")]
    Archive(String),
    /// The archive does not hash to the id it was expected to have.
    #[error("package id is {actual}, expected {expected}")]
    IdMismatch {
        /// The id asked for.
        expected: PackageId,
        /// The id of the bytes.
        actual: PackageId,
    },
    /// Reading or writing files failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A packed model: the archive and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// BLAKE3 of `bytes`.
    pub id: PackageId,
    /// The archive.
    pub bytes: Vec<u8>,
}

/// A package read back and verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Unpacked {
    /// BLAKE3 of the archive.
    pub id: PackageId,
    /// The parsed, valid manifest.
    pub manifest: Manifest,
    /// The files.
    pub files: PackageFiles,
}

fn hash_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Parses the manifest of a set of files (UTF-8, TOML, the manifest types).
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ManifestError {
        path: String::new(),
        rule: Rule::Parse,
        message: format!("the manifest is not UTF-8: {e}"),
    })?;
    Manifest::from_toml_str(text)
}

/// Checks the rules that tie the files to a manifest: the weights hash to `weights.blake3`,
/// have `weights.size` bytes, are valid safetensors holding exactly `weights.tensors`; the
/// vocabulary is there when the tokenizer names one, and matches it.
pub fn check_files(m: &Manifest, files: &PackageFiles) -> Result<(), Vec<ManifestError>> {
    let mut errors = Vec::new();
    let mut err = |path: &str, rule, message: String| {
        errors.push(ManifestError {
            path: path.to_string(),
            rule,
            message,
        })
    };
    let w = &m.weights;
    let actual = hash_hex(&files.weights);
    if w.blake3.is_empty() {
        err(
            "weights.blake3",
            Rule::WeightsHashMissing,
            format!(
                "the weights file hashes to {actual}; set it (aic model pack --update-weights)"
            ),
        );
    } else if w.blake3 != actual {
        err(
            "weights.blake3",
            Rule::WeightsHashMismatch,
            format!("the weights file hashes to {actual}, not {}", w.blake3),
        );
    }
    if w.size != files.weights.len() as u64 {
        err(
            "weights.size",
            Rule::WeightsSizeMismatch,
            format!(
                "the weights file has {} bytes, not {}",
                files.weights.len(),
                w.size
            ),
        );
    }
    match read_tensors(&files.weights) {
        // An ONNX file is a protobuf the engine reads; its tensors are not listed.
        _ if w.format == WeightsFormat::Onnx => {}
        Err(e) => err("weights", Rule::BadSafetensors, e.to_string()),
        Ok(tensors) => {
            let mut listed = w.tensors.clone();
            listed.sort_by(|a, b| a.name.cmp(&b.name));
            if listed != tensors {
                let first = tensors
                    .iter()
                    .zip(&listed)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("; first difference: file {a:?}, manifest {b:?}"))
                    .unwrap_or_default();
                err(
                    "weights.tensors",
                    Rule::WeightsTensorMismatch,
                    format!(
                        "the file holds {} tensors, the manifest lists {}{first}",
                        tensors.len(),
                        listed.len()
                    ),
                );
            }
        }
    }
    let tokenizer = match &m.data.featurizer {
        Featurizer::Tokenizer(p) => Some(p),
        _ => None,
    };
    let named = tokenizer.map(|p| p.vocab_blake3.as_str()).unwrap_or("");
    match (&files.vocab, named) {
        (None, "") => {}
        (None, h) => err(
            "data.featurizer.vocab_blake3",
            Rule::VocabMissing,
            format!("the tokenizer names vocabulary {h} and the package has no {VOCAB_FILE}"),
        ),
        (Some(v), h) => {
            let actual = hash_hex(v);
            if actual != h {
                err(
                    "data.featurizer.vocab_blake3",
                    Rule::VocabHashMismatch,
                    format!("{VOCAB_FILE} hashes to {actual}, not {h:?}"),
                );
            } else if let Some(p) = tokenizer {
                let lines = v.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
                if lines as u64 + 2 != u64::from(p.vocab_size) {
                    err(
                        "data.featurizer.vocab_size",
                        Rule::VocabSizeMismatch,
                        format!(
                            "{VOCAB_FILE} has {lines} tokens; vocab_size {} needs {}",
                            p.vocab_size,
                            p.vocab_size.saturating_sub(2)
                        ),
                    );
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates the manifest and the files, then writes the canonical archive.
pub fn pack(files: &PackageFiles) -> Result<Package, PackError> {
    let m = parse_manifest(&files.manifest).map_err(|e| PackError::Invalid(vec![e]))?;
    validate(&m).map_err(PackError::Invalid)?;
    check_files(&m, files).map_err(PackError::Invalid)?;
    let bytes = archive(files)?;
    Ok(Package {
        id: PackageId::of(&bytes),
        bytes,
    })
}

fn archive(files: &PackageFiles) -> Result<Vec<u8>, PackError> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files.entries() {
        let mut h = tar::Header::new_ustar();
        h.set_path(name)?;
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, data)?;
    }
    Ok(b.into_inner()?)
}

/// Reads a package, validates it, and refuses anything but the canonical archive of valid
/// files (see the module's invariants).
pub fn unpack(bytes: &[u8]) -> Result<Unpacked, PackError> {
    let bad = |m: String| PackError::Archive(m);
    let mut files = PackageFiles::default();
    let mut seen: Vec<String> = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad(format!("{name:?} is not a regular file")));
        }
        let slot = match name.as_str() {
            MANIFEST_FILE => &mut files.manifest,
            WEIGHTS_FILE | ONNX_WEIGHTS_FILE => &mut files.weights,
            CARD_FILE => files.card.insert(Vec::new()),
            VOCAB_FILE => files.vocab.insert(Vec::new()),
            _ => return Err(bad(format!("unexpected entry {name:?}"))),
        };
        if seen.contains(&name) {
            return Err(bad(format!("{name:?} appears twice")));
        }
        entry
            .read_to_end(slot)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        seen.push(name);
    }
    let weights_name = weights_file_of(&files.manifest);
    for required in [MANIFEST_FILE, weights_name] {
        if !seen.iter().any(|s| s == required) {
            return Err(bad(format!("no {required}")));
        }
    }
    if seen.iter().any(|s| s == WEIGHTS_FILE) && seen.iter().any(|s| s == ONNX_WEIGHTS_FILE) {
        return Err(bad(format!("both {WEIGHTS_FILE} and {ONNX_WEIGHTS_FILE}")));
    }
    let package = pack(&files)?;
    if package.bytes != bytes {
        return Err(bad(
            "the archive is not in canonical form (order, headers, padding or trailing bytes differ)"
                .into(),
        ));
    }
    let manifest = parse_manifest(&files.manifest).map_err(|e| PackError::Invalid(vec![e]))?;
    Ok(Unpacked {
        id: package.id,
        manifest,
        files,
    })
}

/// [`unpack`]s a package fetched by id, refusing it unless its bytes hash to `expected`.
pub fn verify(bytes: &[u8], expected: &PackageId) -> Result<Unpacked, PackError> {
    let actual = PackageId::of(bytes);
    if actual != *expected {
        return Err(PackError::IdMismatch {
            expected: *expected,
            actual,
        });
    }
    unpack(bytes)
}

/// Sets `weights.blake3`, `weights.size` and `weights.tensors` in a manifest's text from a
/// weights file, keeping the rest of the text (comments, order) as it is. Refuses weights that
/// are not valid safetensors; ONNX weights (`weights.format = "onnx"`) get the hash and size
/// only.
pub fn fill_weights(manifest_text: &str, weights: &[u8]) -> Result<String, PackError> {
    let invalid = |path: &str, rule, message: String| {
        PackError::Invalid(vec![ManifestError {
            path: path.into(),
            rule,
            message,
        }])
    };
    let onnx = weights_file_of(manifest_text.as_bytes()) == ONNX_WEIGHTS_FILE;
    let tensors = if onnx {
        Vec::new()
    } else {
        read_tensors(weights)
            .map_err(|e| invalid("weights", Rule::BadSafetensors, e.to_string()))?
    };
    let mut doc: toml_edit::DocumentMut = manifest_text
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid("", Rule::Parse, e.message().to_string()))?;
    let Some(w) = doc.get_mut("weights").and_then(|w| w.as_table_like_mut()) else {
        return Err(invalid(
            "weights",
            Rule::Parse,
            "missing table `weights`".into(),
        ));
    };
    w.insert("blake3", toml_edit::value(hash_hex(weights)));
    w.insert("size", toml_edit::value(weights.len() as i64));
    let mut list = toml_edit::Array::new();
    for t in &tensors {
        let mut it = toml_edit::InlineTable::new();
        it.insert("name", t.name.as_str().into());
        let dtype = serde_json::to_value(t.dtype)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        it.insert("dtype", dtype.into());
        let shape: toml_edit::Array = t.shape.iter().map(|d| *d as i64).collect();
        it.insert("shape", shape.into());
        let mut v = toml_edit::Value::InlineTable(it);
        v.decor_mut().set_prefix("\n    ");
        list.push_formatted(v);
    }
    list.set_trailing("\n");
    list.set_trailing_comma(true);
    if onnx {
        w.remove("tensors");
    } else {
        w.insert("tensors", toml_edit::value(list));
    }
    Ok(doc.to_string())
}
