//! Parsing Stratum lines and share fields: pure functions, the fuzz targets' entry points.

use aic_api::stratum::Request;
use serde_json::Value;

use super::job::EXTRANONCE2_BYTES;

/// Parses one line (without its newline) as a Stratum request.
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    serde_json::from_slice(line.trim_ascii()).map_err(|e| format!("malformed request: {e}"))
}

/// A request's parameters as a list (`null` is none, a lone value is one).
pub fn params_list(params: &Value) -> Vec<Value> {
    match params {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The nonce fields of `mining.submit`: `[worker, job_id, extranonce2, ntime, nonce,
/// version_bits?]`, hex as miners send them (ntime, nonce and version bits as 8 big-endian
/// hex digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmitFields {
    /// The miner's extranonce part.
    pub extranonce2: [u8; EXTRANONCE2_BYTES],
    /// Header time.
    pub ntime: u32,
    /// Header nonce.
    pub nonce: u32,
    /// Rolled version bits (BIP 310), if sent.
    pub version_bits: Option<u32>,
}

/// Eight hex digits as a number.
fn hex_u32(v: Option<&Value>) -> Option<u32> {
    let s = v?.as_str()?;
    if s.len() != 8 {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

impl SubmitFields {
    /// Parses the fields; `None` when any is missing or malformed.
    pub fn parse(params: &[Value]) -> Option<SubmitFields> {
        let extranonce2 = params
            .get(2)
            .and_then(Value::as_str)
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| b.try_into().ok())?;
        let version_bits = match params.get(5) {
            None | Some(Value::Null) => None,
            Some(v) => Some(hex_u32(Some(v))?),
        };
        Some(SubmitFields {
            extranonce2,
            ntime: hex_u32(params.get(3))?,
            nonce: hex_u32(params.get(4))?,
            version_bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_recorded_miners_submit_parses() {
        let req = parse_request(
            br#"{"method": "mining.submit", "params": ["testworker", "4ca", "00000000", "5e148a8c", "d0832600"], "id":4}"#,
        )
        .unwrap();
        let f = SubmitFields::parse(&params_list(&req.params)).unwrap();
        assert_eq!(f.ntime, 0x5e14_8a8c);
        assert_eq!(f.nonce, 0xd083_2600);
        assert_eq!(f.version_bits, None);
        assert!(SubmitFields::parse(&[json!("w"), json!("j"), json!("zz")]).is_none());
        assert!(parse_request(b"{").is_err());
    }
}
