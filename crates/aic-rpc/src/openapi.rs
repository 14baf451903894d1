//! The OpenAPI 3.1 document of the REST API, served at `/api/v1/openapi.json`.

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
    let errors = error_responses();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AIC node API",
            "version": "1",
            "description": "REST API of an AIC node. Block and transaction ids are hex in Bitcoin's display order (byte-reversed), as miners and explorers expect; header_hex and transaction hex are raw bytes in order. Amounts are integer base units (10^8 per AIC). Errors carry a machine-readable `code`. Bitcoin-style JSON-RPC (getblockcount, getbestblockhash, getblockhash, getdifficulty, getmininginfo, getblocktemplate, submitblock) is served at POST /rpc with HTTP Basic auth (the data directory's .cookie by default)."
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
                "txid": {"type": "string"}, "hex": {"type": "string"}, "kind": {"enum": ["coinbase", "transfer"]},
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
            "Account": {"type": "object", "properties": {
                "address": {"type": "string"}, "balance_units": {"type": "integer"}, "balance": {"type": "string"},
                "nonce": {"type": "integer"}, "next_nonce": {"type": "integer"}}}
        }}
    })
}
