//! Any line a miner may send: parsed as a Stratum request and, as `mining.submit` would be,
//! its share fields. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = aic_rpc::parse_request(data) {
        let params = aic_rpc::params_list(&req.params);
        let _ = aic_rpc::SubmitFields::parse(&params);
    }
});
