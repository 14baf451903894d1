//! `aic provider`, `aic job` and `aic model publish`: the market from the command line. Every
//! action is a signed transaction sent to a node; every view reads `/api/v1/market`.

use aic_api::market as wire;
use aic_primitives::{
    sha256, Action, Amount, DeviceClass, DeviceSummary, Hash256, JobKind, JobSpec, MarketAction,
    ParamSpec, ProviderRegistration, ResultCommit, VerificationPolicy, FIXED_POINT_SCALE,
};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use crate::cli_market::{JobCommand, ModelPublishArgs, ProviderCommand, TxOpts};
use crate::client::NodeClient;
use crate::submit::{load_wallet, send};

/// Parses a decimal into fixed point (10^6 = 1.0), exactly: at most six decimals.
pub(crate) fn parse_fixed(text: &str) -> Result<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
    {
        bail!("{text:?} is not a decimal with at most 6 decimals");
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse()? };
    let frac: i64 = format!("{frac:0<6}").parse()?;
    let v = whole
        .checked_mul(FIXED_POINT_SCALE)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| anyhow!("{text:?} is out of range"))?;
    Ok(if neg { -v } else { v })
}

/// `NAME=VALUE` pairs into named fixed-point values.
fn named_values(pairs: &[String], what: &str) -> Result<Vec<(String, i64)>> {
    pairs
        .iter()
        .map(|p| {
            let (name, value) = p
                .split_once('=')
                .ok_or_else(|| anyhow!("{what} {p:?} is not NAME=VALUE"))?;
            Ok((
                name.to_owned(),
                parse_fixed(value).with_context(|| format!("{what} {name}"))?,
            ))
        })
        .collect()
}

fn fixed_text(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let s = FIXED_POINT_SCALE as u64;
    let frac = format!("{:06}", a % s);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", a / s)
    } else {
        format!("{sign}{}.{frac}", a / s)
    }
}

fn aic_text(units: u64) -> String {
    Amount::from_units(units).to_string()
}

fn parse_hash(text: &str, what: &str) -> Result<Hash256> {
    Hash256::from_hex(text).map_err(|e| anyhow!("{what} {text:?}: {e}"))
}

fn parse_amount(text: &str, what: &str) -> Result<Amount> {
    text.parse().with_context(|| format!("{what} {text:?}"))
}

fn class_of(text: &str) -> Result<DeviceClass> {
    DeviceClass::ALL
        .into_iter()
        .find(|c| c.name() == text)
        .ok_or_else(|| anyhow!("device class {text:?} is not cpu, gpu, fpga or asic"))
}

/// Sends a market action and prints what happened.
fn act(tx: &TxOpts, action: MarketAction, what: &str, extra: serde_json::Value) -> Result<()> {
    let key = load_wallet(&tx.wallet.wallet)?;
    let client = NodeClient::new(&tx.node.node);
    let fee = parse_amount(&tx.fee, "--fee")?;
    let sent = send(&client, &key, fee, Action::Market(action), tx.wait)?;
    if tx.json {
        let mut out = json!({
            "txid": sent.txid,
            "sender": key.address().to_bech32(key.network),
            "nonce": sent.nonce,
            "block_hash": sent.block.as_ref().map(|b| b.0.clone()),
            "block_height": sent.block.as_ref().map(|b| b.1),
        });
        if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        println!("{out}");
    } else {
        println!("{what}: txid {}", sent.txid);
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                println!(
                    "  {k}: {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                );
            }
        }
        if let Some((hash, height)) = sent.block {
            println!("mined in block {height} ({hash})");
        }
    }
    Ok(())
}

pub(crate) fn run_provider(cmd: ProviderCommand) -> Result<()> {
    match cmd {
        ProviderCommand::Register {
            stake,
            class,
            memory_mib,
            gflops,
            endpoint,
            tx,
        } => {
            let stake = parse_amount(&stake, "--stake")?;
            let (summary, devices) = device_summary(class.as_deref(), memory_mib, gflops)?;
            let action = MarketAction::RegisterProvider(ProviderRegistration {
                stake,
                devices,
                summary,
                endpoint,
            });
            let extra = json!({
                "stake": stake.to_string(),
                "device_class": summary.class.name(),
                "devices": summary.count,
                "memory_mib": summary.memory_mib,
                "gflops": summary.gflops,
            });
            act(&tx, action, "registered", extra)
        }
        ProviderCommand::Status {
            address,
            wallet,
            node,
            json,
        } => {
            let address = match address {
                Some(a) => a,
                None => {
                    let k = load_wallet(&wallet.wallet)?;
                    k.address().to_bech32(k.network)
                }
            };
            let p: wire::Provider =
                NodeClient::new(&node.node).get(&format!("/market/providers/{address}"))?;
            if json {
                println!("{}", serde_json::to_string(&p)?);
            } else {
                let r = &p.reputation;
                println!("provider {}", p.address);
                println!(
                    "  stake {} AIC, unbonding {} AIC (from height {})",
                    aic_text(p.stake_units),
                    aic_text(p.unbonding_units),
                    p.release_height
                );
                println!(
                    "  devices: {} x {}, {} MiB, {} GFLOP/s; endpoint {:?}",
                    p.device_count, p.device_class, p.memory_mib, p.gflops, p.endpoint
                );
                println!(
                    "  reputation {}: {} completed, {} failed, {} missed, {} verdicts, {} overturned, {} silent; {} active jobs",
                    r.score, r.completed, r.failed, r.missed, r.verdicts, r.overturned, r.silent, p.active_jobs
                );
            }
            Ok(())
        }
        ProviderCommand::TopUp { amount, tx } => {
            let amount = parse_amount(&amount, "--amount")?;
            act(
                &tx,
                MarketAction::TopUpStake { amount },
                "staked",
                json!({"amount": amount.to_string()}),
            )
        }
        ProviderCommand::Unstake { amount, tx } => {
            let amount = parse_amount(&amount, "--amount")?;
            act(
                &tx,
                MarketAction::Unstake { amount },
                "unbonding",
                json!({"amount": amount.to_string()}),
            )
        }
        ProviderCommand::Withdraw { tx } => {
            act(&tx, MarketAction::WithdrawStake, "withdrawn", json!({}))
        }
    }
}

/// This machine's devices as an on-chain summary and the hash of their descriptors.
pub(crate) fn device_summary(
    class: Option<&str>,
    memory_mib: Option<u32>,
    gflops: Option<u32>,
) -> Result<(DeviceSummary, Hash256)> {
    use aic_worker::device::DeviceKind;
    let found = aic_worker::device::discover();
    let kind_of = |c: DeviceClass| match c {
        DeviceClass::Cpu => DeviceKind::Cpu,
        DeviceClass::Gpu => DeviceKind::Gpu,
        DeviceClass::Fpga => DeviceKind::Fpga,
        DeviceClass::Asic => DeviceKind::Asic,
    };
    let class = match class {
        Some(c) => class_of(c)?,
        None if found.devices.iter().any(|d| d.kind == DeviceKind::Gpu) => DeviceClass::Gpu,
        None => DeviceClass::Cpu,
    };
    let of_class: Vec<_> = found
        .devices
        .iter()
        .filter(|d| d.kind == kind_of(class))
        .collect();
    let detected_memory = of_class
        .iter()
        .filter_map(|d| d.memory_bytes)
        .max()
        .map(|b| (b >> 20) as u32);
    let detected_gflops = of_class
        .iter()
        .filter_map(|d| d.scores.as_ref().and_then(|s| s.matmul_gflops))
        .fold(0.0f64, f64::max) as u32;
    let summary = DeviceSummary {
        class,
        count: of_class.len().max(1) as u16,
        memory_mib: memory_mib.or(detected_memory).unwrap_or(0),
        gflops: gflops.unwrap_or(detected_gflops),
    };
    let descriptors = serde_json::to_vec(&found.devices)?;
    Ok((summary, sha256(&descriptors)))
}

/// A model directory made ready for the chain: its id, the blob that id names, and the
/// publication naming it.
pub(crate) struct ModelToPublish {
    pub(crate) id: Hash256,
    /// `package` (a packaged model) or `manifest` (an architecture without weights yet).
    pub(crate) named_by: &'static str,
    /// The bytes the id is the BLAKE3 of, for the node's blob store.
    pub(crate) blob: Vec<u8>,
    pub(crate) task: String,
    pub(crate) action: MarketAction,
}

/// Reads a model directory into the publication that names it, with its parameter schema as
/// the chain checks jobs' parameters against.
pub(crate) fn model_publication(dir: &std::path::Path, royalty_bps: u16) -> Result<ModelToPublish> {
    let manifest_path = dir.join(aic_model::MANIFEST_FILE);
    let manifest_bytes = std::fs::read(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest = aic_model::parse_manifest(&manifest_bytes)
        .map_err(|e| anyhow!("{}: {e}", manifest_path.display()))?;
    // A packaged model is named by its package; an architecture without weights yet (to be
    // trained from scratch) by its manifest.
    let (id, named_by, blob) = match aic_model::PackageFiles::read_dir(dir) {
        Ok(files) => {
            let package = aic_model::pack(&files).map_err(|e| anyhow!("packing: {e}"))?;
            (Hash256(package.id.0), "package", package.bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Hash256(*blake3::hash(&manifest_bytes).as_bytes()),
            "manifest",
            manifest_bytes.clone(),
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let params = manifest
        .parameters
        .iter()
        .filter_map(|(_, name, spec)| {
            let integer = match spec.kind {
                aic_model::ParamType::Int => true,
                aic_model::ParamType::Float => false,
                // Strings and booleans are not set through the chain.
                aic_model::ParamType::Bool | aic_model::ParamType::String => return None,
            };
            let fixed = |x: f64| (x * FIXED_POINT_SCALE as f64).round() as i64;
            Some(ParamSpec {
                name: name.clone(),
                min: spec.min.map_or(i64::MIN, fixed),
                max: spec.max.map_or(i64::MAX, fixed),
                integer,
            })
        })
        .collect::<Vec<_>>();
    let task = manifest.model.task.clone();
    let action = MarketAction::PublishModel(aic_primitives::ModelPublication {
        id,
        task: task.clone(),
        royalty_bps,
        params,
    });
    Ok(ModelToPublish {
        id,
        named_by,
        blob,
        task,
        action,
    })
}

pub(crate) fn publish_model(args: ModelPublishArgs) -> Result<()> {
    let model = model_publication(&args.dir, args.royalty_bps)?;
    if let Some(cookie) = &args.cookie {
        let auth = aic_rpc::RpcAuth::read_cookie(cookie)
            .with_context(|| format!("reading the node's cookie {}", cookie.display()))?;
        aic_worker::market::NodeApi::new(&args.tx.node.node, Some(auth.header_value()))
            .put_blob(&model.blob)
            .context("storing the model in the node's blob store")?;
    }
    let extra = json!({
        "id": model.id.to_hex(),
        "named_by": model.named_by,
        "task": model.task,
        "royalty_bps": args.royalty_bps,
    });
    act(&args.tx, model.action, "published", extra)
}

/// The on-chain publication of a digitized data set in `dir`: its id (the BLAKE3 of its
/// manifest) and the action.
pub(crate) fn dataset_publication(
    dir: &std::path::Path,
    task: &str,
    royalty_bps: u16,
) -> Result<(Hash256, MarketAction)> {
    let bytes = std::fs::read(dir.join("manifest.json"))
        .with_context(|| format!("reading {}/manifest.json", dir.display()))?;
    let manifest = aic_data::DatasetManifest::from_json(&bytes)
        .map_err(|e| anyhow!("{}: {e}", dir.display()))?;
    let id = Hash256(*blake3::hash(&bytes).as_bytes());
    let action = MarketAction::PublishDataset(aic_primitives::DatasetPublication {
        id,
        task: task.to_owned(),
        royalty_bps,
        bytes: manifest.shards.iter().map(|s| s.bytes).sum(),
    });
    Ok((id, action))
}

/// Publishes the data set in `dir` on chain (after its blobs went to the node).
pub(crate) fn publish_dataset(
    dir: &std::path::Path,
    task: &str,
    royalty_bps: u16,
    tx: &TxOpts,
) -> Result<()> {
    let (id, action) = dataset_publication(dir, task, royalty_bps)?;
    act(
        tx,
        action,
        "published on chain",
        json!({"id": id.to_hex(), "task": task}),
    )
}

pub(crate) fn run_job(cmd: JobCommand) -> Result<()> {
    match cmd {
        JobCommand::Post {
            model,
            dataset,
            kind,
            params,
            budget,
            max_price,
            class,
            memory_mib,
            bid_blocks,
            deadline_blocks,
            verifiers,
            segments,
            challenge_blocks,
            verifier_fee,
            tier,
            tx,
        } => {
            let kind = JobKind::ALL
                .into_iter()
                .find(|k| k.name() == kind)
                .ok_or_else(|| {
                    anyhow!("--kind {kind:?} is not train, fine-tune, evaluate or infer")
                })?;
            let spec = JobSpec {
                kind,
                model: parse_hash(&model, "--model")?,
                dataset: parse_hash(&dataset, "--dataset")?,
                params: named_values(&params, "--param")?,
                device_class: class_of(&class)?,
                min_memory_mib: memory_mib,
                budget: parse_amount(&budget, "--budget")?,
                max_price: parse_amount(&max_price, "--max-price")?,
                bid_blocks,
                deadline_blocks,
                policy: VerificationPolicy {
                    verifiers,
                    segments,
                    challenge_blocks,
                    verifier_fee: parse_amount(&verifier_fee, "--verifier-fee")?,
                },
                tier,
            };
            let key = load_wallet(&tx.wallet.wallet)?;
            let client = NodeClient::new(&tx.node.node);
            let from = key.address().to_bech32(key.network);
            let acct: aic_api::rest::Account = client.get(&format!("/accounts/{from}"))?;
            let id = aic_ledger::market::job_id(&key.address(), acct.next_nonce);
            act(
                &tx,
                MarketAction::PostJob(spec),
                "posted",
                json!({"job": id.to_hex()}),
            )
        }
        JobCommand::List { status, node, json } => {
            let path = match &status {
                Some(s) => format!("/market/jobs?status={s}"),
                None => "/market/jobs".to_owned(),
            };
            let jobs: Vec<wire::Job> = NodeClient::new(&node.node).get(&path)?;
            if json {
                println!("{}", serde_json::to_string(&jobs)?);
            } else if jobs.is_empty() {
                println!("no jobs");
            } else {
                println!(
                    "{:<64}  {:<9}  {:>6}  {:>12}  {:>4}  provider",
                    "job", "status", "posted", "max price", "bids"
                );
                for j in &jobs {
                    println!(
                        "{:<64}  {:<9}  {:>6}  {:>12}  {:>4}  {}",
                        j.id,
                        j.status,
                        j.posted_height,
                        aic_text(j.max_price_units),
                        j.bids.len(),
                        j.award.as_ref().map_or("-", |a| a.provider.as_str())
                    );
                }
            }
            Ok(())
        }
        JobCommand::Status { id, node, json } => {
            let j: wire::Job = NodeClient::new(&node.node).get(&format!("/market/jobs/{id}"))?;
            if json {
                println!("{}", serde_json::to_string(&j)?);
            } else {
                print_job(&j);
            }
            Ok(())
        }
        JobCommand::Cancel { id, tx } => {
            let job = parse_hash(&id, "job id")?;
            act(
                &tx,
                MarketAction::CancelJob { job },
                "cancelled",
                json!({"job": id}),
            )
        }
        JobCommand::Bid { id, price, tx } => {
            let job = parse_hash(&id, "job id")?;
            let price = parse_amount(&price, "--price")?;
            act(
                &tx,
                MarketAction::Bid { job, price },
                "bid",
                json!({"job": id, "price": price.to_string()}),
            )
        }
        JobCommand::SubmitResult {
            id,
            result,
            transcript_root,
            segments,
            metrics,
            tx,
        } => {
            let action = MarketAction::SubmitResult(ResultCommit {
                job: parse_hash(&id, "job id")?,
                result: parse_hash(&result, "--result")?,
                transcript_root: parse_hash(&transcript_root, "--transcript-root")?,
                segments,
                metrics: named_values(&metrics, "--metric")?,
            });
            act(&tx, action, "result posted", json!({"job": id}))
        }
        JobCommand::Verdict {
            id,
            pass,
            fail,
            evidence,
            tx,
        } => {
            let pass = pass && !fail;
            let action = MarketAction::Verdict {
                job: parse_hash(&id, "job id")?,
                pass,
                evidence: parse_hash(&evidence, "--evidence")?,
            };
            act(
                &tx,
                action,
                "verdict given",
                json!({"job": id, "pass": pass}),
            )
        }
        JobCommand::Result {
            id,
            out,
            manifest,
            verify,
            node,
            json,
        } => crate::job_result::fetch(&id, &out, manifest.as_deref(), verify, &node.node, json),
    }
}

fn print_job(j: &wire::Job) {
    println!("job {} ({}, {})", j.id, j.status, j.kind);
    println!("  consumer {}", j.consumer);
    println!("  model {}  dataset {}", j.model, j.dataset);
    for p in &j.params {
        println!("  param {} = {}", p.name, fixed_text(p.value));
    }
    println!(
        "  budget {} AIC (escrow left {}), max price {}, tier {}, {} x {} MiB",
        aic_text(j.budget_units),
        aic_text(j.escrow_units),
        aic_text(j.max_price_units),
        j.tier,
        j.device_class,
        j.min_memory_mib
    );
    println!(
        "  posted at {}, bids until {}, {} verifier(s) x {} segment(s), reopened {} time(s)",
        j.posted_height, j.window_end_height, j.verifiers, j.segments, j.reopens
    );
    for b in &j.bids {
        println!(
            "  bid {} AIC by {} at {}",
            aic_text(b.price_units),
            b.provider,
            b.height
        );
    }
    if let Some(a) = &j.award {
        println!(
            "  awarded to {} for {} AIC, result due by height {}",
            a.provider,
            aic_text(a.price_units),
            a.deadline_height
        );
    }
    if let Some(r) = &j.result {
        println!(
            "  result {} (transcript {}, {} segments)",
            r.result, r.transcript_root, r.segments
        );
        for m in &r.metrics {
            println!("    {} = {}", m.name, fixed_text(m.value));
        }
    }
    if let Some(v) = &j.verification {
        println!(
            "  verification round {}: verifiers {:?}, segments {:?}, verdicts until {}",
            v.round, v.verifiers, v.segments, v.challenge_end_height
        );
        for d in &v.verdicts {
            println!(
                "    {} by {} (round {})",
                if d.pass { "pass" } else { "FAIL" },
                d.verifier,
                d.round
            );
        }
    }
    for p in &j.payments {
        let from = p
            .from
            .as_deref()
            .map_or("escrow".to_owned(), |f| format!("{f}'s stake"));
        println!(
            "  paid {} AIC to {} from {from}: {} (height {})",
            aic_text(p.amount_units),
            p.to,
            p.kind,
            p.height
        );
    }
}
