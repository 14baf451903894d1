//! A small market world for the ledger's tests: funded users, real signed transactions, real
//! blocks applied through `Ledger::apply_block`.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use aic_consensus::{BlockError, MarketError, TxError};
use aic_ledger::market::{job_id, Job, Provider};
use aic_ledger::{Account, BlockContext, BlockOutcome, Ledger};
use aic_primitives::{
    sha256, Action, Address, Amount, Block, BlockHeader, ChainParams, Coinbase, CompactTarget,
    DatasetPublication, DeviceClass, DeviceSummary, Hash256, Height, JobId, JobKind, JobSpec,
    MarketAction, ModelPublication, ParamSpec, ProviderRegistration, ResultCommit, SecretKey,
    SignedTx, Transaction, TxBody, VerificationPolicy, FIXED_POINT_SCALE,
};

/// Users: 0 is the model and dataset owner, 1..=6 providers, 9 the consumer, 12 the miner.
pub const OWNER: u8 = 0;
pub const CONSUMER: u8 = 9;
pub const MINER: u8 = 12;
pub const USERS: u8 = 13;

pub fn aic(n: u64) -> Amount {
    Amount::from_units(n * Amount::UNITS_PER_AIC)
}

pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i + 1; 32])
}

pub fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

pub fn model_id() -> Hash256 {
    sha256(b"model kws")
}

pub fn dataset_id() -> Hash256 {
    sha256(b"dataset fsdd")
}

pub fn cpu(memory_mib: u32) -> DeviceSummary {
    DeviceSummary {
        class: DeviceClass::Cpu,
        count: 1,
        memory_mib,
        gflops: 50,
    }
}

pub fn registration(stake: Amount) -> MarketAction {
    MarketAction::RegisterProvider(ProviderRegistration {
        stake,
        devices: sha256(b"descriptors"),
        summary: cpu(4096),
        endpoint: "http://127.0.0.1:7460".to_owned(),
    })
}

pub fn model_publication() -> ModelPublication {
    ModelPublication {
        id: model_id(),
        task: "keyword-spotting".to_owned(),
        royalty_bps: 500,
        params: vec![
            ParamSpec {
                name: "learning-rate".to_owned(),
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

pub fn dataset_publication() -> DatasetPublication {
    DatasetPublication {
        id: dataset_id(),
        task: "keyword-spotting".to_owned(),
        royalty_bps: 200,
        bytes: 1 << 20,
    }
}

/// A job the fixtures' providers can all do: 10 AIC at most, 1 verifier replaying 2 segments.
pub fn spec() -> JobSpec {
    JobSpec {
        kind: JobKind::Train,
        model: model_id(),
        dataset: dataset_id(),
        params: vec![
            ("learning-rate".to_owned(), 1_000),
            ("epochs".to_owned(), 3 * FIXED_POINT_SCALE),
        ],
        device_class: DeviceClass::Cpu,
        min_memory_mib: 1024,
        budget: aic(20),
        max_price: aic(10),
        bid_blocks: 3,
        deadline_blocks: 5,
        policy: VerificationPolicy {
            verifiers: 1,
            segments: 2,
            challenge_blocks: 3,
            verifier_fee: Amount::from_units(Amount::UNITS_PER_AIC / 10),
        },
        tier: 0,
    }
}

pub fn result_for(job: JobId, weights: &[u8]) -> MarketAction {
    MarketAction::SubmitResult(ResultCommit {
        job,
        result: sha256(weights),
        transcript_root: sha256(b"transcript"),
        segments: 8,
        metrics: vec![("accuracy".to_owned(), 900_000)],
    })
}

/// The world: a ledger, its parameters and the height of the last applied block.
pub struct World {
    pub ledger: Ledger,
    pub params: ChainParams,
    pub height: u64,
    /// Coins created by coinbases since the start.
    pub minted: Amount,
    pub initial: Amount,
    pub undos: Vec<BlockOutcome>,
}

impl World {
    /// Every user funded with 1,000 AIC.
    pub fn new() -> World {
        let ledger = Ledger::from_accounts((0..USERS).map(|i| {
            (
                addr(i),
                Account {
                    balance: aic(1_000),
                    nonce: 0,
                },
            )
        }));
        let initial = ledger.total_supply().unwrap();
        World {
            ledger,
            params: ChainParams::devnet(),
            height: 0,
            minted: Amount::ZERO,
            initial,
            undos: Vec::new(),
        }
    }

    /// The fixtures' market: the owner publishes the model and the dataset, users 1..=6
    /// register as providers with 20 AIC each.
    pub fn with_market() -> World {
        let mut w = World::new();
        let mut txs = vec![
            w.tx_at(OWNER, 0, MarketAction::PublishModel(model_publication())),
            w.tx_at(
                OWNER,
                1,
                MarketAction::PublishDataset(dataset_publication()),
            ),
        ];
        for p in 1..=6 {
            txs.push(w.tx(p, registration(aic(20))));
        }
        w.block(txs);
        w
    }

    pub fn next_ctx(&self) -> BlockContext {
        BlockContext {
            height: Height(self.height + 1),
            seed: seed(self.height + 1),
        }
    }

    /// `user`'s next transaction doing `action`, nonce from the ledger.
    pub fn tx(&self, user: u8, action: MarketAction) -> SignedTx {
        self.tx_at(user, self.ledger.account(&addr(user)).nonce, action)
    }

    pub fn tx_at(&self, user: u8, nonce: u64, action: MarketAction) -> SignedTx {
        TxBody {
            chain_id: self.params.chain_id,
            sender: key(user).public_key(),
            nonce,
            fee: Amount::from_units(1_000),
            action: Action::Market(action),
        }
        .sign(&key(user))
    }

    /// Mines a block holding the candidates that apply; panics if any is left out.
    pub fn block(&mut self, candidates: Vec<SignedTx>) -> BlockOutcome {
        let (outcome, _, skipped) = self.mine(candidates);
        assert!(skipped.is_empty(), "left out: {skipped:?}");
        outcome
    }

    /// Mines a block holding the candidates that apply, leaving out the rest; returns how
    /// many went in.
    pub fn block_lenient(&mut self, candidates: Vec<SignedTx>) -> usize {
        self.mine(candidates).1
    }

    /// Mines a block of the candidates that apply, paying the miner: the outcome, how many
    /// went in, and those left out with their rule.
    fn mine(
        &mut self,
        candidates: Vec<SignedTx>,
    ) -> (BlockOutcome, usize, Vec<(SignedTx, TxError)>) {
        let ctx = self.next_ctx();
        let state = self
            .ledger
            .build_template(&self.params, ctx, &candidates, addr(MINER));
        let coinbase = Coinbase {
            height: ctx.height,
            extranonce: [0; 8],
            state_root: state.state_root,
            payouts: state.payouts,
        };
        let b = block(ctx, coinbase, &state.txs);
        let outcome = self
            .ledger
            .apply_block(&self.params, &b, ctx.height)
            .unwrap();
        self.height += 1;
        self.minted = self
            .minted
            .checked_add(self.params.subsidy(ctx.height))
            .unwrap();
        self.undos.push(outcome.clone());
        self.check_supply();
        (outcome, state.txs.len(), state.skipped)
    }

    /// Mines `n` empty blocks.
    pub fn blocks(&mut self, n: u64) {
        for _ in 0..n {
            self.block(Vec::new());
        }
    }

    /// Applies one transaction by `user` in a block of its own.
    pub fn act(&mut self, user: u8, action: MarketAction) {
        let tx = self.tx(user, action);
        self.block(vec![tx]);
    }

    /// Checks that `user` doing `action` breaks `rule`: refused by `check_tx` and by
    /// `apply_block`, with the state root and every record unchanged.
    pub fn refuses(&mut self, user: u8, action: MarketAction, rule: MarketError) {
        let root = self.ledger.state_root();
        let records: Vec<_> = self
            .ledger
            .records()
            .map(|(k, r)| (*k, r.clone()))
            .collect();
        let tx = self.tx(user, action);
        let ctx = self.next_ctx();
        assert_eq!(
            self.ledger.check_tx(&self.params, ctx, &tx),
            Err(TxError::Market(rule.clone()))
        );
        let coinbase = Coinbase {
            height: ctx.height,
            extranonce: [0; 8],
            state_root: root,
            payouts: vec![],
        };
        let b = block(ctx, coinbase, &[tx]);
        assert_eq!(
            self.ledger.apply_block(&self.params, &b, ctx.height),
            Err(BlockError::Tx {
                index: 1,
                error: TxError::Market(rule)
            })
        );
        assert_eq!(self.ledger.state_root(), root);
        let after: Vec<_> = self
            .ledger
            .records()
            .map(|(k, r)| (*k, r.clone()))
            .collect();
        assert_eq!(after, records);
    }

    /// Posts `spec` for the consumer; returns the job's id.
    pub fn post(&mut self, spec: JobSpec) -> JobId {
        let nonce = self.ledger.account(&addr(CONSUMER)).nonce;
        self.act(CONSUMER, MarketAction::PostJob(spec));
        job_id(&addr(CONSUMER), nonce)
    }

    pub fn job(&self, id: &JobId) -> Job {
        self.ledger.job(id).cloned().expect("job exists")
    }

    pub fn provider(&self, user: u8) -> Provider {
        self.ledger
            .provider(&addr(user))
            .cloned()
            .expect("registered")
    }

    pub fn balance(&self, user: u8) -> Amount {
        self.ledger.account(&addr(user)).balance
    }

    /// Only coinbases change the supply.
    pub fn check_supply(&self) {
        assert_eq!(
            self.ledger.total_supply(),
            self.initial.checked_add(self.minted),
            "supply changed by something else than a coinbase"
        );
    }

    /// Mines empty blocks until the job's bid window has closed.
    pub fn close_bidding(&mut self, id: &JobId) {
        while self.job(id).window_end.0 > self.height {
            self.block(Vec::new());
        }
    }

    /// Mines empty blocks until the job's challenge window has closed.
    pub fn close_challenge(&mut self, id: &JobId) {
        let end = self
            .job(id)
            .verification
            .expect("verifying")
            .challenge_end
            .0;
        while end > self.height {
            self.block(Vec::new());
        }
    }
}

/// The stand-in parent hash of the block at `height`.
pub fn seed(height: u64) -> Hash256 {
    sha256(&height.to_le_bytes())
}

pub fn block(ctx: BlockContext, coinbase: Coinbase, txs: &[SignedTx]) -> Block {
    let mut all = vec![Transaction::Coinbase(coinbase)];
    all.extend(txs.iter().cloned().map(Transaction::Signed));
    let header = BlockHeader {
        version: 1,
        prev_hash: ctx.seed,
        merkle_root: Hash256::ZERO,
        time: ctx.height.0 as u32,
        bits: CompactTarget(0x207f_ffff),
        nonce: 0,
    };
    Block { header, txs: all }
}

/// The user index of an address among the fixtures' users.
pub fn user_of(a: &Address) -> u8 {
    (0..USERS).find(|i| addr(*i) == *a).expect("a fixture user")
}
