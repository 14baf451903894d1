//! `aic model train`: a package directory's manifest, the job's parameters and a corpus to
//! trained weights, the training transcript and scorecards.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aic_blob::{BlobId, CacheSource, Pins};
use aic_data::WaitHook;
use aic_worker::switcher::{JobLink, WaitReason};

use aic_ml::checkpoint::Checkpoint;
use aic_ml::jobs::{self, KeywordData, Session, Trained};
use aic_ml::train::{Control, Event};
use aic_model::{
    fill_weights, parse_manifest, resolve_params, ParamValue, Task, MANIFEST_FILE, WEIGHTS_FILE,
};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::preempt::{self, JobKey, Preempted, StateDir};

/// Parses `NAME=VALUE` as an integer, a float, a boolean or a string, in that order.
pub(crate) fn parse_set(items: &[String]) -> Result<BTreeMap<String, ParamValue>> {
    let mut out = BTreeMap::new();
    for item in items {
        let Some((name, value)) = item.split_once('=') else {
            bail!("--set {item:?}: expected NAME=VALUE");
        };
        let v = if let Ok(i) = value.parse::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(f) = value.parse::<f64>() {
            ParamValue::Float(f)
        } else if let Ok(b) = value.parse::<bool>() {
            ParamValue::Bool(b)
        } else {
            ParamValue::String(value.to_string())
        };
        out.insert(name.trim().to_string(), v);
    }
    Ok(out)
}

/// A data set read from nodes through the machine's cache instead of a local path.
pub(crate) struct Remote {
    /// Nodes' API base URLs.
    pub(crate) sources: Vec<String>,
    /// The cache directory (default: the machine's).
    pub(crate) cache: Option<PathBuf>,
    /// Its byte budget in MiB.
    pub(crate) budget_mib: u64,
}

/// The data set `id` of `remote`'s nodes: its manifest fetched (and pinned while the job
/// runs), its shards read through the cache as the loader reaches them.
pub(crate) fn remote_keyword_data(
    id: &str,
    remote: &Remote,
) -> Result<(KeywordData<'static>, Pins, Arc<CacheSource>)> {
    let blob: BlobId = id
        .parse()
        .with_context(|| format!("--data {id:?} with --source: expected a data set id"))?;
    let (cache, _) = crate::data_net::open_cache(remote.cache.clone(), remote.budget_mib)?;
    let (manifest, pin, _) =
        crate::data_net::fetch_manifest(&blob, &remote.sources, &cache, &|_| {})?;
    let source = Arc::new(CacheSource::new(cache, remote.sources.clone()));
    let data = KeywordData::Shards {
        manifest: Box::new(manifest),
        id: blob.to_hex(),
        source: source.clone(),
    };
    Ok((data, pin, source))
}

/// A wait for streamed training data that lasts this long is reported to the worker (`wait
/// data`) and mining fills the rest of it; shorter waits are not worth two hand-overs (a
/// release costs the job under a millisecond at the median, `docs/benchmarks.md`).
const DATA_WAIT_REPORT_AFTER: Duration = Duration::from_millis(10);

/// The worker this training runs under as an AI job.
pub(crate) struct WorkerJob {
    /// The worker's job socket.
    pub(crate) socket: PathBuf,
    /// The job's id there.
    pub(crate) id: String,
}

/// Connects to the worker and waits until its switcher grants the device.
fn grant(job: &WorkerJob) -> Result<JobLink> {
    let mut link = JobLink::connect(&job.socket, &job.id)
        .with_context(|| format!("connecting to the worker at {}", job.socket.display()))?;
    link.need()
        .context("waiting for the worker to grant the device")?;
    Ok(link)
}

/// A preemptible run's state directory (`--state-dir`), and whether it keeps every transcript
/// checkpoint (`--keep-checkpoints`).
#[derive(Clone, Copy)]
pub(crate) struct StateOpts<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) keep_checkpoints: bool,
}

pub(crate) fn train(
    dir: &Path,
    data: &Path,
    remote: Option<&Remote>,
    job: Option<&WorkerJob>,
    state_dir: Option<StateOpts<'_>>,
    set: &[String],
    json: bool,
) -> Result<()> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest = parse_manifest(text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let values = parse_set(set)?;
    let params = resolve_params(&manifest, &values).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("job parameters refused:\n  {}", lines.join("\n  "))
    })?;
    let task: Task = manifest.model.task.parse()?;
    // Preemption: with a state directory, SIGTERM/Ctrl-C stop the run at the next step with a
    // checkpoint there, and a run started again resumes from it.
    let mut state = match state_dir {
        Some(StateOpts {
            dir: sd,
            keep_checkpoints,
        }) => {
            let key = JobKey {
                architecture: manifest.runtime.architecture.clone(),
                params: params
                    .iter()
                    .map(|(k, v)| (k.clone(), format!("{v:?}")))
                    .collect(),
                data: data.to_string_lossy().into_owned(),
            };
            let (state, resume) = StateDir::open(sd, &key, keep_checkpoints)?;
            Some((state, resume, preempt::stop_flag()?))
        }
        None => None,
    };
    let resume: Option<Checkpoint> = state.as_mut().and_then(|(_, r, _)| r.take());
    let stop_flag = state.as_ref().map(|(_, _, f)| f.clone());
    let mut state = state.map(|(s, _, _)| s);
    let grid = aic_ml::jobs::train_config(&params)?.checkpoint_every;
    let resumed_at = resume.as_ref().map(|c| c.progress.step);
    if let (Some(step), false) = (resumed_at, json) {
        eprintln!("resuming from the checkpoint at step {step}");
    }
    let mut save_error: Option<anyhow::Error> = None;
    let started = Instant::now();
    let mut last_print = Instant::now();
    // Seconds from the start to the end of the first step: reading (or featurizing) the data
    // plus one step.
    let mut first_step: Option<f64> = None;
    let link: Option<Arc<Mutex<JobLink>>> =
        job.map(grant).transpose()?.map(|l| Arc::new(Mutex::new(l)));
    let link_error: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
    // Under a worker, a wait for streamed shards longer than this lends the device to mining.
    let data_wait = link.as_ref().map(|l| {
        let (link, errors) = (Arc::clone(l), Arc::clone(&link_error));
        WaitHook {
            after: DATA_WAIT_REPORT_AFTER,
            notify: Arc::new(move |waiting: bool| {
                let mut l = link.lock().unwrap_or_else(|p| p.into_inner());
                let told = if waiting {
                    l.wait(WaitReason::Data)
                } else {
                    l.need()
                };
                if let Err(e) = told {
                    *errors.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
            }),
        }
    });
    let mut on_event = |e: &Event, c: Option<&Checkpoint>| {
        if let (Some(state), Some(c)) = (state.as_mut(), c) {
            let committed = grid > 0 && c.progress.step % grid == 0;
            if let Err(err) = state.save(c, committed) {
                save_error = Some(err);
                return Control::Stop;
            }
        }
        if matches!(e, Event::Step { .. })
            && stop_flag.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
        {
            // Preempted: the trainer checkpoints (saved above) and stops.
            return Control::Stop;
        }
        if let (Some(l), Event::Step { .. }) = (link.as_ref(), e) {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            if l.hold_requested() {
                // The owner paused the device: hand it back between two steps, wait for it.
                if let Err(err) = l.wait(WaitReason::Held).and_then(|()| l.need()) {
                    *link_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
                    return Control::Stop;
                }
            }
        }
        if link_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return Control::Stop;
        }
        if first_step.is_none() && matches!(e, Event::Step { .. }) {
            first_step = Some(started.elapsed().as_secs_f64());
        }
        if json {
            if let Ok(line) = serde_json::to_string(e) {
                println!("{line}");
            }
        } else {
            match e {
                Event::Step {
                    step,
                    total,
                    epoch,
                    loss,
                    samples_per_sec,
                    ..
                } => {
                    if last_print.elapsed().as_millis() >= 250 || step == total {
                        last_print = Instant::now();
                        let left = if *samples_per_sec > 0.0 && step < total {
                            let per_step = started.elapsed().as_secs_f64() / *step as f64;
                            per_step * (total - step) as f64
                        } else {
                            0.0
                        };
                        eprint!(
                            "\r  epoch {epoch:>3}  step {step:>6}/{total}  loss {loss:.4}  {samples_per_sec:>7.1} samples/s  ~{left:.0} s left   "
                        );
                        let _ = std::io::stderr().flush();
                    }
                }
                Event::Epoch {
                    epoch,
                    train_loss,
                    metric,
                    best,
                } => {
                    eprintln!("\r  epoch {epoch:>3} done: train loss {train_loss:.4}, validation {metric:.4} (best {best:.4})          ");
                }
                Event::Checkpoint { .. } => {}
                Event::EarlyStop { epoch } => eprintln!("  early stop after epoch {epoch}"),
            }
        }
        Control::Continue
    };
    if !json {
        eprintln!(
            "training {} ({}) on {}",
            manifest.model.name,
            manifest.runtime.architecture,
            data.display()
        );
    }
    let mut fetched: Option<Arc<CacheSource>> = None;
    let session = Session {
        resume: resume.as_ref(),
        on_event: &mut on_event,
        data_wait,
    };
    let trained: Trained = match (task, remote) {
        (Task::KeywordSpotting, None) => {
            jobs::train_keyword(&manifest, &params, KeywordData::Path(data), session)?
        }
        (Task::KeywordSpotting, Some(remote)) => {
            let (shards, _manifest_pin, source) =
                remote_keyword_data(&data.to_string_lossy(), remote)?;
            fetched = Some(source);
            jobs::train_keyword(&manifest, &params, shards, session)?
        }
        (Task::TextMatching, None) => jobs::train_text_match(&manifest, &params, data, session)?,
        (Task::TextMatching, Some(_)) => {
            bail!("--source: streaming from nodes is built for keyword spotting; fetch the data set with `aic data fetch --out DIR` and train on DIR")
        }
        (other, _) => bail!("training task {} is not built in yet", other.name()),
    };
    if let Some(err) = save_error {
        return Err(err.context("saving the checkpoint"));
    }
    if let Some(err) = link_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        bail!("lost the worker's job socket: {err}");
    }
    if let Some(l) = link {
        // Done here, preempted or not: the device goes back to mining. The data-wait hook
        // went with the training data, so this is the last holder.
        let l = Arc::try_unwrap(l)
            .map_err(|_| anyhow::anyhow!("the job link is still shared"))?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        l.end().context("telling the worker the job ended")?;
    }
    if !trained.complete {
        let step = trained.outcome.last.progress.step;
        let dir = state
            .as_ref()
            .map_or_else(PathBuf::new, |s| s.path().to_path_buf());
        if json {
            println!(
                "{}",
                json!({"event": "preempted", "step": step, "state_dir": dir, "seconds": started.elapsed().as_secs_f64()})
            );
        } else {
            eprintln!();
        }
        return Err(Preempted { step, dir }.into());
    }
    let weights_path = dir.join(WEIGHTS_FILE);
    std::fs::write(&weights_path, &trained.weights)
        .with_context(|| format!("writing {}", weights_path.display()))?;
    let mut filled = fill_weights(&text, &trained.weights).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(vocab) = &trained.vocabulary {
        filled = name_vocabulary(&filled, vocab)?;
    }
    filled = pin_architecture(&filled, &manifest, &params)?;
    std::fs::write(&manifest_path, filled)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    if let Some(vocab) = &trained.vocabulary {
        std::fs::write(dir.join(aic_model::VOCAB_FILE), vocab)?;
    }
    // The transcript: grid checkpoints committed before a resume, those of this run, and the
    // final state (which a run resumed at its very end does not compute again).
    let mut entries: BTreeMap<u64, blake3::Hash> = BTreeMap::new();
    if let (Some(state), Some(step)) = (state.as_ref(), resumed_at) {
        entries.extend(state.committed_upto(step));
    }
    entries.extend(trained.outcome.transcript.iter().copied());
    let last = &trained.outcome.last;
    entries.insert(last.progress.step, last.id());
    if let Some(state) = state.as_ref() {
        state
            .keep_final(last)
            .context("keeping the final checkpoint")?;
    }
    let transcript: Vec<aic_ml::transcript::Entry> = entries
        .into_iter()
        .map(|(step, id)| aic_ml::transcript::Entry { step, id })
        .collect();
    let root = aic_ml::transcript::root(&transcript).map(|r| r.to_hex().to_string());
    let transcript_json = json!({
        "root": root,
        "kernel_family": aic_ml::family::kernel_family(),
        "checkpoints": transcript.iter().map(|e| json!({"step": e.step, "id": e.id.to_hex().to_string()})).collect::<Vec<_>>(),
        "params": params.iter().map(|(k, v)| (k.clone(), format!("{v:?}"))).collect::<BTreeMap<_, _>>(),
    });
    std::fs::write(
        dir.join("transcript.json"),
        serde_json::to_string_pretty(&transcript_json)?,
    )?;
    std::fs::write(
        dir.join("scorecards.json"),
        serde_json::to_string_pretty(&trained.scorecards)?,
    )?;
    if json {
        println!(
            "{}",
            json!({"event": "done", "weights_blake3": blake3::hash(&trained.weights).to_hex().to_string(), "transcript_root": root, "scorecards": trained.scorecards, "first_step_s": first_step, "data_wait_fraction": trained.outcome.data_wait_fraction(), "bytes_fetched": fetched.as_ref().map(|s| s.bytes_moved()), "seconds": started.elapsed().as_secs_f64()})
        );
    } else {
        eprintln!();
        for card in &trained.scorecards {
            if let Some(c) = &card.classification {
                println!(
                    "{} on {} {}: accuracy {:.4}, macro-F1 {:.4} ({} examples)",
                    card.model, card.dataset, card.split, c.accuracy, c.macro_f1, c.count
                );
            }
            if let Some(r) = &card.ranking {
                println!(
                    "{} on {} {}: MAP {:.4}, MRR {:.4} ({} questions)",
                    card.model, card.dataset, card.split, r.map, r.mrr, r.questions
                );
            }
        }
        println!(
            "weights {} in {:.1} s (first step done after {:.2} s; {:.2} % of step time waiting for data); transcript root {}",
            weights_path.display(),
            started.elapsed().as_secs_f64(),
            first_step.unwrap_or_default(),
            100.0 * trained.outcome.data_wait_fraction(),
            root.unwrap_or_default()
        );
        if let Some(source) = &fetched {
            println!(
                "fetched {} bytes ({} shard reads over the network) through the cache while training",
                source.bytes_moved(),
                source.shards_fetched()
            );
        }
    }
    Ok(())
}

/// Writes the trained vocabulary's size and BLAKE3 into `[data.featurizer]`, keeping the rest
/// of the file as it is.
fn name_vocabulary(manifest: &str, vocab: &[u8]) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = manifest.parse().context("parsing the manifest")?;
    let size = aic_data::Vocabulary::from_file_bytes(vocab)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .size();
    let featurizer = doc["data"]["featurizer"]
        .as_table_mut()
        .context("[data.featurizer] is missing")?;
    featurizer["vocab_size"] = toml_edit::value(i64::from(size));
    featurizer["vocab_blake3"] = toml_edit::value(blake3::hash(vocab).to_hex().to_string());
    Ok(doc.to_string())
}

/// Writes into `dir` the package a training run with parameters `set` would have left: the
/// model's manifest with `weights` named and the architecture pinned, and the weights. How a
/// consumer who got a job's weights (and knows its model and parameters) gets a loadable model.
pub(crate) fn write_trained_package(
    dir: &Path,
    manifest_text: &str,
    weights: &[u8],
    set: &[String],
) -> Result<()> {
    let manifest = parse_manifest(manifest_text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let params = resolve_params(&manifest, &parse_set(set)?).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("job parameters refused:\n  {}", lines.join("\n  "))
    })?;
    let filled = fill_weights(manifest_text, weights).map_err(|e| anyhow::anyhow!("{e}"))?;
    let filled = pin_architecture(&filled, &manifest, &params)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(WEIGHTS_FILE), weights)
        .with_context(|| format!("writing {}", dir.join(WEIGHTS_FILE).display()))?;
    std::fs::write(dir.join(MANIFEST_FILE), filled)
        .with_context(|| format!("writing {}", dir.join(MANIFEST_FILE).display()))?;
    Ok(())
}

/// Records the architecture hyperparameters the weights were trained with as the defaults of
/// `[parameters.architecture]`: the weights' shapes depend on them, so whoever loads the package
/// later must build the same network.
fn pin_architecture(
    manifest_text: &str,
    manifest: &aic_model::Manifest,
    params: &BTreeMap<String, ParamValue>,
) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = manifest_text.parse().context("parsing the manifest")?;
    for name in manifest.parameters.architecture.keys() {
        let Some(value) = params.get(name) else {
            continue;
        };
        let item = match value {
            ParamValue::Bool(b) => toml_edit::value(*b),
            ParamValue::Int(i) => toml_edit::value(*i),
            ParamValue::Float(f) => toml_edit::value(*f),
            ParamValue::String(s) => toml_edit::value(s.clone()),
        };
        doc["parameters"]["architecture"][name.as_str()]["default"] = item;
    }
    Ok(doc.to_string())
}
