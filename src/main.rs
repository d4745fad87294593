//! simfleet's command line: parse arguments, build the command's settings once, run it with
//! every byte going through one checked [`simfleet::output::Output`], and map its outcome to an
//! exit code in one place ([`simfleet::outcome::exit_code`]).

// No unwrap()/expect() outside tests: data from files and the network must fail with an error.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use simfleet::output::Output;
use simfleet::settings::Env;

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
    Check(commands::check::CheckArgs),
    Show(commands::show::ShowArgs),
    Explain(commands::explain::ExplainArgs),
    Diff(commands::diff::DiffArgs),
    Export(commands::export::ExportArgs),
    Fmt(commands::fmt::FmtArgs),
    Apply(commands::apply::ApplyArgs),
    Rehearse(commands::rehearse::RehearseArgs),
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page, or write all of them into a directory.
    Man(commands::man::ManArgs),
    #[command(hide = true)]
    CliReference(commands::reference::ReferenceArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return commands::end_parse_error(e),
    };
    let env = cli.log.env();
    commands::logging::init(&cli.log, &env);
    let mut out = Output::standard(env.output_style());
    let ran = run(cli.command, env, &mut out);
    commands::end(ran, env, &mut out)
}

/// Runs one command; what it returns decides the exit code.
fn run(command: Command, env: Env, out: &mut Output) -> commands::Ran {
    use commands::Ran;
    match command {
        Command::Validate(args) => Ran::plain(commands::validate::run(args, env, out)),
        Command::Schema(args) => Ran::plain(commands::schema::run(args, out)),
        Command::Sandbox(args) => Ran::plain(commands::sandbox::run(args, out)),
        Command::Plan(args) => Ran {
            detailed: args.detailed_exitcode,
            verbose: args.verbose,
            result: commands::plan::run(args, env, out),
        },
        Command::Export(args) => Ran {
            detailed: false,
            verbose: args.verbose,
            result: commands::export::run(args, env, out),
        },
        Command::Fmt(args) => Ran::plain(commands::fmt::run(args, out)),
        Command::Check(args) => Ran::plain(commands::check::run(args, env, out)),
        Command::Show(args) => Ran {
            detailed: args.detailed_exitcode,
            verbose: args.verbose,
            result: commands::show::run(args, env, out),
        },
        Command::Apply(args) => Ran::plain(commands::apply::run(args, env, out)),
        Command::Explain(args) => Ran::plain(commands::explain::run(args, env, out)),
        Command::Rehearse(args) => Ran {
            detailed: false,
            verbose: args.verbose,
            result: commands::rehearse::run(args, env, out),
        },
        // Always the detailed exit code: 0 equivalent, 2 different.
        Command::Diff(args) => Ran {
            detailed: true,
            verbose: args.verbose,
            result: commands::diff::run(args, env, out),
        },
        Command::Completions(args) => {
            Ran::plain(commands::completions::run(args, Cli::command(), out))
        }
        Command::Man(args) => Ran::plain(commands::man::run(args, Cli::command(), out)),
        Command::CliReference(args) => {
            Ran::plain(commands::reference::run(args, Cli::command(), out))
        }
    }
}

// A large plan makes and frees millions of small records on several threads; glibc's allocator
// spends a fifth of such a run growing per-thread heaps, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
