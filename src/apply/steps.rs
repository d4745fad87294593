//! Between two steps of multi-step status paths: before a SIM's next step is sent, its previous
//! step must hold. The SIMs of a lead-in round are read again; one at the step's status goes
//! on, one still moving there (Waiting for Activation, 13, on its way to Activated) is read
//! again after a pause that grows like a batch job's poll, up to the job timeout; any other is
//! stopped: none of its later status steps is sent (its other changes still are), and the
//! reason is what the report shows for it. Costs one `listSims` page per 100 SIMs per read; no
//! mutation.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::fleet::tables::status_label;
use crate::plan::status::converging;

use super::preflight::read_sims;
use super::Run;

/// Waits until every SIM in `expected` (ICCID → the status its step set) stands at that
/// status; returns those that do not, each with the reason its later steps are not sent.
pub(crate) async fn settle(
    run: &Run<'_>,
    mut expected: BTreeMap<String, i32>,
) -> BTreeMap<String, String> {
    let mut stopped = BTreeMap::new();
    let started = Instant::now();
    let mut pause = run.opts.poll_min;
    while !expected.is_empty() {
        let sims = match read_sims(run.client, expected.keys(), run.opts.concurrency).await {
            Ok(fetched) => fetched.sims,
            Err(e) => {
                for iccid in expected.into_keys() {
                    stopped.insert(
                        iccid,
                        format!(
                            "later status steps not sent: re-reading it after a step failed ({e})"
                        ),
                    );
                }
                return stopped;
            }
        };
        let live: BTreeMap<&str, i32> = sims
            .iter()
            .map(|s| (s.iccid.as_str(), s.statusid))
            .collect();
        let mut moving = BTreeMap::new();
        for (iccid, want) in expected {
            match live.get(iccid.as_str()) {
                Some(now) if *now == want => {}
                Some(now) if converging(*now, want) => {
                    moving.insert(iccid, want);
                }
                Some(now) => {
                    let why = format!(
                        "later status steps not sent: the step to {} left it at {}",
                        status_label(want),
                        status_label(*now)
                    );
                    stopped.insert(iccid, why);
                }
                None => {
                    stopped.insert(
                        iccid,
                        "later status steps not sent: not found when re-read after a step".into(),
                    );
                }
            }
        }
        expected = moving;
        if expected.is_empty() {
            break;
        }
        if run.cancel.is_cancelled() {
            // Nothing more is sent after an interrupt anyway; the report says so.
            break;
        }
        if started.elapsed() >= run.opts.job_timeout {
            for (iccid, want) in expected {
                stopped.insert(
                    iccid,
                    format!(
                        "later status steps not sent: still moving to {} after {}s; run apply again",
                        status_label(want),
                        started.elapsed().as_secs()
                    ),
                );
            }
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = run.cancel.cancelled() => {}
        }
        pause = (pause + pause / 2).min(run.opts.poll_max);
    }
    stopped
}
