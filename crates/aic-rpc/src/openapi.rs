//! The OpenAPI 3.1 document of the REST API, served at `/api/v1/openapi.json`.

mod explorer;
mod market;
mod network;

use serde_json::{json, Value};

fn error_responses() -> Value {
    json!({
        "400": {"description": "bad input; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
        "404": {"description": "not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
    })
}

fn ok(schema: &str, extra: Value) -> Value {
    let mut r = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}});
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(extra.clone());
    }
    r
}

/// The document.
pub(crate) fn document() -> Value {
    let mut doc = core();
    merge(&mut doc["paths"], explorer::paths());
    merge(&mut doc["components"]["schemas"], explorer::schemas());
    merge(&mut doc["paths"], network::paths());
    merge(&mut doc["components"]["schemas"], network::schemas());
    market::extend(&mut doc);
    doc
}

/// Adds the members of `more` to the object `into`; a member both have (a path with GET
/// here and POST there) gets the members of both.
fn merge(into: &mut Value, more: Value) {
    let (Some(into), Value::Object(more)) = (into.as_object_mut(), more) else {
        return;
    };
    for (key, value) in more {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn core() -> Value {
    let errors = error_responses();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AIC node API",
            "version": "1",
            "description": "REST API of an AIC node. Block and transaction ids are hex in Bitcoin's display order (byte-reversed), as miners and explorers expect; header_hex and transaction hex are raw bytes in order. Amounts are integer base units (10^8 per AIC). Errors carry a machine-readable `code`. Bitcoin-style JSON-RPC (getblockcount, getbestblockhash, getblockhash, getdifficulty, getmininginfo, getblocktemplate, submitblock; and for the operator getnetworkinfo, getpeerinfo, blockpeer, unblockpeer, addnode) is served at POST /rpc with HTTP Basic auth (the data directory's .cookie by default)."
        },
        "paths": {
            "/api/v1/status": {"get": {"summary": "Chain tip and mempool", "responses": ok("Status", json!({}))}},
            "/api/v1/blocks": {"post": {
                "summary": "Submit a block (header, CompactSize count, transactions), as hex",
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SubmitTx"}},
                    "text/plain": {"schema": {"type": "string", "description": "hex of the block bytes"}}}},
                "responses": {
                    "201": {"description": "stored; is_tip says whether it is the new tip", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlockAccepted"}}}},
                    "400": {"description": "malformed, or breaks a consensus rule (code: the rule, e.g. high-hash, bad-merkle-root, state-root-mismatch); nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "409": {"description": "already known", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/blocks/{id}": {"get": {
                "summary": "A block by height or hash",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "decimal height, or block hash in display order"}],
                "responses": ok("Block", errors.clone())}},
            "/api/v1/txs/{txid}": {"get": {
                "summary": "A transaction in the main chain or the mempool",
                "parameters": [{"name": "txid", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": ok("Tx", errors.clone())}},
            "/api/v1/txs": {"post": {
                "summary": "Submit a signed transaction",
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SubmitTx"}},
                    "text/plain": {"schema": {"type": "string", "description": "hex of the canonical bytes"}}}},
                "responses": {
                    "201": {"description": "accepted into the mempool", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submitted"}}}},
                    "400": errors["400"].clone(),
                    "409": {"description": "already known", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/accounts/{address}": {"get": {
                "summary": "Balance and nonce of an account",
                "parameters": [{"name": "address", "in": "path", "required": true, "schema": {"type": "string"}, "description": "bech32m address of this network"}],
                "responses": ok("Account", errors.clone())}},
            "/api/v1/mining/workers": {"get": {"summary": "Share statistics per Stratum worker (ADDRESS or ADDRESS.worker): connections, difficulty, accepted, rejected by reason, blocks, hash rate over ten minutes, last share", "responses": {"200": {"description": "ok"}}}},
            "/api/v1/blobs/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "description": "BLAKE3 of the blob, 64 lowercase hex digits"}],
                "get": {
                    "summary": "A content-addressed blob (data set shard, manifest, model package, checkpoint), streamed. One byte range per request (Range: bytes=a-b, bytes=a-, bytes=-n); malformed or multi-range headers are ignored (200). ETag is the quoted id; Accept-Ranges: bytes. The node does not re-hash what it serves: clients verify the whole blob.",
                    "parameters": [{"name": "Range", "in": "header", "required": false, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "the whole blob", "content": {"application/octet-stream": {}}},
                        "206": {"description": "the range; Content-Range: bytes a-b/len", "content": {"application/octet-stream": {}}},
                        "400": {"description": "bad-blob-id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "404": {"description": "not-found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "416": {"description": "range-not-satisfiable; Content-Range: bytes */len", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}},
                "head": {"summary": "As GET, without the body (Content-Length, ETag, Content-Range)", "responses": {"200": {"description": "present"}, "206": {"description": "range"}, "404": {"description": "absent"}, "416": {"description": "unsatisfiable range"}}},
                "put": {
                    "summary": "Store a blob. Needs the node's HTTP Basic credentials (as JSON-RPC). The body is stored only if its BLAKE3 equals id; at most 4 GiB.",
                    "security": [{"basic": []}],
                    "requestBody": {"required": true, "content": {"application/octet-stream": {}}},
                    "responses": {
                        "201": {"description": "stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlobStored"}}}},
                        "200": {"description": "already stored (the body is not read)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlobStored"}}}},
                        "400": {"description": "bad-blob-id, hash-mismatch (nothing stored) or malformed (the body broke off)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "401": {"description": "unauthorized", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "413": {"description": "too-large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/providers/announce": {"post": {
                "summary": "A worker agent announces itself and its devices (every heartbeat). Signed with ed25519 over b\"aic-provider-announce-v1\\0\" followed by the canonical JSON of the announcement without `signature` (keys sorted at every depth, no whitespace, absent optional fields as null). Soft state: a provider silent for missed_heartbeats (3) intervals shows offline.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProviderAnnouncement"}}}},
                "responses": {
                    "200": {"description": "accepted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnounceAccepted"}}}},
                    "400": {"description": "malformed, unsupported-version, bad-address, bad-public-key, address-mismatch, clock-skew (sent_at_ms more than 5 min from the node's clock), too-many-devices, bad-device, bad-endpoint; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "403": {"description": "bad-signature", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "409": {"description": "stale-seq: seq not above the last accepted from this address (replay)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "413": {"description": "too-large: body over the limit (256 KiB by default)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "503": {"description": "registry-full: online providers fill the registry", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/providers": {"get": {
                "summary": "Providers this node knows, by address",
                "parameters": [{"name": "online", "in": "query", "required": false, "schema": {"type": "boolean"}, "description": "true: only those heard from within the expiry"}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProviderList"}}}},
                    "400": errors["400"].clone()}}},
            "/api/v1/providers/{address}": {"get": {
                "summary": "One provider",
                "parameters": [{"name": "address", "in": "path", "required": true, "schema": {"type": "string"}, "description": "bech32m address of this network"}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProviderStatus"}}}},
                    "400": {"description": "bad-address", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                    "404": {"description": "unknown-provider", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/providers/{address}/reports": {
                "parameters": [{"name": "address", "in": "path", "required": true, "schema": {"type": "string"}, "description": "bech32m address of this network"}],
                "get": {
                    "summary": "The provider's latest job reports (100 by default), oldest first, as signed",
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReportList"}}}},
                        "400": {"description": "bad-address", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "404": {"description": "unknown-provider", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}},
                "post": {
                    "summary": "A worker reports a finished job. Signed with ed25519 over b\"aic-job-report-v1\\0\" followed by the canonical JSON of the report without `signature`. The provider must have announced.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobReport"}}}},
                    "responses": {
                        "201": {"description": "kept", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReportAccepted"}}}},
                        "400": {"description": "malformed, unsupported-version, bad-address, bad-public-key, address-mismatch, path-mismatch, bad-job-id, bad-hash, bad-time-range, clock-skew (ended_ms in the future), metrics-too-large; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "403": {"description": "bad-signature", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "404": {"description": "unknown-provider: announce first", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "409": {"description": "stale-seq", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "413": {"description": "too-large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                        "503": {"description": "registry-full", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "ok"}}}}
        },
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}, "schemas": {
            "ApiError": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "description": "kebab-case rule name, e.g. bad-signature, bad-nonce, insufficient-balance, malformed, not-found"},
                "message": {"type": "string"}}},
            "Status": {"type": "object", "properties": {
                "network": {"type": "string"}, "height": {"type": "integer"}, "tip_hash": {"type": "string"},
                "bits": {"type": "string"}, "difficulty": {"type": "number"}, "next_bits": {"type": "string"},
                "chain_work": {"type": "string"}, "state_root": {"type": "string"},
                "mempool_size": {"type": "integer"}, "mempool_bytes": {"type": "integer"}}},
            "Tx": {"type": "object", "required": ["txid", "hex", "kind"], "properties": {
                "txid": {"type": "string"}, "hex": {"type": "string"}, "kind": {"type": "string", "description": "coinbase, transfer, or a market action: register-provider, top-up-stake, unstake, withdraw-stake, publish-model, publish-dataset, post-job, cancel-job, bid, submit-result, verdict"}, "job": {"type": "string", "description": "the job a market action is about or a posting creates, in byte order as /api/v1/market/jobs/{id} takes it"},
                "from": {"type": "string"}, "to": {"type": "string"}, "amount_units": {"type": "integer"},
                "fee_units": {"type": "integer"}, "nonce": {"type": "integer"},
                "payouts": {"type": "array", "items": {"type": "object", "properties": {"to": {"type": "string"}, "amount_units": {"type": "integer"}}}},
                "block_hash": {"type": "string"}, "block_height": {"type": "integer"}}},
            "Block": {"type": "object", "required": ["hash", "height", "header_hex", "txs"], "properties": {
                "hash": {"type": "string"}, "height": {"type": "integer"}, "header_hex": {"type": "string", "description": "the 80 header bytes"},
                "version": {"type": "integer"}, "prev_hash": {"type": "string"}, "merkle_root": {"type": "string"},
                "time": {"type": "integer"}, "bits": {"type": "string"}, "nonce": {"type": "integer"},
                "size": {"type": "integer"}, "main_chain": {"type": "boolean"},
                "txs": {"type": "array", "items": {"$ref": "#/components/schemas/Tx"}}}},
            "SubmitTx": {"type": "object", "required": ["hex"], "properties": {"hex": {"type": "string"}}},
            "BlockAccepted": {"type": "object", "required": ["hash", "height", "is_tip", "reorg_depth"], "properties": {
                "hash": {"type": "string"}, "height": {"type": "integer"}, "is_tip": {"type": "boolean"}, "reorg_depth": {"type": "integer"}}},
            "BlobStored": {"type": "object", "required": ["id", "bytes"], "properties": {
                "id": {"type": "string"}, "bytes": {"type": "integer"}}},
            "Submitted": {"type": "object", "required": ["txid"], "properties": {"txid": {"type": "string"}}},
            "ProviderAnnouncement": {"type": "object", "additionalProperties": false,
                "required": ["version", "address", "public_key", "devices", "endpoint", "seq", "sent_at_ms", "signature"], "properties": {
                "version": {"const": 1}, "address": {"type": "string"}, "public_key": {"type": "string", "description": "ed25519, 64 hex digits"},
                "devices": {"type": "array", "maxItems": 64, "items": {"type": "object", "required": ["id"], "description": "device descriptor (docs/worker.md)"}},
                "endpoint": {"type": ["string", "null"], "description": "the worker's http(s) status URL"},
                "seq": {"type": "integer", "description": "strictly increasing per address"},
                "sent_at_ms": {"type": "integer"}, "signature": {"type": "string", "description": "ed25519, 128 hex digits"}}},
            "AnnounceAccepted": {"type": "object", "required": ["address", "seq", "heartbeat_interval_ms", "expires_at_ms"], "properties": {
                "address": {"type": "string"}, "seq": {"type": "integer"}, "heartbeat_interval_ms": {"type": "integer"}, "expires_at_ms": {"type": "integer"}}},
            "ProviderStatus": {"type": "object", "properties": {
                "address": {"type": "string"}, "public_key": {"type": "string"}, "devices": {"type": "array", "items": {"type": "object"}},
                "endpoint": {"type": ["string", "null"]}, "first_seen_ms": {"type": "integer"}, "last_seen_ms": {"type": "integer"},
                "online": {"type": "boolean"}, "heartbeats": {"type": "integer"}, "seq": {"type": "integer"}, "reports": {"type": "integer"}}},
            "ProviderList": {"type": "object", "properties": {
                "now_ms": {"type": "integer"}, "heartbeat_interval_ms": {"type": "integer"}, "expiry_ms": {"type": "integer"},
                "providers": {"type": "array", "items": {"$ref": "#/components/schemas/ProviderStatus"}}}},
            "JobReport": {"type": "object", "additionalProperties": false,
                "required": ["version", "address", "public_key", "job_id", "status", "result", "transcript_root", "metrics", "started_ms", "ended_ms", "seq", "signature"], "properties": {
                "version": {"const": 1}, "address": {"type": "string"}, "public_key": {"type": "string"},
                "job_id": {"type": "string", "minLength": 1, "maxLength": 128}, "status": {"enum": ["succeeded", "failed", "preempted"]},
                "result": {"type": ["string", "null"], "description": "BLAKE3 of the result blob, 64 lowercase hex digits"},
                "transcript_root": {"type": ["string", "null"], "description": "64 lowercase hex digits"},
                "metrics": {"type": "object"}, "started_ms": {"type": "integer"}, "ended_ms": {"type": "integer"},
                "seq": {"type": "integer"}, "signature": {"type": "string"}}},
            "ReportAccepted": {"type": "object", "required": ["address", "job_id", "seq"], "properties": {
                "address": {"type": "string"}, "job_id": {"type": "string"}, "seq": {"type": "integer"}}},
            "ReportList": {"type": "object", "properties": {
                "address": {"type": "string"}, "reports": {"type": "array", "items": {"$ref": "#/components/schemas/JobReport"}}}},
            "Account": {"type": "object", "properties": {
                "address": {"type": "string"}, "balance_units": {"type": "integer"}, "balance": {"type": "string"},
                "nonce": {"type": "integer"}, "next_nonce": {"type": "integer"}}}
        }}
    })
}
