//! Every GraphQL document simfleet sends, as constants, each asking only for the fields its
//! caller decodes.
//!
//! We write documents by hand instead of generating them (cynic) for build cost and for explicit
//! control over omitted-vs-`null` arguments, which `updateSim` semantics depend on. A unit test
//! parses every document against `schema/wherever-sim.graphql` so a typo cannot reach the API.

/// The SIM fields a plan needs (`SimFields::Plan`): the managed values, the identifiers, and
/// this month's usage counters (a new limit at or below them cuts service).
macro_rules! plan_sim_fields {
    () => {
        "iccid statusid providerid monthly_data_limit monthly_sms_mo_limit monthly_sms_mt_limit \
         monthly_voice_mo_limit custom_field_1 end_customer_label { name } imei_lock { imei enabled } \
         imei imsi msisdn monthly_data_volume monthly_sms_mo monthly_sms_mt monthly_voice_mo"
    };
}

/// Every field of the `SIM` type (`SimFields::All`, for snapshots).
macro_rules! all_sim_fields {
    () => {
        "iccid statusid providerid activation_timestamp imei imsi msisdn in_session_since \
         monthly_data_volume monthly_data_limit monthly_sms_mo monthly_sms_mt monthly_sms_mo_limit \
         monthly_sms_mt_limit monthly_voice_mo monthly_voice_mo_limit custom_field_1 \
         previous_month_data_volume nwc apn ip_address end_customer_label { name } \
         imei_lock { imei enabled }"
    };
}

macro_rules! list_sims_document {
    ($fields:expr) => {
        concat!(
            "query ListSims($filter: SimFilterInput, $order: SimListOrder, $limit: Int!, $nextToken: String) { ",
            "listSims(filter: $filter, order: $order, limit: $limit, nextToken: $nextToken) { ",
            "items { ",
            $fields,
            " } nextToken totalSims } }"
        )
    };
}

/// One page of SIMs with the plan's fields.
pub const LIST_SIMS_PLAN: &str = list_sims_document!(plan_sim_fields!());

/// One page of SIMs with every field.
pub const LIST_SIMS_ALL: &str = list_sims_document!(all_sim_fields!());

/// `totalSims` of a filter (sent with `limit: 1`).
pub const COUNT_SIMS: &str = "query CountSims($filter: SimFilterInput) { \
     listSims(filter: $filter, limit: 1) { totalSims } }";

/// The first ICCID of a filter in a given order plus `totalSims`: the fetcher reads the lowest and
/// the highest ICCID to find the prefix every SIM of a scope shares.
pub const ICCID_BOUND: &str = "query IccidBound($filter: SimFilterInput, $order: SimListOrder) { \
     listSims(filter: $filter, order: $order, limit: 1) { items { iccid } totalSims } }";

/// The status transition table.
pub const STATUS_TRANSITIONS: &str = "query GetAvailableStatusTransitions { \
     getAvailableStatusTransitions { fromstatusid tostatusid providerid } }";

/// The arguments of `updateSim` with their GraphQL types, in the reference's order.
pub const UPDATE_SIM_ARGUMENTS: &[(&str, &str)] = &[
    ("iccid", "ID!"),
    ("statusid", "Int"),
    ("monthly_data_limit", "Long"),
    ("custom_field_1", "String"),
    ("monthly_sms_mo_limit", "Long"),
    ("monthly_sms_mt_limit", "Long"),
    ("monthly_voice_mo_limit", "Long"),
    ("end_customer_label", "EndCustomerLabelInput"),
    ("imei_lock", "ImeiLockInput"),
];

/// The SIM fields `updateSim` returns.
pub const UPDATE_SIM_SELECTION: &str = plan_sim_fields!();

/// An `updateSim` document that declares and passes only the arguments named in `sent`.
///
/// An argument the document does not mention is certainly "not provided", whatever the server
/// does with declared-but-omitted variables (some servers, async-graphql among them, read those
/// as `null`, and for updateSim a `null` limit means "no limit"). Unknown names are ignored.
pub fn update_sim_document<'a>(sent: impl IntoIterator<Item = &'a str>) -> String {
    let sent: Vec<&str> = sent.into_iter().collect();
    let used: Vec<(&str, &str)> = UPDATE_SIM_ARGUMENTS
        .iter()
        .copied()
        .filter(|(name, _)| *name == "iccid" || sent.contains(name))
        .collect();
    let declarations: Vec<String> = used.iter().map(|(n, t)| format!("${n}: {t}")).collect();
    let arguments: Vec<String> = used.iter().map(|(n, _)| format!("{n}: ${n}")).collect();
    format!(
        "mutation UpdateSim({}) {{ updateSim({}) {{ {UPDATE_SIM_SELECTION} }} }}",
        declarations.join(", "),
        arguments.join(", ")
    )
}

/// `startBatchJob`.
pub const START_BATCH_JOB: &str = "mutation StartBatchJob($params: BatchJobParametersInput!) { \
     startBatchJob(params: $params) { batchJobId } }";

macro_rules! batch_job_fields {
    () => {
        "batchJobId startedAt finishedAt \
         statusDetails { currentStatus totalSims failedSims successfulSims } \
         changes { statusid custom_field_1 monthly_data_limit monthly_sms_mo_limit \
         monthly_sms_mt_limit monthly_voice_mo_limit end_customer_label imei_lock }"
    };
}

/// `getBatchJob`.
pub const GET_BATCH_JOB: &str = concat!(
    "query GetBatchJob($batchJobId: Long!) { getBatchJob(batchJobId: $batchJobId) { ",
    batch_job_fields!(),
    " } }"
);

/// `listBatchJobs` (newest first, as the reference documents).
pub const LIST_BATCH_JOBS: &str = concat!(
    "query ListBatchJobs($filter: ListBatchJobsFilter, $limit: Int, $nextToken: String) { ",
    "listBatchJobs(filter: $filter, limit: $limit, nextToken: $nextToken) { items { ",
    batch_job_fields!(),
    " } nextToken totalCount } }"
);

/// `listBatchJobDetails`: per-SIM results of a batch job.
pub const LIST_BATCH_JOB_DETAILS: &str = concat!(
    "query ListBatchJobDetails($batchJobId: Long!, $filter: BatchJobDetailsFilterInput, $nextToken: String) { ",
    "listBatchJobDetails(batchJobId: $batchJobId, filter: $filter, nextToken: $nextToken) { ",
    "simList { iccid details { executedAt errorCodes status } } nextToken totalCount } }"
);

/// `cancelBatchJob`.
pub const CANCEL_BATCH_JOB: &str = "mutation CancelBatchJob($batchJobId: Long!) { \
     cancelBatchJob(batchJobId: $batchJobId) }";

/// `listSimEvents`: one page of a SIM's events, filtered by type, in a given order.
pub const LIST_SIM_EVENTS: &str = concat!(
    "query ListSimEvents($iccid: ID!, $limit: Int!, $nextToken: String, ",
    "$filterOptions: SimEventFilterInput, $order: SimEventOrder) { ",
    "listSimEvents(iccid: $iccid, limit: $limit, nextToken: $nextToken, ",
    "filterOptions: $filterOptions, order: $order) { ",
    "items { id iccid timestampMilliseconds type details jsonData } nextToken totalEvents } }"
);

/// Every document with its operation name, for the schema test.
pub const ALL: &[(&str, &str)] = &[
    ("ListSims", LIST_SIMS_PLAN),
    ("ListSims", LIST_SIMS_ALL),
    ("CountSims", COUNT_SIMS),
    ("IccidBound", ICCID_BOUND),
    ("GetAvailableStatusTransitions", STATUS_TRANSITIONS),
    ("StartBatchJob", START_BATCH_JOB),
    ("GetBatchJob", GET_BATCH_JOB),
    ("ListBatchJobs", LIST_BATCH_JOBS),
    ("ListBatchJobDetails", LIST_BATCH_JOB_DETAILS),
    ("CancelBatchJob", CANCEL_BATCH_JOB),
    ("ListSimEvents", LIST_SIM_EVENTS),
];

#[cfg(test)]
mod tests {
    use apollo_compiler::{ExecutableDocument, Schema};

    /// Every document must validate against the API's SDL, and carry the operation name the
    /// client sends as `operationName`.
    #[test]
    fn documents_validate_against_the_sdl() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/wherever-sim.graphql");
        let sdl = std::fs::read_to_string(path).expect("schema/wherever-sim.graphql is readable");
        let schema = Schema::parse_and_validate(sdl, path).expect("the SDL is valid");
        let mut problems = Vec::new();
        for (name, document) in super::ALL {
            match ExecutableDocument::parse_and_validate(
                &schema,
                *document,
                format!("{name}.graphql"),
            ) {
                Ok(doc) => {
                    let declared: Vec<_> = doc
                        .operations
                        .iter()
                        .filter_map(|op| op.name.as_ref().map(|n| n.to_string()))
                        .collect();
                    if declared != [*name] {
                        problems.push(format!("{name}: declares operations {declared:?}"));
                    }
                }
                Err(errors) => problems.push(format!("{name}:\n{}", errors.errors)),
            }
        }
        // updateSim documents are built per call: check the full one and every single argument.
        let mut update_sims = vec![super::update_sim_document(
            super::UPDATE_SIM_ARGUMENTS.iter().map(|(n, _)| *n),
        )];
        update_sims.extend(
            super::UPDATE_SIM_ARGUMENTS
                .iter()
                .map(|(n, _)| super::update_sim_document([*n])),
        );
        for document in update_sims {
            if let Err(errors) = ExecutableDocument::parse_and_validate(
                &schema,
                document.as_str(),
                "UpdateSim.graphql",
            ) {
                problems.push(format!("{document}:\n{}", errors.errors));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }

    #[test]
    fn update_sim_document_mentions_only_sent_arguments() {
        let doc = super::update_sim_document(["monthly_sms_mo_limit"]);
        assert_eq!(
            doc,
            format!(
                "mutation UpdateSim($iccid: ID!, $monthly_sms_mo_limit: Long) {{ \
                 updateSim(iccid: $iccid, monthly_sms_mo_limit: $monthly_sms_mo_limit) {{ {} }} }}",
                super::UPDATE_SIM_SELECTION
            )
        );
    }

    /// A misspelt field must fail the check above (the test can fail).
    #[test]
    fn the_check_catches_a_wrong_field() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/wherever-sim.graphql");
        let sdl = std::fs::read_to_string(path).expect("schema/wherever-sim.graphql is readable");
        let schema = Schema::parse_and_validate(sdl, path).expect("the SDL is valid");
        let wrong = super::COUNT_SIMS.replace("totalSims", "total_sims");
        assert!(ExecutableDocument::parse_and_validate(&schema, wrong, "wrong.graphql").is_err());
    }
}
