//! The GraphQL types of the wherever SIM API as async-graphql sees them, named and shaped exactly
//! as `schema/wherever-sim.graphql` transcribes the reference (a test compares the two).
//!
//! Nullability follows the reference to the letter (`[Int]` is `Option<Vec<Option<i32>>>`),
//! because a server that is stricter or looser than the real one would hide client bugs.

use async_graphql::{
    Enum, InputObject, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Union,
    Value, ID,
};

use crate::fleet::Sim;

/// The API's `Long` scalar. async-graphql would export `i64` as `Int`, so it is its own type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long(pub i64);

#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n.as_i64().map(Long).ok_or_else(|| {
                InputValueError::custom(format!(
                    "Long must be a whole number between -(2^63) and 2^63-1, got {n}"
                ))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

fn long(v: Option<i64>) -> Option<Long> {
    v.map(Long)
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "EndCustomerLabel", rename_fields = "snake_case")]
pub struct EndCustomerLabelGql {
    pub name: String,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "ImeiLock", rename_fields = "snake_case")]
pub struct ImeiLockGql {
    pub imei: Option<String>,
    pub enabled: bool,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "SIM", rename_fields = "snake_case")]
pub struct SimGql {
    pub iccid: ID,
    pub statusid: i32,
    pub providerid: i32,
    pub activation_timestamp: Option<Long>,
    pub imei: Option<String>,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub in_session_since: Option<Long>,
    pub monthly_data_volume: Option<Long>,
    pub monthly_data_limit: Option<Long>,
    pub monthly_sms_mo: Option<i32>,
    pub monthly_sms_mt: Option<i32>,
    pub monthly_sms_mo_limit: Option<i32>,
    pub monthly_sms_mt_limit: Option<i32>,
    pub monthly_voice_mo: Option<Long>,
    pub monthly_voice_mo_limit: Option<Long>,
    pub custom_field_1: Option<String>,
    pub previous_month_data_volume: Option<Long>,
    pub nwc: Option<String>,
    pub apn: Option<String>,
    pub ip_address: Option<String>,
    pub end_customer_label: Option<EndCustomerLabelGql>,
    pub imei_lock: Option<ImeiLockGql>,
}

impl From<&Sim> for SimGql {
    fn from(s: &Sim) -> Self {
        SimGql {
            iccid: ID(s.iccid.clone()),
            statusid: s.statusid,
            providerid: s.providerid,
            activation_timestamp: long(s.activation_timestamp),
            imei: s.imei.clone(),
            imsi: s.imsi.clone(),
            msisdn: s.msisdn.clone(),
            in_session_since: long(s.in_session_since),
            monthly_data_volume: long(s.monthly_data_volume),
            monthly_data_limit: long(s.monthly_data_limit),
            monthly_sms_mo: s.monthly_sms_mo,
            monthly_sms_mt: s.monthly_sms_mt,
            monthly_sms_mo_limit: s.monthly_sms_mo_limit,
            monthly_sms_mt_limit: s.monthly_sms_mt_limit,
            monthly_voice_mo: long(s.monthly_voice_mo),
            monthly_voice_mo_limit: long(s.monthly_voice_mo_limit),
            custom_field_1: s.custom_field_1.clone(),
            previous_month_data_volume: long(s.previous_month_data_volume),
            nwc: s.nwc.clone(),
            apn: s.apn.clone(),
            ip_address: s.ip_address.clone(),
            end_customer_label: s.end_customer_label.as_ref().map(|l| EndCustomerLabelGql {
                name: l.name.clone(),
            }),
            imei_lock: s.imei_lock.as_ref().map(|l| ImeiLockGql {
                imei: l.imei.clone(),
                enabled: l.enabled,
            }),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "SimList")]
pub struct SimList {
    pub items: Option<Vec<Option<SimGql>>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
    #[graphql(name = "totalSims")]
    pub total_sims: Long,
}

#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "SimTransition")]
pub struct SimTransition {
    pub fromstatusid: i32,
    pub tostatusid: i32,
    pub providerid: i32,
}

#[derive(SimpleObject)]
#[graphql(name = "Statistic")]
pub struct Statistic {
    #[graphql(name = "totalSimCards")]
    pub total_sim_cards: i32,
    #[graphql(name = "activeSimCards")]
    pub active_sim_cards: i32,
    #[graphql(name = "currentMonthlyDataUsage")]
    pub current_monthly_data_usage: Long,
    #[graphql(name = "previousMonthDataUsage")]
    pub previous_month_data_usage: Long,
}

#[derive(SimpleObject)]
#[graphql(name = "Customer", rename_fields = "snake_case")]
pub struct Customer {
    pub customerid: i32,
    pub current_name: String,
    pub is_test_customer: bool,
}

#[derive(SimpleObject)]
#[graphql(name = "EndCustomerLabels")]
pub struct EndCustomerLabels {
    pub items: Option<Vec<Option<EndCustomerLabelGql>>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "ApiKey")]
pub struct ApiKey {
    pub keyid: i32,
    pub key: String,
    pub comment: Option<String>,
    pub created: Long,
    pub lastused: Option<Long>,
    #[graphql(name = "ipAddressAllowlist")]
    pub ip_address_allowlist: Option<Vec<Option<String>>>,
    #[graphql(name = "expiresAtMs")]
    pub expires_at_ms: Option<Long>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "DeletedApiKey")]
pub struct DeletedApiKey {
    pub keyid: i32,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "UserAccount")]
pub struct UserAccount {
    pub id: String,
    pub email: String,
    pub status: String,
    pub groups: Option<Vec<Option<String>>>,
    pub zoneinfo: String,
    pub locale: String,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "DeletedUserAccount")]
pub struct DeletedUserAccount {
    pub id: String,
}

#[derive(Union, Clone)]
#[graphql(name = "BatchJobOwner")]
pub enum BatchJobOwner {
    UserAccount(UserAccount),
    DeletedUserAccount(DeletedUserAccount),
    ApiKey(ApiKey),
    DeletedApiKey(DeletedApiKey),
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[graphql(name = "BatchJobStatus")]
pub enum BatchJobStatus {
    #[graphql(name = "PREPARING")]
    Preparing,
    #[graphql(name = "RUNNING")]
    Running,
    #[graphql(name = "CANCELLED")]
    Cancelled,
    #[graphql(name = "FAILED")]
    Failed,
    #[graphql(name = "COMPLETED")]
    Completed,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "BatchJobSimDetailStatus")]
pub enum BatchJobSimDetailStatus {
    #[graphql(name = "SUCCESSFUL")]
    Successful,
    #[graphql(name = "RUNNING")]
    Running,
    #[graphql(name = "SKIPPED")]
    Skipped,
    #[graphql(name = "FAILED")]
    Failed,
}

#[derive(SimpleObject, Clone, Debug, Default)]
#[graphql(name = "BatchErrorCounts", rename_fields = "snake_case")]
pub struct BatchErrorCounts {
    #[graphql(name = "statusId")]
    pub status_id: Option<i32>,
    pub custom_field_1: Option<i32>,
    pub monthly_data_limit: Option<i32>,
    pub monthly_sms_mo_limit: Option<i32>,
    pub monthly_sms_mt_limit: Option<i32>,
    pub monthly_voice_mo_limit: Option<i32>,
    pub end_customer_label: Option<i32>,
    pub imei_lock: Option<i32>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "BatchJobStatusDetails")]
pub struct BatchJobStatusDetails {
    #[graphql(name = "currentStatus")]
    pub current_status: BatchJobStatus,
    #[graphql(name = "totalSims")]
    pub total_sims: i32,
    #[graphql(name = "failedSims")]
    pub failed_sims: i32,
    #[graphql(name = "successfulSims")]
    pub successful_sims: i32,
    pub failures: Option<BatchErrorCounts>,
}

#[derive(SimpleObject, Clone, Default)]
#[graphql(name = "BatchJobChanges", rename_fields = "snake_case")]
pub struct BatchJobChanges {
    pub statusid: Option<i32>,
    pub custom_field_1: Option<String>,
    pub monthly_data_limit: Option<Long>,
    pub monthly_sms_mo_limit: Option<Long>,
    pub monthly_sms_mt_limit: Option<Long>,
    pub monthly_voice_mo_limit: Option<Long>,
    pub end_customer_label: Option<String>,
    pub imei_lock: Option<bool>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "BatchJob")]
pub struct BatchJob {
    #[graphql(name = "batchJobId")]
    pub batch_job_id: Long,
    #[graphql(name = "startedAt")]
    pub started_at: Long,
    #[graphql(name = "finishedAt")]
    pub finished_at: Option<Long>,
    #[graphql(name = "startedBy")]
    pub started_by: BatchJobOwner,
    #[graphql(name = "statusDetails")]
    pub status_details: BatchJobStatusDetails,
    pub changes: BatchJobChanges,
    pub customerid: i32,
}

#[derive(SimpleObject)]
#[graphql(name = "BatchJobList")]
pub struct BatchJobList {
    pub items: Option<Vec<Option<BatchJob>>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
    #[graphql(name = "totalCount")]
    pub total_count: Long,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "BatchJobSimDetailChange")]
pub struct BatchJobSimDetailChange {
    #[graphql(name = "executedAt")]
    pub executed_at: Option<Long>,
    #[graphql(name = "errorCodes")]
    pub error_codes: Option<Vec<Option<i32>>>,
    pub status: BatchJobSimDetailStatus,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "BatchJobSimDetail", rename_fields = "snake_case")]
pub struct BatchJobSimDetail {
    pub iccid: String,
    pub custom_field_1: Option<String>,
    pub details: BatchJobSimDetailChange,
}

#[derive(SimpleObject)]
#[graphql(name = "BatchJobDetail")]
pub struct BatchJobDetail {
    #[graphql(name = "simList")]
    pub sim_list: Vec<Option<BatchJobSimDetail>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
    #[graphql(name = "totalCount")]
    pub total_count: Long,
}

#[derive(SimpleObject)]
#[graphql(name = "CreateBatchJobResult")]
pub struct CreateBatchJobResult {
    #[graphql(name = "batchJobId")]
    pub batch_job_id: Long,
}

#[derive(SimpleObject)]
#[graphql(name = "CancelLocation")]
pub struct CancelLocation {
    pub sent: bool,
    #[graphql(name = "blockedUntil")]
    pub blocked_until: Long,
}

#[derive(SimpleObject)]
#[graphql(name = "DataConsumption")]
pub struct DataConsumption {
    pub day: String,
    pub bytes: Long,
}

#[derive(SimpleObject)]
#[graphql(name = "BillingData", rename_fields = "snake_case")]
pub struct BillingData {
    pub year: i32,
    pub month: i32,
    pub data_volume: Long,
    pub invoice_amount: f64,
    pub currency: String,
}

#[derive(SimpleObject)]
#[graphql(name = "BillingDataList")]
pub struct BillingDataList {
    pub items: Option<Vec<Option<BillingData>>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "SimEvent")]
pub struct SimEvent {
    pub id: ID,
    pub iccid: ID,
    #[graphql(name = "timestampMilliseconds")]
    pub timestamp_milliseconds: Long,
    #[graphql(name = "type")]
    pub type_: String,
    pub details: Option<String>,
    #[graphql(name = "jsonData")]
    pub json_data: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "SimEvents")]
pub struct SimEvents {
    pub items: Option<Vec<Option<SimEvent>>>,
    #[graphql(name = "nextToken")]
    pub next_token: Option<String>,
    #[graphql(name = "totalEvents")]
    pub total_events: Option<Long>,
}

// ---- inputs ----

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "StringFilterInput")]
pub struct StringFilterInput {
    pub eq: Option<String>,
    #[graphql(name = "beginsWith")]
    pub begins_with: Option<String>,
    #[graphql(name = "in")]
    pub in_: Option<Vec<Option<String>>>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "SimListIntFilterInput")]
pub struct SimListIntFilterInput {
    pub eq: Option<i32>,
    #[graphql(name = "beginsWith")]
    pub begins_with: Option<i32>,
    #[graphql(name = "in")]
    pub in_: Option<Vec<Option<i32>>>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "SimFilterInput", rename_fields = "snake_case")]
pub struct SimFilterInput {
    pub iccid: Option<StringFilterInput>,
    pub statusid: Option<SimListIntFilterInput>,
    pub providerid: Option<SimListIntFilterInput>,
    pub imei: Option<StringFilterInput>,
    pub imsi: Option<StringFilterInput>,
    pub msisdn: Option<StringFilterInput>,
    pub custom_field_1: Option<StringFilterInput>,
    pub end_customer_label: Option<StringFilterInput>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "SimListOrder", rename_fields = "snake_case")]
pub struct SimListOrder {
    pub iccid: Option<String>,
    pub statusid: Option<String>,
    pub providerid: Option<String>,
    pub imei: Option<String>,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub activation_timestamp: Option<String>,
    pub in_session_since: Option<String>,
    pub monthly_data_volume: Option<String>,
    pub monthly_sms_mo: Option<String>,
    pub monthly_sms_mt: Option<String>,
    pub monthly_voice_mo: Option<String>,
    pub monthly_voice_mo_limit: Option<String>,
    pub custom_field_1: Option<String>,
    pub monthly_data_limit: Option<String>,
    pub previous_month_data_volume: Option<String>,
    pub end_customer_label: Option<String>,
}

impl SimListOrder {
    /// Every order key with the direction the client gave, in the SDL's order.
    pub fn keys(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &Option<String>); 17] = [
            ("iccid", &self.iccid),
            ("statusid", &self.statusid),
            ("providerid", &self.providerid),
            ("imei", &self.imei),
            ("imsi", &self.imsi),
            ("msisdn", &self.msisdn),
            ("activation_timestamp", &self.activation_timestamp),
            ("in_session_since", &self.in_session_since),
            ("monthly_data_volume", &self.monthly_data_volume),
            ("monthly_sms_mo", &self.monthly_sms_mo),
            ("monthly_sms_mt", &self.monthly_sms_mt),
            ("monthly_voice_mo", &self.monthly_voice_mo),
            ("monthly_voice_mo_limit", &self.monthly_voice_mo_limit),
            ("custom_field_1", &self.custom_field_1),
            ("monthly_data_limit", &self.monthly_data_limit),
            (
                "previous_month_data_volume",
                &self.previous_month_data_volume,
            ),
            ("end_customer_label", &self.end_customer_label),
        ];
        all.into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect()
    }
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "EndCustomerLabelInput")]
pub struct EndCustomerLabelInput {
    pub name: String,
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "ImeiLockInput")]
pub struct ImeiLockInput {
    pub lock: bool,
    pub imei: Option<String>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "BatchJobParametersInput", rename_fields = "snake_case")]
pub struct BatchJobParametersInput {
    #[graphql(name = "simFilter")]
    pub sim_filter: Option<SimFilterInput>,
    #[graphql(name = "excludeIccIds")]
    pub exclude_icc_ids: Option<Vec<Option<String>>>,
    #[graphql(name = "includeIccIds")]
    pub include_icc_ids: Option<Vec<Option<String>>>,
    pub statusid: Option<i32>,
    pub custom_field_1: Option<String>,
    pub monthly_data_limit: Option<Long>,
    pub monthly_sms_mo_limit: Option<Long>,
    pub monthly_sms_mt_limit: Option<Long>,
    pub monthly_voice_mo_limit: Option<Long>,
    pub end_customer_label: Option<String>,
    pub imei_lock: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "BatchJobDetailsFilterInput")]
pub struct BatchJobDetailsFilterInput {
    pub status: Option<Vec<Option<BatchJobSimDetailStatus>>>,
    #[graphql(name = "quickSearch")]
    pub quick_search: Option<String>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "BatchJobDetailsOrderInput")]
pub struct BatchJobDetailsOrderInput {
    #[graphql(name = "executedAt")]
    pub executed_at: Option<String>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "ListBatchJobsFilter")]
pub struct ListBatchJobsFilter {
    pub status: Option<BatchJobStatus>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "ListEndCustomerLabelNameFilterInput")]
pub struct ListEndCustomerLabelNameFilterInput {
    #[graphql(name = "beginsWith")]
    pub begins_with: Option<String>,
    pub contains: Option<String>,
}

#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "ListEndCustomerLabelsFilterInput")]
pub struct ListEndCustomerLabelsFilterInput {
    pub name: Option<ListEndCustomerLabelNameFilterInput>,
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "DataConsumptionFilterInput")]
pub struct DataConsumptionFilterInput {
    pub start: String,
    pub stop: String,
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "SimEventIntFilterInput")]
pub struct SimEventIntFilterInput {
    pub eq: Option<Long>,
    #[graphql(name = "in")]
    pub in_: Option<Vec<Option<Long>>>,
    pub between: Option<Vec<Option<Long>>>,
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "SimEventFilterInput")]
pub struct SimEventFilterInput {
    #[graphql(name = "type")]
    pub type_: Option<StringFilterInput>,
    #[graphql(name = "timestampMilliseconds")]
    pub timestamp_milliseconds: Option<SimEventIntFilterInput>,
}

#[derive(InputObject, Debug, Clone)]
#[graphql(name = "SimEventOrder")]
pub struct SimEventOrder {
    #[graphql(name = "timestampMilliseconds")]
    pub timestamp_milliseconds: Option<String>,
}
