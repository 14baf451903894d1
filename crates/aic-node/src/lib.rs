//! AIC node composition root: config, services, built-in CPU miner, shutdown
