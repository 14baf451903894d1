//! The OpenAPI 3.1 document of the worker's HTTP API, served at
//! `GET /api/v1/worker/openapi.json`: the endpoints the worker's page and scripts read
//! (`docs/api.md`, "The worker's HTTP endpoints"). A test holds it to the routes the worker
//! serves.

use serde_json::{json, Value};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn ok_json(name: &str) -> Value {
    json!({"200": {"description": "ok", "content": {"application/json": {"schema": schema(name)}}},
           "404": {"description": "not served by this worker (no agent, or no job queue)"}})
}

fn refused() -> Value {
    json!({"description": "illegal in the device's state; nothing changed",
           "content": {"application/json": {"schema": schema("Refusal")}}})
}

/// The document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AIC worker API",
            "version": "1",
            "description": "What `aic worker run` serves on its listen address (loopback by default; no authentication, do not expose it): the monitor, the switcher and its controls, earnings per device, the job queue, and one event stream that carries them all to the worker's page. Amounts are base units (1 AIC = 100,000,000)."
        },
        "paths": {
            "/metrics": {"get": {
                "summary": "Prometheus text (format 0.0.4): per device info, task, utilization, memory, temperature, power, scores",
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}
            }},
            "/api/v1/worker/status": {"get": {
                "summary": "The monitor: devices, the task holding each, the latest sample and the last N",
                "parameters": [{"name": "history", "in": "query", "required": false,
                                "description": "samples to return, oldest first (default 60)",
                                "schema": {"type": "integer", "minimum": 0}}],
                "responses": ok_json("Status")
            }},
            "/api/v1/worker/switcher": {"get": {
                "summary": "The switcher: state, policy, pool client, hashes and shares, time per task, hand-overs with latencies, the timeline",
                "responses": ok_json("Switcher")
            }},
            "/api/v1/worker/earnings": {"get": {
                "summary": "Earnings per device: mining (shares, and the blocks found checked with the node, in AIC) and AI work (jobs, and what the market paid)",
                "responses": ok_json("Earnings")
            }},
            "/api/v1/worker/events": {"get": {
                "summary": "Server-sent events: `snapshot` every second ({status, switcher, jobs}: what those endpoints answer, null where not served), `earnings` every five seconds (what /api/v1/worker/earnings answers)",
                "responses": {"200": {"description": "an endless text/event-stream",
                                      "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
            }},
            "/api/v1/worker/jobs": {"get": {
                "summary": "The job queue: the job on the device, the queued ones, recent outcomes",
                "responses": ok_json("Jobs")
            }},
            "/api/v1/worker/jobs/{id}/preempt": {"post": {
                "summary": "Preempts a running job: it checkpoints and is queued again",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"202": {"description": "preemption asked"}, "409": refused()}
            }},
            "/api/v1/worker/pause": {"post": {
                "summary": "The owner's pause: the device stops mining and AI work",
                "responses": {"200": {"description": "paused", "content": {"application/json": {"schema": schema("StateAnswer")}}}, "409": refused()}
            }},
            "/api/v1/worker/resume": {"post": {
                "summary": "Ends the owner's pause",
                "responses": {"200": {"description": "resumed", "content": {"application/json": {"schema": schema("StateAnswer")}}}, "409": refused()}
            }},
            "/api/v1/worker/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        },
        "components": {"schemas": schemas()}
    })
}

fn schemas() -> Value {
    let units = json!({"type": "integer", "minimum": 0, "description": "base units"});
    json!({
        "Refusal": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "StateAnswer": {"type": "object", "properties": {"state": schema("SwitcherState")}},
        "SwitcherState": {"type": "object", "properties": {
            "task": {"enum": ["idle", "mining", "ai_job", "paused"]},
            "job": {"type": ["string", "null"]},
            "paused_by_command": {"type": "boolean"},
            "paused_by_activity": {"type": "boolean"}
        }},
        "Status": {"type": "object", "required": ["schema_version", "interval_ms", "devices", "tasks"], "properties": {
            "schema_version": {"const": 1},
            "interval_ms": {"type": "integer"},
            "samples_taken": {"type": "integer"},
            "devices": {"type": "array", "items": {"type": "object", "description": "standard device descriptor (docs/worker.md, section 1)"}},
            "tasks": {"type": "object", "additionalProperties": {"enum": ["idle", "mining", "ai_job", "paused"]}},
            "latest": {"oneOf": [schema("Sample"), {"type": "null"}]},
            "history": {"type": "array", "items": schema("Sample")}
        }},
        "Sample": {"type": "object", "properties": {
            "at_ms": {"type": "integer"},
            "devices": {"type": "array", "items": {"type": "object", "properties": {
                "device": {"type": "string"}, "task": {"type": "string"},
                "utilization": {"type": ["number", "null"]},
                "core_utilization": {"type": ["array", "null"], "items": {"type": "number"}},
                "memory_used_bytes": {"type": ["integer", "null"]},
                "memory_total_bytes": {"type": ["integer", "null"]},
                "temperature_celsius": {"type": ["number", "null"]},
                "power_watts": {"type": ["number", "null"]}
            }}}
        }},
        "Switcher": {"type": "object", "required": ["device", "state", "now_s", "timeline"], "properties": {
            "device": {"type": "string"},
            "state": schema("SwitcherState"),
            "policy": {"type": "object"},
            "pool": {"type": "object", "properties": {
                "connected": {"type": ["string", "null"]}, "authorized": {"type": "boolean"},
                "difficulty": {"type": ["number", "null"]}, "jobs": {"type": "integer"},
                "accepted": {"type": "integer"}, "rejected": {"type": "integer"},
                "last_error": {"type": ["string", "null"]}
            }},
            "hashes": {"type": "integer"}, "shares": {"type": "integer"},
            "refused_signals": {"type": "integer"},
            "usage": {"type": "object", "properties": {
                "total_s": {"type": "number"}, "mining_s": {"type": "number"}, "ai_s": {"type": "number"},
                "lost_s": {"type": "number"}, "useful_fraction": {"type": "number"}
            }},
            "switch_count": {"type": "integer"},
            "switches": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"enum": ["release", "resume"]}, "at_s": {"type": "number"}, "latency_us": {"type": "integer"}
            }}},
            "now_s": {"type": "number"},
            "timeline": {"type": "array", "items": {"type": "object", "properties": {
                "task": {"type": "string"}, "working": {"type": "boolean"},
                "start_s": {"type": "number"}, "end_s": {"type": "number"}
            }}}
        }},
        "Jobs": {"type": "object", "properties": {
            "current": {"type": ["string", "null"]},
            "queued": {"type": "array", "items": {"type": "string"}},
            "outcomes": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"},
                "status": {"enum": ["succeeded", "failed", "preempted", "refused"]},
                "reason": {"type": ["string", "null"]}, "result": {},
                "started_ms": {"type": "integer"}, "ended_ms": {"type": "integer"},
                "peak_memory_bytes": {"type": ["integer", "null"]}
            }}},
            "last_error": {"type": ["string", "null"]}
        }},
        "MinedTotals": {"type": "object", "required": ["found", "in_chain", "lost", "unchecked", "paid_units"], "properties": {
            "found": {"type": "integer", "description": "accepted shares that met the network target"},
            "in_chain": {"type": "integer", "description": "of them, on the node's main chain when last checked"},
            "lost": {"type": "integer", "description": "off the main chain, or unknown to the node"},
            "unchecked": {"type": "integer", "description": "not asked about (no node, or not yet)"},
            "paid_units": units.clone()
        }},
        "MinedBlock": {"type": "object", "required": ["hash", "found_unix_ms", "state", "paid_units", "settled"], "properties": {
            "hash": {"type": "string", "description": "display order hex"},
            "found_unix_ms": {"type": "integer"},
            "state": {"enum": ["unchecked", "main", "side", "unknown"]},
            "height": {"type": ["integer", "null"]},
            "confirmations": {"type": ["integer", "null"]},
            "paid_units": units.clone(),
            "settled": {"type": "boolean", "description": "6 confirmations deep, or lost 10 minutes after it was found"}
        }},
        "Earnings": {"type": "object", "required": ["devices", "mined_blocks", "market", "market_error"], "properties": {
            "devices": {"type": "array", "items": {"type": "object", "properties": {
                "device": {"type": "string"},
                "paid_units": {"type": "integer", "description": "mining and market pay together, base units"},
                "mining": {"type": "object", "properties": {
                    "seconds": {"type": "number"}, "hashes": {"type": "integer"},
                    "shares_found": {"type": "integer"}, "shares_accepted": {"type": "integer"},
                    "shares_rejected": {"type": "integer"}, "share_difficulty": {"type": ["number", "null"]},
                    "blocks": schema("MinedTotals"), "paid_units": units.clone()
                }},
                "ai": {"type": "object", "properties": {
                    "seconds": {"type": "number"}, "recent_jobs": {"type": ["integer", "null"]},
                    "succeeded": {"type": ["integer", "null"]}, "failed": {"type": ["integer", "null"]},
                    "preempted": {"type": ["integer", "null"]},
                    "paid_units": {"type": ["integer", "null"], "description": "what the market paid, with the market agent"}
                }}
            }}},
            "mined_blocks": {"type": "object", "properties": {
                "node": {"type": ["string", "null"], "description": "the node asked about the blocks"},
                "payout_address": {"type": ["string", "null"]},
                "error": {"type": ["string", "null"], "description": "why the node did not answer"},
                "recent": {"type": "array", "items": schema("MinedBlock"), "description": "the last 20 found, newest first"}
            }},
            "market": {"type": ["object", "null"], "properties": {
                "address": {"type": "string"}, "total_units": units,
                "jobs": {"type": "array", "items": {"type": "object", "properties": {
                    "job": {"type": "string"}, "status": {"type": "string"}, "ran": {"type": "boolean"},
                    "paid_units": {"type": "object", "additionalProperties": {"type": "integer"}}
                }}}
            }},
            "market_error": {"type": ["string", "null"]}
        }}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the worker serves is in the document, and every path of the document is
    /// a route.
    #[test]
    fn every_route_is_documented_and_no_other() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        let sources = [
            include_str!("agent/http.rs"),
            include_str!("agent/earnings.rs"),
            include_str!("agent/events.rs"),
            include_str!("monitor/http.rs"),
            include_str!("page.rs"),
        ];
        let mut routes = Vec::new();
        for source in sources {
            // Routes of the file itself, not of its tests.
            let source = source.split("#[cfg(test)]").next().unwrap();
            for chunk in source.split(".route(").skip(1) {
                let Some(path) = chunk.trim_start().strip_prefix('"') else {
                    continue;
                };
                let path = path.split('"').next().unwrap();
                if path == "/" || path.starts_with("/dashboard/") {
                    continue; // the page, not the API
                }
                routes.push(path.to_owned());
            }
        }
        routes.sort();
        let mut documented: Vec<String> = paths.keys().cloned().collect();
        documented.sort();
        assert_eq!(routes, documented);
        // Every reference resolves.
        let text = doc.to_string();
        for r in text.split("#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{name} is referenced but not defined"
            );
        }
    }
}
