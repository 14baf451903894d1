//! `aic model`: init, check, pack, unpack and info over `aic_model`.

use std::path::{Path, PathBuf};

use aic_model::{
    check_files, fill_weights, model_card, pack, parse_manifest, template_toml, unpack, validate,
    verify, Manifest, ManifestError, ModelInfo, PackError, PackageFiles, PackageId, Task,
    CARD_FILE, MANIFEST_FILE, PACKAGE_EXTENSION, WEIGHTS_FILE,
};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::ModelCommand;

pub(crate) fn run(cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Init {
            task,
            dir,
            name,
            force,
            json,
        } => init(&task, &dir, name, force, json),
        ModelCommand::Check { path, json } => check(&path, json),
        ModelCommand::Publish(args) => crate::market::publish_model(args),
        ModelCommand::Pack {
            dir,
            out,
            update_weights,
            json,
        } => pack_dir(&dir, out, update_weights, json),
        ModelCommand::Unpack {
            package,
            dir,
            id,
            json,
        } => unpack_to(&package, &dir, id.as_deref(), json),
        ModelCommand::Info { path, id, json } => info(&path, id.as_deref(), json),
        ModelCommand::Train {
            dir,
            data,
            sources,
            cache,
            budget_mib,
            job_socket,
            job_id,
            state_dir,
            keep_checkpoints,
            set,
            json,
        } => {
            let job = job_socket
                .zip(job_id)
                .map(|(socket, id)| crate::train::WorkerJob { socket, id });
            let remote = crate::train::Remote {
                sources,
                cache,
                budget_mib,
            };
            let remote = (!remote.sources.is_empty()).then_some(remote);
            crate::train::train(
                &dir,
                &data,
                remote.as_ref(),
                job.as_ref(),
                state_dir.as_deref().map(|dir| crate::train::StateOpts {
                    dir,
                    keep_checkpoints,
                }),
                &set,
                json,
            )
        }
        ModelCommand::Replay {
            dir,
            data,
            sources,
            cache,
            budget_mib,
            from,
            set,
            json,
        } => {
            let remote = crate::train::Remote {
                sources,
                cache,
                budget_mib,
            };
            let remote = (!remote.sources.is_empty()).then_some(remote);
            crate::replay::replay(&dir, &data, remote.as_ref(), &from, &set, json)
        }
        ModelCommand::Eval {
            path,
            data,
            split,
            id,
            out,
            json,
        } => crate::eval::eval(&path, &data, &split, id.as_deref(), out, json),
        ModelCommand::Infer {
            path,
            files,
            question,
            candidates,
            request,
            json,
        } => crate::infer::infer(
            &path,
            crate::infer::InferInput {
                files,
                question,
                candidates,
                request,
            },
            json,
        ),
        ModelCommand::Serve { paths, listen } => crate::serve::serve(&paths, listen),
    }
}

/// Writes the template manifest and model card of `task` into `dir`: their paths and the
/// manifest.
pub(crate) fn write_template(
    task: &str,
    dir: &Path,
    name: Option<String>,
    force: bool,
) -> Result<(PathBuf, PathBuf, Manifest, Task)> {
    let task: Task = task.parse()?;
    let mut text = template_toml(task);
    if let Some(name) = &name {
        let default = aic_model::template(task).model.name;
        text = text.replacen(
            &format!("name = \"{default}\""),
            &format!("name = {name:?}"),
            1,
        );
    }
    let m = Manifest::from_toml_str(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Err(errors) = validate(&m) {
        bail!("the template does not validate: {}", errors[0]);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let manifest = dir.join(MANIFEST_FILE);
    let card = dir.join(CARD_FILE);
    for p in [&manifest, &card] {
        if p.exists() && !force {
            bail!("{} exists (pass --force to replace it)", p.display());
        }
    }
    std::fs::write(&manifest, text).with_context(|| format!("writing {}", manifest.display()))?;
    std::fs::write(&card, model_card(&m)).with_context(|| format!("writing {}", card.display()))?;
    Ok((manifest, card, m, task))
}

pub(crate) fn init(
    task: &str,
    dir: &Path,
    name: Option<String>,
    force: bool,
    json: bool,
) -> Result<()> {
    let (manifest, card, m, task) = write_template(task, dir, name, force)?;
    if json {
        println!(
            "{}",
            json!({"manifest": manifest, "card": card, "name": m.model.name, "task": task.name(),
                   "architecture": m.runtime.architecture})
        );
    } else {
        println!(
            "created {} and {} ({task}, {})",
            manifest.display(),
            card.display(),
            m.runtime.architecture
        );
        println!(
            "next: train, write {} beside them, then `aic model pack {} --update-weights`",
            WEIGHTS_FILE,
            dir.display()
        );
    }
    Ok(())
}

/// The manifest file and the package directory a path names.
fn locate(path: &Path) -> (PathBuf, PathBuf) {
    if path.is_dir() {
        (path.join(MANIFEST_FILE), path.to_path_buf())
    } else {
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (path.to_path_buf(), dir)
    }
}

/// Every error of a manifest file, and the manifest when it parses.
fn check_errors(path: &Path) -> Result<(Option<Manifest>, Vec<ManifestError>)> {
    let (file, dir) = locate(path);
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let m = match parse_manifest(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok((None, vec![e])),
    };
    let mut errors = validate(&m).err().unwrap_or_default();
    let weights = dir.join(WEIGHTS_FILE);
    if errors.is_empty() && weights.exists() {
        let files = PackageFiles::read_dir(&dir)
            .with_context(|| format!("reading the package files in {}", dir.display()))?;
        errors.extend(check_files(&m, &files).err().unwrap_or_default());
    }
    Ok((Some(m), errors))
}

fn check(path: &Path, json: bool) -> Result<()> {
    let (m, errors) = check_errors(path)?;
    if json {
        println!("{}", json!({"ok": errors.is_empty(), "errors": errors}));
    } else {
        for e in &errors {
            println!("{e}");
        }
        if let (Some(m), true) = (&m, errors.is_empty()) {
            println!(
                "ok: {} {} ({})",
                m.model.name, m.model.version, m.model.task
            );
        }
    }
    if !errors.is_empty() {
        bail!("{} rule(s) broken", errors.len());
    }
    Ok(())
}

fn pack_error(e: PackError) -> anyhow::Error {
    match e {
        PackError::Invalid(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("{} rule(s) broken:\n{}", errors.len(), lines.join("\n"))
        }
        other => other.into(),
    }
}

fn pack_dir(dir: &Path, out: Option<PathBuf>, update_weights: bool, json: bool) -> Result<()> {
    let mut files = PackageFiles::read_dir(dir).with_context(|| {
        format!(
            "reading {} and {} in {}",
            MANIFEST_FILE,
            WEIGHTS_FILE,
            dir.display()
        )
    })?;
    if update_weights {
        let text = std::str::from_utf8(&files.manifest).context("the manifest is not UTF-8")?;
        let filled = fill_weights(text, &files.weights).map_err(pack_error)?;
        if filled.as_bytes() != files.manifest {
            let path = dir.join(MANIFEST_FILE);
            std::fs::write(&path, &filled)
                .with_context(|| format!("writing {}", path.display()))?;
            files.manifest = filled.into_bytes();
        }
    }
    let package = pack(&files).map_err(pack_error)?;
    let m = parse_manifest(&files.manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}-{}.{PACKAGE_EXTENSION}",
            m.model.name, m.model.version
        ))
    });
    std::fs::write(&out, &package.bytes).with_context(|| format!("writing {}", out.display()))?;
    if json {
        println!(
            "{}",
            json!({"id": package.id, "file": out, "size": package.bytes.len(),
                   "name": m.model.name, "version": m.model.version})
        );
    } else {
        println!(
            "packed {} {} into {}",
            m.model.name,
            m.model.version,
            out.display()
        );
        println!("id: {}", package.id);
        println!("size: {} bytes", package.bytes.len());
    }
    Ok(())
}

fn read_package(path: &Path, id: Option<&str>) -> Result<aic_model::Unpacked> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let result = match id {
        Some(id) => verify(&bytes, &id.parse::<PackageId>()?),
        None => unpack(&bytes),
    };
    result
        .map_err(pack_error)
        .with_context(|| format!("{} is refused", path.display()))
}

fn unpack_to(package: &Path, dir: &Path, id: Option<&str>, json: bool) -> Result<()> {
    let u = read_package(package, id)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    u.files
        .write_dir(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    if json {
        println!(
            "{}",
            json!({"id": u.id, "dir": dir, "name": u.manifest.model.name})
        );
    } else {
        println!(
            "unpacked {} ({}) into {}",
            u.manifest.model.name,
            u.id,
            dir.display()
        );
    }
    Ok(())
}

fn info(path: &Path, id: Option<&str>, json: bool) -> Result<()> {
    let info = if path.is_file() && path.extension().is_some_and(|e| e == PACKAGE_EXTENSION) {
        let u = read_package(path, id)?;
        let size = std::fs::metadata(path)?.len();
        ModelInfo::new(&u.manifest, Some((u.id, size)))
    } else {
        if id.is_some() {
            bail!("--id applies to a package file (.{PACKAGE_EXTENSION})");
        }
        let (file, _) = locate(path);
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let m = parse_manifest(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        ModelInfo::new(&m, None)
    };
    if json {
        println!("{}", serde_json::to_string(&info)?);
        return Ok(());
    }
    println!("{} {}: {}", info.name, info.version, info.description);
    println!("task:         {}", info.task);
    println!("architecture: {} on {}", info.architecture, info.engine);
    println!(
        "runtime:      {} on {}, at least {} MiB, batch up to {}",
        serde_json::to_value(info.determinism)?
            .as_str()
            .unwrap_or_default(),
        info.devices.join(", "),
        info.min_memory_mib,
        info.max_batch
    );
    for (kind, ts) in [("input", &info.inputs), ("output", &info.outputs)] {
        for t in ts {
            let labels = if t.labels > 0 {
                format!(" ({} labels)", t.labels)
            } else {
                String::new()
            };
            println!("{kind:<13} {} {} {}{labels}", t.name, t.datatype, t.shape);
        }
    }
    let params: Vec<String> = info
        .parameters
        .iter()
        .map(|p| format!("{}={}", p.name, p.default))
        .collect();
    println!("parameters:   {}", params.join(" "));
    println!("featurizer:   {}", info.featurizer);
    let metrics: Vec<String> = info
        .metrics
        .iter()
        .map(|x| match x.value {
            Some(v) => format!("{}={v}", x.name),
            None => x.name.clone(),
        })
        .collect();
    println!(
        "data sets:    {}; metrics: {}",
        info.datasets.join(", "),
        metrics.join(", ")
    );
    if info.weights_blake3.is_empty() {
        println!("weights:      not trained yet");
    } else {
        println!(
            "weights:      {} tensors, {} parameters, {} bytes, blake3 {}",
            info.weight_tensors, info.parameter_count, info.weights_size, info.weights_blake3
        );
    }
    if let (Some(id), Some(size)) = (info.package_id, info.package_size) {
        println!("package:      {id} ({size} bytes, verified)");
    }
    Ok(())
}
