//! Market records to their JSON forms.

use aic_api::market as wire;
use aic_ledger::market::{Dataset, Job, Model, Provider};
use aic_primitives::{Address, Hash256, Network};

fn named(values: &[(String, i64)]) -> Vec<wire::NamedValue> {
    values
        .iter()
        .map(|(name, value)| wire::NamedValue {
            name: name.clone(),
            value: *value,
        })
        .collect()
}

pub(crate) fn provider(address: &Address, p: &Provider, network: Network) -> wire::Provider {
    let r = &p.reputation;
    wire::Provider {
        address: address.to_bech32(network),
        stake_units: p.stake.to_units(),
        unbonding_units: p.unbonding.to_units(),
        release_height: p.release.0,
        devices: p.devices.to_hex(),
        device_class: p.summary.class.name().to_owned(),
        device_count: p.summary.count,
        memory_mib: p.summary.memory_mib,
        gflops: p.summary.gflops,
        endpoint: p.endpoint.clone(),
        registered_height: p.registered.0,
        active_jobs: p.active,
        reputation: wire::Reputation {
            completed: r.completed,
            failed: r.failed,
            missed: r.missed,
            verdicts: r.verdicts,
            overturned: r.overturned,
            silent: r.silent,
            score: r.score(),
        },
    }
}

pub(crate) fn model(id: &Hash256, m: &Model, network: Network) -> wire::Model {
    wire::Model {
        id: id.to_hex(),
        owner: m.owner.to_bech32(network),
        task: m.task.clone(),
        royalty_bps: m.royalty_bps,
        params: m
            .params
            .iter()
            .map(|p| wire::ParamSpec {
                name: p.name.clone(),
                min: p.min,
                max: p.max,
                integer: p.integer,
            })
            .collect(),
        published_height: m.published.0,
        jobs: m.jobs,
    }
}

pub(crate) fn dataset(id: &Hash256, d: &Dataset, network: Network) -> wire::Dataset {
    wire::Dataset {
        id: id.to_hex(),
        owner: d.owner.to_bech32(network),
        task: d.task.clone(),
        royalty_bps: d.royalty_bps,
        bytes: d.bytes,
        published_height: d.published.0,
        jobs: d.jobs,
    }
}

pub(crate) fn job(id: &Hash256, j: &Job, network: Network) -> wire::Job {
    let a = |x: &Address| x.to_bech32(network);
    let s = &j.spec;
    wire::Job {
        id: id.to_hex(),
        consumer: a(&j.consumer),
        status: j.status.name().to_owned(),
        kind: s.kind.name().to_owned(),
        model: s.model.to_hex(),
        dataset: s.dataset.to_hex(),
        params: named(&s.params),
        device_class: s.device_class.name().to_owned(),
        min_memory_mib: s.min_memory_mib,
        budget_units: s.budget.to_units(),
        escrow_units: j.escrow.to_units(),
        max_price_units: s.max_price.to_units(),
        bid_blocks: s.bid_blocks,
        deadline_blocks: s.deadline_blocks,
        verifiers: s.policy.verifiers,
        segments: s.policy.segments,
        challenge_blocks: s.policy.challenge_blocks,
        verifier_fee_units: s.policy.verifier_fee.to_units(),
        tier: s.tier,
        posted_height: j.posted.0,
        window_end_height: j.window_end.0,
        reopens: j.reopens,
        bids: j
            .bids
            .iter()
            .map(|b| wire::Bid {
                provider: a(&b.provider),
                price_units: b.price.to_units(),
                height: b.height.0,
            })
            .collect(),
        excluded: j.excluded.iter().map(a).collect(),
        award: j.award.map(|w| wire::Award {
            provider: a(&w.provider),
            price_units: w.price.to_units(),
            deadline_height: w.deadline.0,
        }),
        result: j.result.as_ref().map(|r| wire::JobResult {
            result: r.result.to_hex(),
            transcript_root: r.transcript_root.to_hex(),
            segments: r.segments,
            metrics: named(&r.metrics),
        }),
        verification: j.verification.as_ref().map(|v| wire::Verification {
            round: v.round,
            verifiers: v.verifiers.iter().map(a).collect(),
            segments: v.segments.clone(),
            challenge_end_height: v.challenge_end.0,
            verdicts: v
                .verdicts
                .iter()
                .map(|e| wire::Verdict {
                    verifier: a(&e.verifier),
                    pass: e.pass,
                    evidence: e.evidence.to_hex(),
                    round: e.round,
                })
                .collect(),
        }),
        payments: j
            .payments
            .iter()
            .map(|p| wire::Payment {
                to: a(&p.to),
                from: p.from.as_ref().map(a),
                amount_units: p.amount.to_units(),
                kind: p.kind.name().to_owned(),
                height: p.height.0,
            })
            .collect(),
    }
}
