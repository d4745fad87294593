//! simfleet's command line: parse arguments, run one command, map its outcome to an exit code.

// No unwrap()/expect() outside tests: data from files and the network must fail with an error.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Keep a fleet of wherever SIM IoT cards in git: plan and apply SIM settings from YAML.
#[derive(Debug, Parser)]
#[command(name = "simfleet", version, about, long_about = None, after_help = commands::ENVIRONMENT)]
struct Cli {
    #[command(flatten)]
    log: commands::logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(commands::validate::ValidateArgs),
    Schema(commands::schema::SchemaArgs),
    /// Serve a simulated wherever SIM GraphQL API on loopback.
    Sandbox(commands::sandbox::SandboxArgs),
    Plan(commands::plan::PlanArgs),
    Show(commands::show::ShowArgs),
    Export(commands::export::ExportArgs),
    Fmt(commands::fmt::FmtArgs),
    Apply(commands::apply::ApplyArgs),
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page, or write all of them into a directory.
    Man(commands::man::ManArgs),
    #[command(hide = true)]
    CliReference(commands::reference::ReferenceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::logging::init(&cli.log);
    let (result, detailed): (Result<simfleet::Outcome, simfleet::Error>, bool) = match cli.command {
        Command::Validate(args) => (commands::validate::run(args), false),
        Command::Schema(args) => (commands::schema::run(args), false),
        Command::Sandbox(args) => (commands::sandbox::run(args), false),
        Command::Plan(args) => {
            let detailed = args.detailed_exitcode;
            (commands::plan::run(args), detailed)
        }
        Command::Export(args) => (commands::export::run(args), false),
        Command::Fmt(args) => (commands::fmt::run(args), false),
        Command::Show(args) => {
            let detailed = args.detailed_exitcode;
            (commands::show::run(args), detailed)
        }
        Command::Apply(args) => (commands::apply::run(args), false),
        Command::Completions(args) => (commands::completions::run(args, Cli::command()), false),
        Command::Man(args) => (commands::man::run(args, Cli::command()), false),
        Command::CliReference(args) => (commands::reference::run(args, Cli::command()), false),
    };
    if let Err(error) = &result {
        commands::logging::report_error(error);
    }
    ExitCode::from(simfleet::outcome::exit_code(&result, detailed))
}

// A large plan makes and frees millions of small records on several threads; glibc's allocator
// spends a fifth of such a run growing per-thread heaps, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
