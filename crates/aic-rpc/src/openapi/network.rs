//! The network's part of the OpenAPI document (`/api/v1/network`).

use serde_json::{json, Value};

/// The paths.
pub(super) fn paths() -> Value {
    json!({
        "/api/v1/network": {"get": {
            "summary": "This node on the peer-to-peer network: peer id, listen addresses, connected peers with scores and heights, sync counters",
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NetworkInfo"}}}},
                "503": {"description": "network-off (the node runs without the network) or network-stopped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}}}}
    })
}

/// The schemas.
pub(super) fn schemas() -> Value {
    json!({
        "NetworkInfo": {"type": "object", "required": ["peer_id", "listen", "peers"], "properties": {
            "peer_id": {"type": "string"},
            "listen": {"type": "array", "items": {"type": "string"}, "description": "multiaddrs ending in /p2p/<peer_id>, what other nodes dial"},
            "peers": {"type": "array", "items": {"$ref": "#/components/schemas/PeerInfo"}},
            "sync_headers": {"type": "integer"}, "sync_blocks": {"type": "integer"},
            "orphans_connected": {"type": "integer"}, "queued": {"type": "integer"},
            "orphans": {"type": "integer"}, "bans": {"type": "integer"}}},
        "PeerInfo": {"type": "object", "required": ["peer_id", "addr", "outbound", "score"], "properties": {
            "peer_id": {"type": "string"}, "addr": {"type": "string"},
            "outbound": {"type": "boolean", "description": "this node dialled it"},
            "score": {"type": "number", "description": "0 is clean; at -100 the peer is banned"},
            "height": {"type": "integer", "description": "the tip height it last reported"}}}
    })
}
