//! `/api/v1/market/*`: the on-chain market's records at the tip, read only. Market actions
//! are signed transactions submitted to `POST /api/v1/txs`.

mod leaderboard;

use aic_api::market as wire;
use aic_ledger::market::{Record, RecordKey};
use aic_primitives::{Address, Hash256, Network};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::market_json;
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// The market's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/market/jobs", get(jobs))
        .route("/api/v1/market/jobs/{id}", get(job))
        .route("/api/v1/market/providers", get(providers))
        .route("/api/v1/market/providers/{address}", get(provider))
        .route("/api/v1/market/models", get(models))
        .route("/api/v1/market/models/{id}", get(model))
        .route("/api/v1/market/datasets", get(datasets))
        .route("/api/v1/market/datasets/{id}", get(dataset))
        .route("/api/v1/market/leaderboard", get(leaderboard::leaderboard))
}

/// Most jobs a list returns.
const MAX_LIST: usize = 200;

fn parse_id(text: &str, what: &str) -> Result<Hash256, Failure> {
    Hash256::from_hex(text)
        .map_err(|e| Failure::new(400, "bad-id", format!("{what} id {text:?}: {e}")))
}

/// Filters of `GET /api/v1/market/jobs`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct JobFilter {
    /// One status, or several separated by commas.
    status: Option<String>,
    consumer: Option<String>,
    provider: Option<String>,
    /// Most jobs to return, 1 to [`MAX_LIST`].
    limit: Option<String>,
}

const STATUSES: [&str; 8] = [
    "open",
    "awarded",
    "verifying",
    "settled",
    "cancelled",
    "no-bids",
    "expired",
    "failed",
];

pub(crate) async fn jobs(
    State(s): State<AppState>,
    Query(filter): Query<JobFilter>,
) -> Result<Json<Vec<wire::Job>>, Failure> {
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        let statuses: Option<Vec<String>> = filter
            .status
            .as_deref()
            .map(|text| text.split(',').map(|st| st.trim().to_owned()).collect());
        for st in statuses.iter().flatten() {
            if !STATUSES.contains(&st.as_str()) {
                return Err(Failure::new(
                    400,
                    "bad-status",
                    format!("status {st:?} is not one of {}", STATUSES.join(", ")),
                ));
            }
        }
        let limit = match filter.limit.as_deref() {
            None => MAX_LIST,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIST).contains(&n) => n,
                _ => {
                    return Err(crate::explorer::bad_query(format!(
                        "limit must be an integer from 1 to {MAX_LIST}, not {text:?}"
                    )))
                }
            },
        };
        let address = |t: &Option<String>| {
            t.as_deref()
                .map(|t| Address::parse(t, network))
                .transpose()
                .map_err(|e| Failure::new(400, "bad-address", e.to_string()))
        };
        let consumer = address(&filter.consumer)?;
        let provider = address(&filter.provider)?;
        let mut out: Vec<wire::Job> = chain
            .ledger()
            .records()
            .filter_map(|(k, r)| match (k, r) {
                (RecordKey::Job(id), Record::Job(j)) => Some((id, j)),
                _ => None,
            })
            .filter(|(_, j)| {
                statuses
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|st| j.status.name() == st))
            })
            .filter(|(_, j)| consumer.is_none_or(|c| j.consumer == c))
            .filter(|(_, j)| {
                provider.is_none_or(|p| {
                    j.award.is_some_and(|a| a.provider == p)
                        || j.bids.iter().any(|b| b.provider == p)
                })
            })
            .map(|(id, j)| market_json::job(id, j, network))
            .collect();
        out.sort_by(|a, b| b.posted_height.cmp(&a.posted_height).then(a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(Json(out))
    })
    .await
}

pub(crate) async fn job(
    State(s): State<AppState>,
    Path(text): Path<String>,
) -> Result<Json<wire::Job>, Failure> {
    let id = parse_id(&text, "job")?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let j = chain
            .ledger()
            .job(&id)
            .ok_or_else(|| Failure::new(404, "not-found", format!("no job {text}")))?;
        Ok(Json(market_json::job(&id, j, chain.params().network)))
    })
    .await
}

pub(crate) async fn providers(
    State(s): State<AppState>,
) -> Result<Json<Vec<wire::Provider>>, Failure> {
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        let ledger = chain.ledger();
        Ok(Json(
            ledger
                .provider_addresses()
                .filter_map(|a| {
                    ledger
                        .provider(&a)
                        .map(|p| market_json::provider(&a, p, network))
                })
                .collect(),
        ))
    })
    .await
}

pub(crate) async fn provider(
    State(s): State<AppState>,
    Path(text): Path<String>,
) -> Result<Json<wire::Provider>, Failure> {
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        let address = Address::parse(&text, network)
            .map_err(|e| Failure::new(400, "bad-address", e.to_string()))?;
        let p = chain
            .ledger()
            .provider(&address)
            .ok_or_else(|| Failure::new(404, "not-found", format!("{text} is not registered")))?;
        Ok(Json(market_json::provider(&address, p, network)))
    })
    .await
}

/// Every record `pick` turns into JSON, in key order.
async fn list<T: Send + 'static>(
    s: &AppState,
    pick: fn(&RecordKey, &Record, Network) -> Option<T>,
) -> Result<Json<Vec<T>>, Failure> {
    blocking(s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        Ok(Json(
            chain
                .ledger()
                .records()
                .filter_map(|(k, r)| pick(k, r, network))
                .collect(),
        ))
    })
    .await
}

pub(crate) async fn models(State(s): State<AppState>) -> Result<Json<Vec<wire::Model>>, Failure> {
    list(&s, |k, r, network| match (k, r) {
        (RecordKey::Model(id), Record::Model(m)) => Some(market_json::model(id, m, network)),
        _ => None,
    })
    .await
}

pub(crate) async fn model(
    State(s): State<AppState>,
    Path(text): Path<String>,
) -> Result<Json<wire::Model>, Failure> {
    let id = parse_id(&text, "model")?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let m = chain
            .ledger()
            .model(&id)
            .ok_or_else(|| Failure::new(404, "not-found", format!("no model {text}")))?;
        Ok(Json(market_json::model(&id, m, chain.params().network)))
    })
    .await
}

pub(crate) async fn datasets(
    State(s): State<AppState>,
) -> Result<Json<Vec<wire::Dataset>>, Failure> {
    list(&s, |k, r, network| match (k, r) {
        (RecordKey::Dataset(id), Record::Dataset(d)) => Some(market_json::dataset(id, d, network)),
        _ => None,
    })
    .await
}

pub(crate) async fn dataset(
    State(s): State<AppState>,
    Path(text): Path<String>,
) -> Result<Json<wire::Dataset>, Failure> {
    let id = parse_id(&text, "dataset")?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let d = chain
            .ledger()
            .dataset(&id)
            .ok_or_else(|| Failure::new(404, "not-found", format!("no dataset {text}")))?;
        Ok(Json(market_json::dataset(&id, d, chain.params().network)))
    })
    .await
}
