//! The stateless checks of a message: everything but the sequence number and the limits that
//! depend on what the registry holds.

use std::collections::HashSet;

use aic_api::provider::{
    canonical_json, JobReport, ProviderAnnouncement, ANNOUNCE_VERSION, REPORT_VERSION,
};
use aic_primitives::{Address, Network, PublicKey, Signature};
use serde_json::Value;

use super::{ProviderConfig, ProviderError};

/// Longest endpoint URL, bytes.
const MAX_ENDPOINT_BYTES: usize = 256;
/// Longest job id or device id, bytes.
const MAX_ID_BYTES: usize = 128;

/// Parses `text` as an address of `network`.
pub(super) fn parse_address(text: &str, network: Network) -> Result<Address, ProviderError> {
    Address::parse(text, network).map_err(|e| ProviderError::BadAddress(e.to_string()))
}

/// Checks that `public_key` is `address`'s and that `signature` signs `message` with it.
fn check_signer(
    address: &str,
    public_key: &str,
    signature: &str,
    message: &[u8],
    network: Network,
) -> Result<Address, ProviderError> {
    let addr = parse_address(address, network)?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(public_key, &mut key)
        .map_err(|_| ProviderError::BadPublicKey(public_key.to_owned()))?;
    let key = PublicKey::from_bytes(&key)
        .map_err(|_| ProviderError::BadPublicKey(public_key.to_owned()))?;
    let key_address = Address::from_public_key(&key);
    if key_address != addr {
        return Err(ProviderError::AddressMismatch {
            address: address.to_owned(),
            key_address: key_address.to_bech32(network),
        });
    }
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature, &mut sig).map_err(|_| ProviderError::BadSignature)?;
    key.verify(message, &Signature(sig))
        .map_err(|_| ProviderError::BadSignature)?;
    Ok(addr)
}

fn check_time(at_ms: u64, now_ms: u64, max_ms: u64) -> Result<(), ProviderError> {
    if at_ms.abs_diff(now_ms) > max_ms {
        return Err(ProviderError::ClockSkew {
            at_ms,
            now_ms,
            max_ms,
        });
    }
    Ok(())
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn check_devices(devices: &[Value], max: usize) -> Result<(), ProviderError> {
    if devices.len() > max {
        return Err(ProviderError::TooManyDevices {
            count: devices.len(),
            max,
        });
    }
    let mut ids = HashSet::new();
    for (index, d) in devices.iter().enumerate() {
        let bad = |reason: &str| ProviderError::BadDevice {
            index,
            reason: reason.to_owned(),
        };
        let Some(obj) = d.as_object() else {
            return Err(bad("not a JSON object"));
        };
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            return Err(bad("no string \"id\""));
        };
        if id.is_empty() || id.len() > MAX_ID_BYTES || has_control(id) {
            return Err(bad("id must be 1 to 128 bytes without control characters"));
        }
        if !ids.insert(id) {
            return Err(bad(&format!("id {id:?} appears twice")));
        }
    }
    Ok(())
}

fn check_endpoint(endpoint: Option<&str>) -> Result<(), ProviderError> {
    let Some(url) = endpoint else { return Ok(()) };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let ok = url.len() <= MAX_ENDPOINT_BYTES
        && rest.is_some_and(|r| !r.is_empty())
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ProviderError::BadEndpoint(url.to_owned()))
    }
}

fn check_hash(field: &'static str, value: Option<&str>) -> Result<(), ProviderError> {
    match value {
        Some(v) if v.len() != 64 || !v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Err(ProviderError::BadHash {
                field,
                value: v.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// Every check of an announcement that does not depend on the registry; the signer's address.
pub(super) fn announcement(
    a: &ProviderAnnouncement,
    network: Network,
    config: &ProviderConfig,
    now_ms: u64,
) -> Result<Address, ProviderError> {
    if a.version != ANNOUNCE_VERSION {
        return Err(ProviderError::UnsupportedVersion { found: a.version });
    }
    let address = check_signer(
        &a.address,
        &a.public_key,
        &a.signature,
        &a.signing_bytes(),
        network,
    )?;
    check_time(a.sent_at_ms, now_ms, config.max_clock_skew_ms)?;
    check_devices(&a.devices, config.max_devices)?;
    check_endpoint(a.endpoint.as_deref())?;
    Ok(address)
}

/// Every check of a report posted under `path_address` that does not depend on the registry;
/// the signer's address.
pub(super) fn report(
    r: &JobReport,
    path_address: &str,
    network: Network,
    config: &ProviderConfig,
    now_ms: u64,
) -> Result<Address, ProviderError> {
    if r.version != REPORT_VERSION {
        return Err(ProviderError::UnsupportedVersion { found: r.version });
    }
    let path = parse_address(path_address, network)?;
    let address = check_signer(
        &r.address,
        &r.public_key,
        &r.signature,
        &r.signing_bytes(),
        network,
    )?;
    if path != address {
        return Err(ProviderError::PathMismatch {
            path: path_address.to_owned(),
            body: r.address.clone(),
        });
    }
    if r.job_id.is_empty() || r.job_id.len() > MAX_ID_BYTES || has_control(&r.job_id) {
        return Err(ProviderError::BadJobId(r.job_id.clone()));
    }
    check_hash("result", r.result.as_deref())?;
    check_hash("transcript_root", r.transcript_root.as_deref())?;
    if r.ended_ms < r.started_ms {
        return Err(ProviderError::BadTimeRange {
            started_ms: r.started_ms,
            ended_ms: r.ended_ms,
        });
    }
    // A report may arrive long after its job (the node was down); it may not come from the future.
    if r.ended_ms > now_ms.saturating_add(config.max_clock_skew_ms) {
        return Err(ProviderError::ClockSkew {
            at_ms: r.ended_ms,
            now_ms,
            max_ms: config.max_clock_skew_ms,
        });
    }
    let bytes = canonical_json(&Value::Object(r.metrics.clone())).len();
    if bytes > config.max_metrics_bytes {
        return Err(ProviderError::MetricsTooLarge {
            bytes,
            max: config.max_metrics_bytes,
        });
    }
    Ok(address)
}
