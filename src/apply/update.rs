//! One `updateSim` call. The client retries it on 429, 5xx and timeouts: it sets values, so
//! sending it twice is harmless. Its failure is recorded with the API's message for every field
//! it carried; verification then decides what actually holds.

use crate::api::UpdateSimArgs;

use super::{Run, SimFailure};

pub(crate) async fn run_update(run: &Run<'_>, args: UpdateSimArgs) {
    run.ledger(|l| {
        l.attempted.insert(args.iccid.clone());
        l.update_sim += 1;
    });
    let result = run.client.update_sim(&args).await;
    if let Err(e) = result {
        run.ledger(|l| {
            l.fail(SimFailure {
                iccid: args.iccid.clone(),
                field: None,
                code: None,
                reason: format!("updateSim failed: {e}"),
                batch_job_id: None,
                expected: None,
                found: None,
            })
        });
    }
    run.progress.advance(1);
}
