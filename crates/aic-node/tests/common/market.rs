//! Market transactions for the API tests: signed actions and the payloads they carry.

use aic_primitives::{
    sha256, Action, Amount, ChainParams, DatasetPublication, DeviceClass, DeviceSummary, JobKind,
    JobSpec, MarketAction, ModelPublication, ParamSpec, ProviderRegistration, Transaction, TxBody,
    VerificationPolicy, FIXED_POINT_SCALE,
};

use super::key;

/// `n` whole AIC.
pub(crate) fn aic(n: u64) -> Amount {
    Amount::from_units(n * Amount::UNITS_PER_AIC)
}

/// `action` signed by `user` at `nonce`, with a fee of 1,000 units.
pub(crate) fn signed(user: u8, nonce: u64, action: Action) -> Transaction {
    Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key(user).public_key(),
            nonce,
            fee: Amount::from_units(1_000),
            action,
        }
        .sign(&key(user)),
    )
}

/// A market action signed by `user` at `nonce`.
pub(crate) fn market_tx(user: u8, nonce: u64, action: MarketAction) -> Transaction {
    signed(user, nonce, Action::Market(action))
}

/// A registration of one CPU with 4 GiB.
pub(crate) fn registration(stake: Amount, endpoint: &str) -> MarketAction {
    MarketAction::RegisterProvider(ProviderRegistration {
        stake,
        devices: sha256(b"descriptors"),
        summary: DeviceSummary {
            class: DeviceClass::Cpu,
            count: 1,
            memory_mib: 4096,
            gflops: 10,
        },
        endpoint: endpoint.to_owned(),
    })
}

/// A model with id `sha256(id)`, a 5% royalty, and `learning_rate` and `epochs` parameters.
pub(crate) fn model(id: &[u8], task: &str) -> ModelPublication {
    ModelPublication {
        id: sha256(id),
        task: task.to_owned(),
        royalty_bps: 500,
        params: vec![
            ParamSpec {
                name: "learning_rate".to_owned(),
                min: 1,
                max: FIXED_POINT_SCALE,
                integer: false,
            },
            ParamSpec {
                name: "epochs".to_owned(),
                min: FIXED_POINT_SCALE,
                max: 100 * FIXED_POINT_SCALE,
                integer: true,
            },
        ],
    }
}

/// A 1 MiB dataset with id `sha256(id)`.
pub(crate) fn dataset(id: &[u8], task: &str, royalty_bps: u16) -> DatasetPublication {
    DatasetPublication {
        id: sha256(id),
        task: task.to_owned(),
        royalty_bps,
        bytes: 1 << 20,
    }
}

/// Training model `kws` on dataset `fsdd` for 3 epochs: budget 20 AIC, at most 10, one
/// verifier replaying two segments.
pub(crate) fn spec() -> JobSpec {
    JobSpec {
        kind: JobKind::Train,
        model: sha256(b"kws"),
        dataset: sha256(b"fsdd"),
        params: vec![("epochs".to_owned(), 3 * FIXED_POINT_SCALE)],
        device_class: DeviceClass::Cpu,
        min_memory_mib: 1024,
        budget: aic(20),
        max_price: aic(10),
        bid_blocks: 50,
        deadline_blocks: 50,
        policy: VerificationPolicy {
            verifiers: 1,
            segments: 2,
            challenge_blocks: 50,
            verifier_fee: Amount::from_units(Amount::UNITS_PER_AIC / 10),
        },
        tier: 0,
    }
}

/// [`spec`] changed by `f`.
pub(crate) fn with(f: impl FnOnce(&mut JobSpec)) -> JobSpec {
    let mut s = spec();
    f(&mut s);
    s
}
