//! The registry: who announced what, when; the latest reports of each.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use aic_api::provider::{
    canonical_json, AnnounceAccepted, JobReport, ProviderAnnouncement, ProviderList,
    ProviderStatus, ReportAccepted, ReportList,
};
use aic_primitives::{Address, Network};
use serde_json::Value;

use super::{verify, ProviderConfig, ProviderError};

/// One provider as held.
#[derive(Debug)]
struct Entry {
    public_key: String,
    devices: Vec<Value>,
    endpoint: Option<String>,
    first_seen_ms: u64,
    last_seen_ms: u64,
    heartbeats: u64,
    seq: u64,
    report_seq: Option<u64>,
    /// The latest reports, oldest first, with their sizes in bytes.
    reports: VecDeque<(JobReport, usize)>,
    /// Size of the devices and endpoint, bytes.
    announced_bytes: usize,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.announced_bytes + self.reports.iter().map(|(_, b)| b).sum::<usize>()
    }
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<Address, Entry>,
    total_bytes: usize,
}

/// Providers announced to this node, held in memory with an expiry (module documentation of
/// [`crate::providers`]). Shared by the API handlers as an `Arc`.
#[derive(Debug)]
pub struct ProviderRegistry {
    network: Network,
    config: ProviderConfig,
    inner: Mutex<Inner>,
    /// Counts accepted announcements and reports, so that event streams wake on them.
    changes: tokio::sync::watch::Sender<u64>,
}

/// Size of a JSON value in canonical form, bytes.
fn json_bytes(v: &Value) -> usize {
    canonical_json(v).len()
}

impl ProviderRegistry {
    /// An empty registry for addresses of `network`.
    pub fn new(network: Network, config: ProviderConfig) -> ProviderRegistry {
        ProviderRegistry {
            network,
            config,
            inner: Mutex::new(Inner::default()),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Subscribes to changes: the value counts accepted announcements and reports.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// When the next provider online at `now_ms` goes offline without another announcement,
    /// Unix ms; `None` when none is online.
    pub fn next_expiry(&self, now_ms: u64) -> Option<u64> {
        let expiry = self.config.expiry_ms();
        self.lock()
            .entries
            .values()
            .map(|e| e.last_seen_ms.saturating_add(expiry))
            .filter(|t| *t >= now_ms)
            .min()
    }

    /// The limits and timing.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The network whose addresses are accepted.
    pub fn network(&self) -> Network {
        self.network
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is made whole before the lock is released; a poisoned lock is consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn online(&self, e: &Entry, now_ms: u64) -> bool {
        now_ms.saturating_sub(e.last_seen_ms) <= self.config.expiry_ms()
    }

    /// Forgets providers offline for longer than the retention.
    fn prune(&self, inner: &mut Inner, now_ms: u64) {
        let keep_ms = self.config.retention_ms;
        let mut freed = 0;
        inner.entries.retain(|_, e| {
            let keep = now_ms.saturating_sub(e.last_seen_ms) <= keep_ms;
            if !keep {
                freed += e.bytes();
            }
            keep
        });
        inner.total_bytes = inner.total_bytes.saturating_sub(freed);
    }

    /// Makes room for one more provider (if `new_provider`) and `bytes` more bytes by forgetting
    /// the longest-silent offline providers other than `keep`; refuses, changing nothing, if
    /// online ones fill it.
    fn make_room(
        &self,
        inner: &mut Inner,
        keep: &Address,
        new_provider: bool,
        bytes: usize,
        now_ms: u64,
    ) -> Result<(), ProviderError> {
        let fits = |inner: &Inner| {
            (!new_provider || inner.entries.len() < self.config.max_providers)
                && inner.total_bytes.saturating_add(bytes) <= self.config.max_total_bytes
        };
        if fits(inner) {
            return Ok(());
        }
        // Offline providers, longest silent first; chosen before anything is removed so that a
        // refusal below changes nothing.
        let mut offline: Vec<(u64, Address, usize)> = inner
            .entries
            .iter()
            .filter(|(a, e)| *a != keep && !self.online(e, now_ms))
            .map(|(a, e)| (e.last_seen_ms, *a, e.bytes()))
            .collect();
        offline.sort();
        let mut count = inner.entries.len();
        let mut total = inner.total_bytes;
        let mut evict = Vec::new();
        for (_, a, b) in offline {
            let ok = (!new_provider || count < self.config.max_providers)
                && total.saturating_add(bytes) <= self.config.max_total_bytes;
            if ok {
                break;
            }
            evict.push(a);
            count -= 1;
            total = total.saturating_sub(b);
        }
        let ok = (!new_provider || count < self.config.max_providers)
            && total.saturating_add(bytes) <= self.config.max_total_bytes;
        if !ok {
            return Err(ProviderError::RegistryFull(format!(
                "{} providers online, {} bytes held; limits {} providers, {} bytes",
                inner.entries.len(),
                inner.total_bytes,
                self.config.max_providers,
                self.config.max_total_bytes
            )));
        }
        for a in evict {
            if let Some(e) = inner.entries.remove(&a) {
                inner.total_bytes = inner.total_bytes.saturating_sub(e.bytes());
            }
        }
        Ok(())
    }

    /// Checks and records an announcement received at `now_ms` (node clock, Unix ms).
    pub fn announce(
        &self,
        a: &ProviderAnnouncement,
        now_ms: u64,
    ) -> Result<AnnounceAccepted, ProviderError> {
        let address = verify::announcement(a, self.network, &self.config, now_ms)?;
        let devices_bytes: usize = a.devices.iter().map(json_bytes).sum();
        let announced_bytes = devices_bytes + a.endpoint.as_ref().map_or(0, String::len);
        let mut inner = self.lock();
        let old_bytes = match inner.entries.get(&address) {
            Some(e) if a.seq <= e.seq => {
                return Err(ProviderError::StaleSeq {
                    seq: a.seq,
                    last: e.seq,
                })
            }
            Some(e) => Some(e.announced_bytes),
            None => None,
        };
        let growth = announced_bytes.saturating_sub(old_bytes.unwrap_or(0));
        self.make_room(&mut inner, &address, old_bytes.is_none(), growth, now_ms)?;
        let inner = &mut *inner;
        let e = inner.entries.entry(address).or_insert_with(|| Entry {
            public_key: a.public_key.to_lowercase(),
            devices: Vec::new(),
            endpoint: None,
            first_seen_ms: now_ms,
            last_seen_ms: now_ms,
            heartbeats: 0,
            seq: 0,
            report_seq: None,
            reports: VecDeque::new(),
            announced_bytes: 0,
        });
        inner.total_bytes = inner.total_bytes.saturating_sub(e.announced_bytes) + announced_bytes;
        e.devices = a.devices.clone();
        e.endpoint = a.endpoint.clone();
        e.announced_bytes = announced_bytes;
        e.last_seen_ms = now_ms;
        e.heartbeats += 1;
        e.seq = a.seq;
        self.changed();
        Ok(AnnounceAccepted {
            address: address.to_bech32(self.network),
            seq: a.seq,
            heartbeat_interval_ms: self.config.heartbeat_interval_ms,
            expires_at_ms: now_ms.saturating_add(self.config.expiry_ms()),
        })
    }

    /// Checks and records a job report posted under `path_address` at `now_ms`.
    pub fn report(
        &self,
        path_address: &str,
        r: &JobReport,
        now_ms: u64,
    ) -> Result<ReportAccepted, ProviderError> {
        let address = verify::report(r, path_address, self.network, &self.config, now_ms)?;
        let bytes = serde_json::to_value(r).map_or(0, |v| json_bytes(&v));
        let mut inner = self.lock();
        let Some(e) = inner.entries.get(&address) else {
            return Err(ProviderError::UnknownProvider(r.address.clone()));
        };
        if let Some(last) = e.report_seq.filter(|last| r.seq <= *last) {
            return Err(ProviderError::StaleSeq { seq: r.seq, last });
        }
        // The oldest report goes when the list is full; only the difference needs room.
        let freed = if e.reports.len() >= self.config.max_reports {
            e.reports.front().map_or(0, |(_, b)| *b)
        } else {
            0
        };
        self.make_room(
            &mut inner,
            &address,
            false,
            bytes.saturating_sub(freed),
            now_ms,
        )?;
        let inner = &mut *inner;
        let Some(e) = inner.entries.get_mut(&address) else {
            return Err(ProviderError::UnknownProvider(r.address.clone()));
        };
        while e.reports.len() >= self.config.max_reports.max(1) {
            if let Some((_, b)) = e.reports.pop_front() {
                inner.total_bytes = inner.total_bytes.saturating_sub(b);
            }
        }
        e.reports.push_back((r.clone(), bytes));
        e.report_seq = Some(r.seq);
        inner.total_bytes += bytes;
        self.changed();
        Ok(ReportAccepted {
            address: address.to_bech32(self.network),
            job_id: r.job_id.clone(),
            seq: r.seq,
        })
    }

    fn status(&self, address: &Address, e: &Entry, now_ms: u64) -> ProviderStatus {
        ProviderStatus {
            address: address.to_bech32(self.network),
            public_key: e.public_key.clone(),
            devices: e.devices.clone(),
            endpoint: e.endpoint.clone(),
            first_seen_ms: e.first_seen_ms,
            last_seen_ms: e.last_seen_ms,
            online: self.online(e, now_ms),
            heartbeats: e.heartbeats,
            seq: e.seq,
            reports: e.reports.len(),
        }
    }

    /// The providers held at `now_ms`, by address; only those online if `online_only`.
    pub fn list(&self, online_only: bool, now_ms: u64) -> ProviderList {
        let mut inner = self.lock();
        self.prune(&mut inner, now_ms);
        let providers = inner
            .entries
            .iter()
            .filter(|(_, e)| !online_only || self.online(e, now_ms))
            .map(|(a, e)| self.status(a, e, now_ms))
            .collect();
        ProviderList {
            now_ms,
            heartbeat_interval_ms: self.config.heartbeat_interval_ms,
            expiry_ms: self.config.expiry_ms(),
            providers,
        }
    }

    /// One provider.
    pub fn get(&self, address: &str, now_ms: u64) -> Result<ProviderStatus, ProviderError> {
        let a = verify::parse_address(address, self.network)?;
        let inner = self.lock();
        let e = inner
            .entries
            .get(&a)
            .ok_or_else(|| ProviderError::UnknownProvider(address.to_owned()))?;
        Ok(self.status(&a, e, now_ms))
    }

    /// One provider's latest reports, oldest first.
    pub fn reports(&self, address: &str) -> Result<ReportList, ProviderError> {
        let a = verify::parse_address(address, self.network)?;
        let inner = self.lock();
        let e = inner
            .entries
            .get(&a)
            .ok_or_else(|| ProviderError::UnknownProvider(address.to_owned()))?;
        Ok(ReportList {
            address: a.to_bech32(self.network),
            reports: e.reports.iter().map(|(r, _)| r.clone()).collect(),
        })
    }

    /// Providers held (online or not).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no provider is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
