//! `GET /api/v1/market/leaderboard`: models compared on equal terms. A board holds the settled
//! jobs of one task on one dataset that reported one metric; each model appears once, with
//! its best value, best first.

use std::collections::{BTreeMap, HashMap};

use aic_api::market as wire;
use aic_ledger::market::{Record, RecordKey};
use axum::extract::{Query, State};
use axum::Json;

use super::parse_id;
use crate::explorer::Params;
use crate::market_json;
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// Words that, as a part of a metric's name (split at `.`, `_`, `-`), make lower values
/// rank first.
const LOWER_IS_BETTER: [&str; 14] = [
    "loss",
    "error",
    "err",
    "wer",
    "cer",
    "mse",
    "mae",
    "rmse",
    "perplexity",
    "ppl",
    "latency",
    "seconds",
    "ms",
    "wait",
];

/// Whether a higher value of `metric` is better: true unless a part of its name is a loss,
/// an error or a time.
pub(crate) fn higher_is_better(metric: &str) -> bool {
    !metric
        .split(['.', '_', '-'])
        .any(|part| LOWER_IS_BETTER.contains(&part))
}

/// What a request asks for.
#[derive(Debug, Default)]
pub(crate) struct Ask {
    pub(crate) task: Option<String>,
    pub(crate) dataset: Option<String>,
    pub(crate) metric: Option<String>,
    /// Most entries per board.
    pub(crate) limit: usize,
}

/// A published model: its task and owner.
pub(crate) struct ModelInfo {
    pub(crate) task: String,
    pub(crate) owner: String,
}

/// One settled job's value on a board.
struct Run<'a> {
    job: &'a wire::Job,
    value: i64,
    settled: u64,
}

/// The height at which a settled job paid its provider.
fn settled_height(job: &wire::Job) -> u64 {
    job.payments
        .iter()
        .filter(|p| p.kind == "price")
        .map(|p| p.height)
        .max()
        .or_else(|| job.payments.iter().map(|p| p.height).max())
        .unwrap_or(job.posted_height)
}

/// The boards `ask` selects from `jobs` (only settled jobs with a result count; a job whose
/// model is unknown is left out).
pub(crate) fn boards(
    jobs: &[wire::Job],
    models: &HashMap<String, ModelInfo>,
    ask: &Ask,
) -> Vec<wire::Leaderboard> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<Run<'_>>> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.status == "settled") {
        let (Some(result), Some(model)) = (&job.result, models.get(&job.model)) else {
            continue;
        };
        if ask.task.as_ref().is_some_and(|t| *t != model.task)
            || ask.dataset.as_ref().is_some_and(|d| *d != job.dataset)
        {
            continue;
        }
        for m in &result.metrics {
            if ask.metric.as_ref().is_some_and(|want| *want != m.name) {
                continue;
            }
            groups
                .entry((model.task.as_str(), job.dataset.as_str(), m.name.as_str()))
                .or_default()
                .push(Run {
                    job,
                    value: m.value,
                    settled: settled_height(job),
                });
        }
    }
    let mut out: Vec<wire::Leaderboard> = groups
        .into_iter()
        .map(|((task, dataset, metric), runs)| board(task, dataset, metric, runs, models, ask))
        .collect();
    out.sort_by(|a, b| {
        (&a.task, &a.dataset)
            .cmp(&(&b.task, &b.dataset))
            .then(b.jobs.cmp(&a.jobs))
            .then(a.metric.cmp(&b.metric))
    });
    out
}

fn board(
    task: &str,
    dataset: &str,
    metric: &str,
    runs: Vec<Run<'_>>,
    models: &HashMap<String, ModelInfo>,
    ask: &Ask,
) -> wire::Leaderboard {
    let higher = higher_is_better(metric);
    // Best first; equal values: the earlier settled, then the smaller job id.
    let order = |a: &Run<'_>, b: &Run<'_>| {
        let by_value = if higher {
            b.value.cmp(&a.value)
        } else {
            a.value.cmp(&b.value)
        };
        by_value
            .then(a.settled.cmp(&b.settled))
            .then(a.job.id.cmp(&b.job.id))
    };
    let jobs = runs.len() as u32;
    let mut best: HashMap<&str, (Run<'_>, u32)> = HashMap::new();
    for run in runs {
        match best.get_mut(run.job.model.as_str()) {
            Some((b, count)) => {
                *count += 1;
                if order(&run, b).is_lt() {
                    *b = run;
                }
            }
            None => {
                let job: &wire::Job = run.job;
                best.insert(job.model.as_str(), (run, 1));
            }
        }
    }
    let mut ranked: Vec<(Run<'_>, u32)> = best.into_values().collect();
    ranked.sort_by(|a, b| order(&a.0, &b.0));
    let mut entries: Vec<wire::LeaderboardEntry> = Vec::with_capacity(ranked.len());
    for (i, (run, count)) in ranked.into_iter().take(ask.limit).enumerate() {
        // Equal values share a rank (1, 1, 3).
        let rank = match entries.last() {
            Some(prev) if prev.value == run.value => prev.rank,
            _ => i as u32 + 1,
        };
        let j = run.job;
        entries.push(wire::LeaderboardEntry {
            rank,
            model: j.model.clone(),
            model_owner: models
                .get(&j.model)
                .map(|m| m.owner.clone())
                .unwrap_or_default(),
            value: run.value,
            job: j.id.clone(),
            kind: j.kind.clone(),
            provider: j
                .award
                .as_ref()
                .map(|a| a.provider.clone())
                .unwrap_or_default(),
            params: j.params.clone(),
            metrics: j
                .result
                .as_ref()
                .map(|r| r.metrics.clone())
                .unwrap_or_default(),
            settled_height: run.settled,
            runs: count,
        });
    }
    wire::Leaderboard {
        task: task.to_owned(),
        dataset: dataset.to_owned(),
        metric: metric.to_owned(),
        higher_is_better: higher,
        jobs,
        entries,
    }
}

pub(crate) async fn leaderboard(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<wire::Leaderboards>, Failure> {
    let p = Params::new(query, &["task", "dataset", "metric", "limit"])?;
    let ask = Ask {
        task: p.text("task").map(str::to_owned),
        dataset: p
            .text("dataset")
            .map(|t| parse_id(t, "dataset").map(|id| id.to_hex()))
            .transpose()?,
        metric: p.text("metric").map(str::to_owned),
        limit: p.u64("limit", 20, 1, 100)? as usize,
    };
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        let mut models = HashMap::new();
        let mut jobs = Vec::new();
        for (k, r) in chain.ledger().records() {
            match (k, r) {
                (RecordKey::Model(id), Record::Model(m)) => {
                    models.insert(
                        id.to_hex(),
                        ModelInfo {
                            task: m.task.clone(),
                            owner: m.owner.to_bech32(network),
                        },
                    );
                }
                (RecordKey::Job(id), Record::Job(j)) if j.status.name() == "settled" => {
                    jobs.push(market_json::job(id, j, network));
                }
                _ => {}
            }
        }
        Ok(Json(wire::Leaderboards {
            boards: boards(&jobs, &models, &ask),
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, value: i64) -> wire::NamedValue {
        wire::NamedValue {
            name: name.to_owned(),
            value,
        }
    }

    fn job(
        id: &str,
        model: &str,
        dataset: &str,
        status: &str,
        metrics: &[(&str, i64)],
        height: u64,
    ) -> wire::Job {
        wire::Job {
            id: id.to_owned(),
            consumer: "c".to_owned(),
            status: status.to_owned(),
            kind: "train".to_owned(),
            model: model.to_owned(),
            dataset: dataset.to_owned(),
            params: vec![named("epochs", 3_000_000)],
            device_class: "cpu".to_owned(),
            min_memory_mib: 0,
            budget_units: 0,
            escrow_units: 0,
            max_price_units: 0,
            bid_blocks: 1,
            deadline_blocks: 1,
            verifiers: 1,
            segments: 1,
            challenge_blocks: 1,
            verifier_fee_units: 0,
            tier: 0,
            posted_height: 1,
            window_end_height: 2,
            reopens: 0,
            bids: vec![],
            excluded: vec![],
            award: Some(wire::Award {
                provider: format!("p-{id}"),
                price_units: 5,
                deadline_height: 9,
            }),
            result: Some(wire::JobResult {
                result: "r".to_owned(),
                transcript_root: "t".to_owned(),
                segments: 4,
                metrics: metrics.iter().map(|(n, v)| named(n, *v)).collect(),
            }),
            verification: None,
            payments: vec![wire::Payment {
                to: format!("p-{id}"),
                from: None,
                amount_units: 5,
                kind: "price".to_owned(),
                height,
            }],
        }
    }

    fn models() -> HashMap<String, ModelInfo> {
        let info = |task: &str| ModelInfo {
            task: task.to_owned(),
            owner: "o".to_owned(),
        };
        HashMap::from([
            ("m1".to_owned(), info("kws")),
            ("m2".to_owned(), info("kws")),
            ("m3".to_owned(), info("kws")),
            ("q1".to_owned(), info("qa")),
        ])
    }

    fn ask() -> Ask {
        Ask {
            limit: 20,
            ..Ask::default()
        }
    }

    #[test]
    fn losses_errors_and_times_rank_lowest_first() {
        for m in [
            "loss",
            "val_loss",
            "test.error",
            "wer",
            "seconds",
            "data_wait_fraction",
        ] {
            assert!(!higher_is_better(m), "{m}");
        }
        for m in [
            "accuracy",
            "test_accuracy",
            "macro_f1",
            "map",
            "mrr",
            "lossless_ratio",
        ] {
            assert!(higher_is_better(m), "{m}");
        }
    }

    #[test]
    fn each_model_appears_once_with_its_best_settled_result_best_first() {
        let jobs = vec![
            job(
                "j1",
                "m1",
                "d",
                "settled",
                &[("accuracy", 800_000), ("loss", 400_000)],
                10,
            ),
            job(
                "j2",
                "m1",
                "d",
                "settled",
                &[("accuracy", 900_000), ("loss", 300_000)],
                20,
            ),
            job(
                "j3",
                "m2",
                "d",
                "settled",
                &[("accuracy", 950_000), ("loss", 350_000)],
                15,
            ),
            // Not settled, or no model known: not counted.
            job("j4", "m3", "d", "verifying", &[("accuracy", 990_000)], 16),
            job("j5", "zz", "d", "settled", &[("accuracy", 990_000)], 16),
            // Another dataset is another board.
            job("j6", "m3", "e", "settled", &[("accuracy", 100_000)], 16),
        ];
        let b = boards(&jobs, &models(), &ask());
        let names: Vec<_> = b
            .iter()
            .map(|b| (b.dataset.as_str(), b.metric.as_str(), b.jobs))
            .collect();
        assert_eq!(
            names,
            [("d", "accuracy", 3), ("d", "loss", 3), ("e", "accuracy", 1)]
        );
        let acc = &b[0];
        assert!(acc.higher_is_better);
        let rows: Vec<_> = acc
            .entries
            .iter()
            .map(|e| (e.rank, e.model.as_str(), e.value, e.job.as_str(), e.runs))
            .collect();
        assert_eq!(
            rows,
            [(1, "m2", 950_000, "j3", 1), (2, "m1", 900_000, "j2", 2)]
        );
        assert_eq!(acc.entries[1].settled_height, 20);
        assert_eq!(acc.entries[1].provider, "p-j2");
        assert_eq!(acc.entries[1].metrics.len(), 2);
        let loss = &b[1];
        assert!(!loss.higher_is_better);
        let rows: Vec<_> = loss
            .entries
            .iter()
            .map(|e| (e.model.as_str(), e.value))
            .collect();
        assert_eq!(rows, [("m1", 300_000), ("m2", 350_000)]);
    }

    #[test]
    fn equal_values_share_a_rank_the_earlier_first_and_filters_and_limit_apply() {
        let jobs = vec![
            job("j1", "m1", "d", "settled", &[("accuracy", 900_000)], 30),
            job("j2", "m2", "d", "settled", &[("accuracy", 900_000)], 20),
            job("j3", "m3", "d", "settled", &[("accuracy", 800_000)], 10),
            job("j4", "q1", "d", "settled", &[("map", 700_000)], 10),
        ];
        let b = boards(&jobs, &models(), &ask());
        let rows: Vec<_> = b[0]
            .entries
            .iter()
            .map(|e| (e.rank, e.model.as_str()))
            .collect();
        assert_eq!(rows, [(1, "m2"), (1, "m1"), (3, "m3")]);
        assert_eq!(b[1].task, "qa");
        let only = |a: Ask| boards(&jobs, &models(), &a);
        let qa = only(Ask {
            task: Some("qa".to_owned()),
            ..ask()
        });
        assert_eq!(qa.len(), 1);
        assert_eq!(qa[0].metric, "map");
        assert!(only(Ask {
            metric: Some("f1".to_owned()),
            ..ask()
        })
        .is_empty());
        assert!(only(Ask {
            dataset: Some("e".to_owned()),
            ..ask()
        })
        .is_empty());
        let top = only(Ask { limit: 1, ..ask() });
        assert_eq!(top[0].entries.len(), 1);
        assert_eq!(top[0].jobs, 3);
    }
}
