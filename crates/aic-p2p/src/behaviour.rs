//! The swarm's behaviour: every libp2p protocol the node speaks, and how each is configured.

use std::time::Duration;

use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{allow_block_list, connection_limits, identify, kad, mdns, ping, request_response};

use crate::codec::{max_sync_response, BlobCodec, SyncCodec, BLOB_RESPONSE_LIMIT};
use crate::config::P2pConfig;
use crate::error::P2pError;

/// The protocols of an AIC node, composed.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Banned and operator-blocked peers: their connections are closed and refused.
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Connection limits.
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) sync: request_response::Behaviour<SyncCodec>,
    pub(crate) blobs: request_response::Behaviour<BlobCodec>,
    pub(crate) kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
}

/// The three gossip topics.
#[derive(Clone, Debug)]
pub(crate) struct Topics {
    pub(crate) blocks: IdentTopic,
    pub(crate) txs: IdentTopic,
    pub(crate) market: IdentTopic,
}

impl Topics {
    pub(crate) fn new(config: &P2pConfig) -> Topics {
        Topics {
            blocks: IdentTopic::new(config.topic("blocks")),
            txs: IdentTopic::new(config.topic("txs")),
            market: IdentTopic::new(config.topic("market")),
        }
    }
}

fn topic_score(weight: f64) -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: weight,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 3_600.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 100.0,
        // Blocks come every minute or so: a quiet mesh peer is not a bad one.
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.9,
        ..gossipsub::TopicScoreParams::default()
    }
}

fn gossipsub(
    key: &Keypair,
    config: &P2pConfig,
    topics: &Topics,
) -> Result<gossipsub::Behaviour, P2pError> {
    let build = |e: String| P2pError::Build(format!("gossipsub: {e}"));
    let gs_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(config.heartbeat)
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        // Content addressing: the same block published by two nodes is one message.
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(blake3::hash(&m.data).as_bytes().to_vec())
        })
        .max_transmit_size(config.max_block_bytes + 4 * 1024)
        .duplicate_cache_time(Duration::from_secs(120))
        .build()
        .map_err(|e| build(e.to_string()))?;
    let mut gs = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gs_config)
        .map_err(|e| build(e.to_owned()))?;
    let mut params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        ..Default::default()
    };
    // Nodes of a devnet share one address.
    params.ip_colocation_factor_whitelist.extend(
        [
            "127.0.0.1".parse::<std::net::IpAddr>().ok(),
            "::1".parse().ok(),
        ]
        .into_iter()
        .flatten(),
    );
    params.topics.insert(topics.blocks.hash(), topic_score(1.0));
    params.topics.insert(topics.txs.hash(), topic_score(0.5));
    params.topics.insert(topics.market.hash(), topic_score(0.2));
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: -20.0,
        publish_threshold: -40.0,
        graylist_threshold: -80.0,
        ..Default::default()
    };
    gs.with_peer_score(params, thresholds).map_err(build)?;
    for t in [&topics.blocks, &topics.txs, &topics.market] {
        gs.subscribe(t).map_err(|e| build(e.to_string()))?;
    }
    Ok(gs)
}

impl Behaviour {
    pub(crate) fn new(
        key: &Keypair,
        config: &P2pConfig,
        topics: &Topics,
    ) -> Result<Behaviour, P2pError> {
        let peer_id = key.public().to_peer_id();
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_peers))
            .with_max_established_per_peer(Some(2))
            .with_max_pending_incoming(Some(config.max_pending))
            .with_max_pending_outgoing(Some(config.max_pending));
        let sync_cfg = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(64);
        let blob_cfg = request_response::Config::default()
            .with_request_timeout(config.request_timeout * 3)
            .with_max_concurrent_streams(16);
        let kad = config.kademlia.then(|| {
            let mut kc = kad::Config::new(config.kad_protocol());
            kc.set_periodic_bootstrap_interval(Some(Duration::from_secs(60)));
            kc.set_query_timeout(Duration::from_secs(30));
            let mut k =
                kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kc);
            k.set_mode(Some(kad::Mode::Server));
            k
        });
        let mdns = if config.mdns {
            Some(
                mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id)
                    .map_err(|e| P2pError::Build(format!("mdns: {e}")))?,
            )
        } else {
            None
        };
        Ok(Behaviour {
            blocked: Default::default(),
            limits: connection_limits::Behaviour::new(limits),
            identify: identify::Behaviour::new(
                identify::Config::new(config.identify_version(), key.public())
                    .with_agent_version(format!("aic/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
            gossipsub: gossipsub(key, config, topics)?,
            sync: request_response::Behaviour::with_codec(
                SyncCodec::new(max_sync_response(config.max_block_bytes)),
                [(
                    config.sync_protocol(),
                    request_response::ProtocolSupport::Full,
                )],
                sync_cfg,
            ),
            blobs: request_response::Behaviour::with_codec(
                BlobCodec::new(BLOB_RESPONSE_LIMIT),
                [(
                    config.blob_protocol(),
                    request_response::ProtocolSupport::Full,
                )],
                blob_cfg,
            ),
            kad: kad.into(),
            mdns: mdns.into(),
        })
    }
}
