//! The market's part of the OpenAPI document (`/api/v1/market/*`).

use serde_json::{json, Value};

fn get(summary: &str, schema: Value, params: Value, errors: &str) -> Value {
    json!({"get": {
        "summary": summary,
        "parameters": params,
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": schema}}},
            "4XX": {"description": errors, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list(name: &str) -> Value {
    json!({"type": "array", "items": reference(name)})
}

fn path_param(name: &str, description: &str) -> Value {
    json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description}])
}

/// Adds the market's paths and schemas to `doc`.
pub(crate) fn extend(doc: &mut Value) {
    let id = "64 hex digits in byte order (as the blob store prints content ids)";
    let paths = json!({
        "/api/v1/market/jobs": get(
            "Jobs on chain at the tip, newest first (at most 200). Market actions are signed transactions sent to POST /api/v1/txs; a refused one answers 400 with the rule as code (e.g. budget-too-low, wrong-job-state, tier-stake).",
            list("MarketJob"),
            json!([
                {"name": "status", "in": "query", "required": false, "schema": {"type": "string"}, "description": "one status or several separated by commas: open, awarded, verifying, settled, cancelled, no-bids, expired, failed"},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 200}},
                {"name": "consumer", "in": "query", "required": false, "schema": {"type": "string"}, "description": "bech32m address"},
                {"name": "provider", "in": "query", "required": false, "schema": {"type": "string"}, "description": "bech32m address: jobs it bid on or was awarded"}]),
            "bad-status, bad-address, bad-query (limit)"),
        "/api/v1/market/jobs/{id}": get("A job and its whole history: bids, award, result, verification, payments", reference("MarketJob"), path_param("id", id), "bad-id, not-found"),
        "/api/v1/market/providers": get("Registered providers with stake and reputation", list("MarketProvider"), json!([]), "none"),
        "/api/v1/market/providers/{address}": get("A registered provider", reference("MarketProvider"), path_param("address", "bech32m address"), "bad-address, not-found"),
        "/api/v1/market/models": get("Published models", list("MarketModel"), json!([]), "none"),
        "/api/v1/market/models/{id}": get("A published model", reference("MarketModel"), path_param("id", id), "bad-id, not-found"),
        "/api/v1/market/datasets": get("Published datasets", list("MarketDataset"), json!([]), "none"),
        "/api/v1/market/datasets/{id}": get("A published dataset", reference("MarketDataset"), path_param("id", id), "bad-id, not-found"),
        "/api/v1/market/leaderboard": get(
            "Models compared on equal terms: one board per task, dataset and metric reported by settled jobs, each model once with its best value, best first (lower first for metrics named as losses, errors or times: a part of the name, split at . _ -, among loss, error, err, wer, cer, mse, mae, rmse, perplexity, ppl, latency, seconds, ms, wait). Boards by task, dataset, then the most reported metric first.",
            reference("MarketLeaderboards"),
            json!([
                {"name": "task", "in": "query", "required": false, "schema": {"type": "string"}},
                {"name": "dataset", "in": "query", "required": false, "schema": {"type": "string"}, "description": id},
                {"name": "metric", "in": "query", "required": false, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "description": "entries per board"}]),
            "bad-id, bad-query")
    });
    let int = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let named = json!({"type": "array", "items": {"type": "object", "properties": {"name": string, "value": {"type": "integer", "description": "fixed point, 10^6 = 1.0"}}}});
    let schemas = json!({
        "MarketProvider": {"type": "object", "properties": {
            "address": string, "stake_units": int, "unbonding_units": int, "release_height": int,
            "devices": string, "device_class": {"enum": ["cpu", "gpu", "fpga", "asic"]}, "device_count": int,
            "memory_mib": int, "gflops": int, "endpoint": string, "registered_height": int, "active_jobs": int,
            "reputation": {"type": "object", "properties": {
                "completed": int, "failed": int, "missed": int, "verdicts": int, "overturned": int, "silent": int,
                "score": {"type": "integer", "description": "100 + 10 completed + 2 verdicts - 100 failed - 25 missed - 50 overturned - 5 silent, at least 0"}}}}},
        "MarketModel": {"type": "object", "properties": {
            "id": string, "owner": string, "task": string, "royalty_bps": int, "published_height": int, "jobs": int,
            "params": {"type": "array", "items": {"type": "object", "properties": {"name": string, "min": int, "max": int, "integer": {"type": "boolean"}}}}}},
        "MarketDataset": {"type": "object", "properties": {
            "id": string, "owner": string, "task": string, "royalty_bps": int, "bytes": int, "published_height": int, "jobs": int}}
    });
    let job_history = json!({
        "bids": {"type": "array", "items": {"type": "object", "properties": {"provider": string, "price_units": int, "height": int}}},
        "excluded": {"type": "array", "items": string},
        "award": {"type": "object", "properties": {"provider": string, "price_units": int, "deadline_height": int}},
        "result": {"type": "object", "properties": {"result": string, "transcript_root": string, "segments": int, "metrics": named}},
        "verification": {"type": "object", "properties": {
            "round": int, "verifiers": {"type": "array", "items": string}, "segments": {"type": "array", "items": int},
            "challenge_end_height": int,
            "verdicts": {"type": "array", "items": {"type": "object", "properties": {"verifier": string, "pass": {"type": "boolean"}, "evidence": string, "round": int}}}}},
        "payments": {"type": "array", "items": {"type": "object", "properties": {
            "to": string, "from": string, "amount_units": int, "height": int,
            "kind": {"enum": ["price", "model-royalty", "dataset-royalty", "verifier-fee", "refund", "slash-to-consumer", "slash-to-verifier", "verifier-slash"]}}}}
    });
    let mut job = json!({
        "id": string, "consumer": string,
        "status": {"enum": ["open", "awarded", "verifying", "settled", "cancelled", "no-bids", "expired", "failed"]},
        "kind": {"enum": ["train", "fine-tune", "evaluate", "infer"]}, "model": string, "dataset": string, "params": named,
        "device_class": string, "min_memory_mib": int, "budget_units": int, "escrow_units": int, "max_price_units": int,
        "bid_blocks": int, "deadline_blocks": int, "verifiers": int, "segments": int, "challenge_blocks": int,
        "verifier_fee_units": int, "tier": int, "posted_height": int, "window_end_height": int, "reopens": int
    });
    if let (Some(j), Some(h)) = (job.as_object_mut(), job_history.as_object()) {
        j.extend(h.clone());
    }
    let mut schemas = schemas;
    schemas["MarketLeaderboards"] = json!({"type": "object", "properties": {"boards": {"type": "array", "items": {"type": "object", "properties": {
        "task": string, "dataset": string, "metric": string, "higher_is_better": {"type": "boolean"},
        "jobs": {"type": "integer", "description": "settled jobs that reported the metric"},
        "entries": {"type": "array", "items": {"type": "object", "properties": {
            "rank": {"type": "integer", "description": "equal values share a rank"}, "model": string, "model_owner": string,
            "value": {"type": "integer", "description": "fixed point, 10^6 = 1.0"}, "job": string, "kind": string, "provider": string,
            "params": named, "metrics": named, "settled_height": int, "runs": {"type": "integer", "description": "settled jobs of this model on this board"}}}}}}}}});
    schemas["MarketJob"] = json!({"type": "object", "properties": job});
    if let (Some(p), Some(new)) = (doc["paths"].as_object_mut(), paths.as_object()) {
        p.extend(new.clone());
    }
    if let (Some(s), Some(new)) = (
        doc["components"]["schemas"].as_object_mut(),
        schemas.as_object(),
    ) {
        s.extend(new.clone());
    }
}
