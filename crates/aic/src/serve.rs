//! `aic model serve`: models over the Open Inference Protocol v2 (KServe v2 REST).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};

pub(crate) fn serve(paths: &[PathBuf], listen: SocketAddr) -> Result<()> {
    let mut models = Vec::new();
    for p in paths {
        models.push(aic_serve::load_predictor(p)?);
    }
    let lines: Vec<String> = models
        .iter()
        .map(|m| {
            let man = m.manifest();
            format!(
                "{} {} ({}, id {})",
                man.model.name,
                man.model.version,
                m.platform(),
                m.id()
            )
        })
        .collect();
    let names: Vec<String> = models
        .iter()
        .map(|m| m.manifest().model.name.clone())
        .collect();
    let app = aic_serve::router(models)?;
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        for l in &lines {
            eprintln!("serving {l}");
        }
        for n in &names {
            eprintln!("  POST http://{addr}/v2/models/{n}/infer");
        }
        eprintln!("  GET  http://{addr}/v2/health/ready   (Ctrl-C stops)");
        aic_serve::serve(listener, app, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
    })
}
