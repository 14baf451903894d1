//! `aic`: run a node, use a wallet, start a devnet, work with model packages and data sets,
//! run the worker agent.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ai_demo;
mod cli;
mod cli_market;
mod client;
mod data;
mod data_net;
mod demo_sample;
mod devnet;
mod eval;
mod infer;
mod job_result;
mod market;
mod market_demo;
mod miner;
mod model;
mod net;
mod node;
mod preempt;
mod replay;
mod serve;
mod submit;
mod train;
mod wallet;
mod worker;
mod worker_market;

use clap::Parser;

// burn allocates a fresh buffer for every activation and gradient; glibc serves the large ones
// with mmap and pays page faults on every training step (measured: 1.5-1.9x slower steps).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Node(args) => node::run(args),
        cli::Command::Wallet(args) => wallet::run(args),
        cli::Command::Devnet(args) => devnet::run(args),
        cli::Command::Miner(args) => miner::run(args),
        cli::Command::Model(cmd) => model::run(cmd),
        cli::Command::Data(cmd) => data::run(cmd),
        cli::Command::Worker(cmd) => worker::run(cmd),
        cli::Command::Provider(cmd) => market::run_provider(cmd),
        cli::Command::Job(cmd) => market::run_job(cmd),
        cli::Command::Net(cmd) => net::run(cmd),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<preempt::Preempted>().is_some() {
                std::process::ExitCode::from(preempt::PREEMPTED_EXIT)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
