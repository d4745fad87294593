//! `simfleet explain ICCID… [SPEC]`: why each named SIM gets the values it gets.

use std::path::{Path, PathBuf};

use clap::Args;

use simfleet::ops::explain::{ExplainFrom, ExplainOptions};
use simfleet::ops::plan::PlanFormat;
use simfleet::output::Output;
use simfleet::settings::{Env, Settings, DEFAULT_SPEC_DIR};

use super::connect::ConnectArgs;
use super::guards::GuardArgs;

/// Explain SIMs: per field the live value, the desired value and the rule that set it, the rules that lost and why, and what the plan does (reads only the SIMs named).
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// One or more ICCIDs, then optionally the spec directory [default: fleet; none with --plan].
    #[arg(value_name = "ICCID... [SPEC]", required = true, num_args = 1..)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub links: super::links::LinkArgs,
    /// Explain against a snapshot file (from `simfleet export --snapshot`); no network.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["endpoint", "token_file", "sandbox", "plan"])]
    pub live: Option<PathBuf>,
    /// Explain a saved plan's records (from `simfleet plan --out`); no network.
    #[arg(long, value_name = "PLANFILE", conflicts_with_all = ["endpoint", "token_file", "sandbox"])]
    pub plan: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// listSims requests in flight at once [default: 8, or simfleet.yaml's concurrency].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

/// True when the last argument names the spec directory rather than an ICCID: it is not all
/// digits, and it exists or is not even mostly digits (a mistyped ICCID stays an ICCID, and is
/// reported as malformed).
fn is_spec_arg(arg: &str) -> bool {
    let digits = arg.bytes().filter(u8::is_ascii_digit).count();
    digits < arg.len() && (Path::new(arg).exists() || digits * 2 < arg.len())
}

/// Splits the arguments, builds the settings (flags > the spec's simfleet.yaml > defaults),
/// then explains.
pub fn run(
    args: ExplainArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let mut iccids = args.args;
    let given_spec = match iccids.last() {
        Some(last) if iccids.len() > 1 && is_spec_arg(last) => iccids.pop().map(PathBuf::from),
        _ => None,
    };
    if given_spec.is_none() && iccids.len() == 1 && iccids.iter().all(|a| is_spec_arg(a)) {
        return Err(simfleet::Error::Usage(
            "explain needs at least one ICCID before the spec directory: simfleet explain ICCID... [SPEC]".to_string(),
        ));
    }
    let spec_dir = match (&given_spec, &args.plan) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(_)) => None,
        (None, None) if Path::new(DEFAULT_SPEC_DIR).is_dir() => {
            Some(PathBuf::from(DEFAULT_SPEC_DIR))
        }
        (None, None) => {
            return Err(simfleet::Error::Usage(format!(
                "no spec directory: ./{DEFAULT_SPEC_DIR} does not exist; name it after the ICCIDs (simfleet explain ICCID... SPEC), or explain a saved plan with --plan PLANFILE"
            )))
        }
    };
    let flags = GuardArgs::default().flags(args.concurrency, args.connect.rate_limit, None);
    let settings = match &spec_dir {
        Some(dir) => Settings::for_spec_dir(&flags, dir, env)?,
        None => Settings::without_config(&flags, env)?,
    };
    let from = match (args.plan, args.live) {
        (Some(plan), _) => ExplainFrom::Plan(plan),
        (None, Some(live)) => ExplainFrom::Snapshot(live),
        (None, None) => ExplainFrom::Api(args.connect.options(&settings)),
    };
    let opts = ExplainOptions {
        iccids,
        spec_dir,
        from,
        format: args.format,
        mask: env.mask,
        concurrency: settings.concurrency,
        today: settings.today,
        links: args.links.source_links(),
    };
    super::runtime()?.block_on(simfleet::ops::explain::run(&opts, out))
}

#[cfg(test)]
mod tests {
    use super::is_spec_arg;

    #[test]
    fn the_last_argument_is_the_spec_only_when_it_cannot_be_an_iccid() {
        assert!(is_spec_arg("fleet"));
        assert!(is_spec_arg("examples/fleet"));
        assert!(is_spec_arg("."));
        assert!(!is_spec_arg("89490000000030318262"));
        assert!(!is_spec_arg("8949000000003031826x"), "a mistyped ICCID");
    }
}
