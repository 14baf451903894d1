//! The OpenAPI paths and schemas of the explorer routes, the event stream and the dashboard.

use serde_json::{json, Value};

fn err(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}})
}

fn ok(schema: &str) -> Value {
    json!({"description": "ok", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn limit() -> Value {
    query(
        "limit",
        "page size, 1 to 100 (default 20)",
        json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    )
}

/// Paths, merged into the document's `paths`.
pub(super) fn paths() -> Value {
    let bad_query = err("bad-query: an unknown query parameter, or a value that is not an integer in range (the message names it); nothing changed");
    json!({
        "/api/v1/blocks": {"get": {
            "summary": "Main-chain blocks below `before`, newest first, without their transactions",
            "parameters": [query("before", "list heights below this (default: from the tip)", json!({"type": "integer", "minimum": 0})), limit()],
            "responses": {"200": ok("BlockList"), "400": bad_query}}},
        "/api/v1/txs": {"get": {
            "summary": "The latest transactions: the mempool's first, then those of the last 100 blocks, newest first (coinbases included)",
            "parameters": [limit()],
            "responses": {"200": ok("TxList"), "400": bad_query}}},
        "/api/v1/accounts/{address}/txs": {"get": {
            "summary": "An account's transactions, newest first, with the change each made to its balance. The node keeps no address index: a request reads at most 1000 blocks down from `before` and stops after the block where `limit` is reached (a block's transactions are never split); page on with `next_before`. Mempool transactions come in `pending` on the first page (no `before`).",
            "parameters": [
                {"name": "address", "in": "path", "required": true, "schema": {"type": "string"}, "description": "bech32m address of this network"},
                query("before", "scan heights below this (default: from the tip)", json!({"type": "integer", "minimum": 1})), limit()],
            "responses": {"200": ok("AccountHistory"), "400": err("bad-address or bad-query")}}},
        "/api/v1/chain/series": {"get": {
            "summary": "Difficulty and estimated network hash rate of the last `blocks` main-chain blocks, oldest first, from the block index. hash_rate is the work of the last `window` (10) blocks over the time their headers span.",
            "parameters": [query("blocks", "points, 1 to 1000 (default 120)", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 120}))],
            "responses": {"200": ok("ChainSeries"), "400": bad_query}}},
        "/api/v1/search": {"get": {
            "summary": "What a query names: a decimal height, a block hash or txid (64 hex digits, display order), or an address of this network",
            "parameters": [{"name": "q", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 128}}],
            "responses": {
                "200": ok("SearchResult"),
                "400": err("bad-query (q missing or empty, or another parameter), bad-search (none of the forms above)"),
                "404": err("not-found: well-formed, but no such height, block or transaction")}}},
        "/api/v1/events": {"get": {
            "summary": "Server-sent events (text/event-stream) of the node's changes. Each event has a name and one JSON data line: `hello` (first: network, tip, the types carried), `tip` (a block became the tip: TipEvent), `tx` (a transaction entered the mempool: Tx), `mining` (Stratum worker statistics changed, at most once a second: MiningEvent), `providers` (a worker announced itself or reported a job, or one went offline; at most once a second: what GET /api/v1/providers answers, the first 200 providers, plus `total`), `lagged` (this client fell more than 256 events behind and missed `missed` of them: reload what you show). Events after `hello` carry an increasing `id`. A `: keep-alive` comment comes every 15 s; the stream ends when the node shuts down. Clients ignore event names they do not know.",
            "parameters": [query("types", "comma-separated event names to receive: tip, tx, mining, providers (default all; hello and lagged always come)", json!({"type": "string"}))],
            "responses": {
                "200": {"description": "the stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                "400": err("bad-event-type (a name in types is unknown) or bad-query"),
                "503": err("too-many-subscribers: 256 streams are open")}}}
    })
}

/// Schemas, merged into the document's `components.schemas`.
pub(super) fn schemas() -> Value {
    json!({
        "BlockSummary": {"type": "object", "required": ["hash", "height", "prev_hash", "time", "bits", "difficulty", "tx_count", "size", "reward_units"], "properties": {
            "hash": {"type": "string"}, "height": {"type": "integer"}, "prev_hash": {"type": "string"},
            "time": {"type": "integer"}, "bits": {"type": "string"}, "difficulty": {"type": "number"},
            "tx_count": {"type": "integer"}, "size": {"type": "integer"},
            "miner": {"type": "string", "description": "the coinbase's first payout address"},
            "reward_units": {"type": "integer", "description": "everything the coinbase pays"}}},
        "BlockList": {"type": "object", "required": ["tip_height", "blocks"], "properties": {
            "tip_height": {"type": "integer"},
            "blocks": {"type": "array", "items": {"$ref": "#/components/schemas/BlockSummary"}},
            "next_before": {"type": "integer", "description": "before for the next page; absent when genesis is on this page"}}},
        "TxList": {"type": "object", "required": ["txs"], "properties": {
            "txs": {"type": "array", "items": {"$ref": "#/components/schemas/Tx"}}}},
        "AccountTx": {"allOf": [{"$ref": "#/components/schemas/Tx"}, {"type": "object", "required": ["delta_units"], "properties": {
            "delta_units": {"type": "integer", "description": "change of the account's balance: received minus sent minus fee"}}}]},
        "AccountHistory": {"type": "object", "required": ["address", "pending", "txs", "scanned_from", "scanned_to"], "properties": {
            "address": {"type": "string"},
            "pending": {"type": "array", "items": {"$ref": "#/components/schemas/AccountTx"}},
            "txs": {"type": "array", "items": {"$ref": "#/components/schemas/AccountTx"}},
            "scanned_from": {"type": "integer"}, "scanned_to": {"type": "integer"},
            "next_before": {"type": "integer", "description": "before for the next page; absent when the scan reached genesis"}}},
        "SeriesPoint": {"type": "object", "properties": {
            "height": {"type": "integer"}, "time": {"type": "integer"}, "bits": {"type": "string"},
            "difficulty": {"type": "number"}, "interval_secs": {"type": "integer"}, "hash_rate": {"type": "number"}}},
        "ChainSeries": {"type": "object", "required": ["window", "points"], "properties": {
            "window": {"type": "integer"},
            "points": {"type": "array", "items": {"$ref": "#/components/schemas/SeriesPoint"}}}},
        "SearchResult": {"type": "object", "required": ["kind", "id"], "properties": {
            "kind": {"enum": ["block", "tx", "account"]}, "id": {"type": "string"},
            "height": {"type": "integer", "description": "the block's height, or a confirmed transaction's"}}},
        "TipEvent": {"allOf": [{"$ref": "#/components/schemas/BlockSummary"}, {"type": "object", "required": ["reorg_depth"], "properties": {
            "reorg_depth": {"type": "integer"}}}]},
        "MiningEvent": {"type": "object", "required": ["workers", "total"], "properties": {
            "workers": {"type": "array", "maxItems": 200, "items": {"type": "object"}, "description": "as GET /api/v1/mining/workers"},
            "total": {"type": "integer"}}}
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn paths_shared_with_the_core_keep_both_methods() {
        let doc = super::super::document();
        for path in ["/api/v1/blocks", "/api/v1/txs"] {
            assert!(doc["paths"][path]["get"].is_object(), "{path} GET");
            assert!(doc["paths"][path]["post"].is_object(), "{path} POST");
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = super::super::document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20);
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not defined"
            );
        }
    }
}
