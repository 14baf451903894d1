//! `aic`: run a node, use a wallet, start a devnet, work with model packages.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod client;
mod devnet;
mod eval;
mod infer;
mod miner;
mod model;
mod node;
mod serve;
mod train;
mod wallet;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Node(args) => node::run(args),
        cli::Command::Wallet(args) => wallet::run(args),
        cli::Command::Devnet(args) => devnet::run(args),
        cli::Command::Miner(args) => miner::run(args),
        cli::Command::Model(cmd) => model::run(cmd),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
