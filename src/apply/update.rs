//! One `updateSim` call. The client retries it on 429, 5xx and timeouts, and apply tries it
//! again within [`retry::UPDATE_TRIES`]: it sets values, so sending it twice is harmless. Its
//! failure is recorded with the API's message; verification then decides what actually holds.

use crate::api::UpdateSimArgs;

use super::{retry, Run, SimFailure};

pub(crate) async fn run_update(run: &Run<'_>, args: UpdateSimArgs) {
    run.ledger(|l| {
        l.attempted.insert(args.iccid.clone());
    });
    let result = retry::again(retry::UPDATE_TRIES, || {
        run.ledger(|l| l.update_sim += 1);
        run.client.update_sim(&args)
    })
    .await;
    match result {
        Ok(_) => run.ledger(|l| {
            l.changed.insert(args.iccid.clone());
        }),
        Err(e) => run.ledger(|l| {
            l.fail(SimFailure {
                iccid: args.iccid.clone(),
                field: None,
                code: None,
                reason: format!("updateSim failed: {e}"),
                batch_job_id: None,
                expected: None,
                found: None,
            })
        }),
    }
    run.progress.advance(1);
}
