//! The typed inputs and outputs of the API operations, and how inputs become GraphQL variables.
//!
//! Inputs serialise to exactly the arguments to send: `updateSim` leaves an omitted argument
//! alone and reads an explicit `null` SMS/voice limit as "no limit", so the difference between
//! `None` and `Some(None)` here is the difference between "leave it" and "remove the limit".
//! Requests the API would misread are refused before they are sent (an empty batch include list
//! would select the whole fleet; `updateSim` data limit 0 is undefined).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::ApiError;
use crate::fleet::Sim;

/// The mutation inputs are `fleet`'s plain types, of which the plan's actions are made, so a
/// plan's actions are exactly what is sent: `BatchJobParametersInput` without the selection is
/// `BatchChanges` (read back by `getBatchJob` as `changes`), `updateSim`'s arguments are
/// `UpdateSimChanges`, and the reference's limit for `includeIccIds` is `MAX_BATCH_ICCIDS`.
pub use crate::fleet::{
    BatchChanges as BatchJobChanges, ImeiLockInput, UpdateSimChanges, MAX_BATCH_ICCIDS,
};

/// Which SIM fields `listSims` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimFields {
    /// What a plan compares: ids, status, product, limits, label, custom field, IMEI lock, IMEI,
    /// IMSI, MSISDN. No usage counters.
    #[default]
    Plan,
    /// Every field of the API's `SIM` type, for snapshots.
    All,
}

/// One `listSims` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPage {
    pub items: Vec<Sim>,
    /// `None` on the last page.
    pub next_token: Option<String>,
    /// `totalSims` of the page's filter.
    pub total_sims: u64,
}

/// Arguments of one `updateSim` call: the SIM and the plan's changes for it; only `Some`
/// fields are sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateSimArgs {
    pub iccid: String,
    pub changes: UpdateSimChanges,
}

impl UpdateSimArgs {
    /// A call that changes nothing yet.
    pub fn new(iccid: impl Into<String>) -> UpdateSimArgs {
        UpdateSimArgs {
            iccid: iccid.into(),
            changes: UpdateSimChanges::default(),
        }
    }

    /// The GraphQL variables: exactly the arguments to send, or why they must not be sent.
    pub fn to_variables(&self) -> Result<Value, ApiError> {
        let refuse = |reason: String| ApiError::InvalidRequest {
            operation: "UpdateSim",
            reason: format!("SIM {}: {reason}", self.iccid),
        };
        if self.iccid.is_empty() {
            return Err(refuse("no ICCID".into()));
        }
        let c = &self.changes;
        let mut vars = Map::new();
        vars.insert("iccid".into(), json!(self.iccid));
        if let Some(status) = c.statusid {
            vars.insert("statusid".into(), json!(status));
        }
        if let Some(limit) = c.monthly_data_limit {
            if limit <= 0 {
                return Err(refuse(format!(
                    "monthly_data_limit {limit} is not a positive number of bytes \
                     (updateSim does not define 0; unlimited data is set with a batch job)"
                )));
            }
            vars.insert("monthly_data_limit".into(), json!(limit));
        }
        if let Some(value) = &c.custom_field_1 {
            vars.insert("custom_field_1".into(), json!(value));
        }
        for (name, limit) in [
            ("monthly_sms_mo_limit", c.monthly_sms_mo_limit),
            ("monthly_sms_mt_limit", c.monthly_sms_mt_limit),
            ("monthly_voice_mo_limit", c.monthly_voice_mo_limit),
        ] {
            match limit {
                None => {}
                Some(None) => {
                    vars.insert(name.into(), Value::Null);
                }
                Some(Some(n)) if n < 0 => return Err(refuse(format!("{name} {n} is negative"))),
                Some(Some(n)) => {
                    vars.insert(name.into(), json!(n));
                }
            }
        }
        if let Some(label) = &c.end_customer_label {
            vars.insert("end_customer_label".into(), json!({ "name": label }));
        }
        if let Some(lock) = &c.imei_lock {
            vars.insert(
                "imei_lock".into(),
                json!({ "lock": lock.lock, "imei": lock.imei }),
            );
        }
        if vars.len() == 1 {
            return Err(refuse("no field to change".into()));
        }
        Ok(Value::Object(vars))
    }
}

/// Parameters of one `startBatchJob`: always an include list of 1 to 1000 distinct ICCIDs, never
/// a SIM filter or an exclude list. The list is private so that an empty one — which the API reads
/// as "the whole fleet" — cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJobParams {
    include_iccids: Vec<String>,
    pub changes: BatchJobChanges,
}

impl BatchJobParams {
    /// Refuses an empty list, more than [`MAX_BATCH_ICCIDS`] ICCIDs, an empty ICCID or a
    /// duplicate (a duplicate would make the job's `totalSims` disagree with the list).
    pub fn new(include_iccids: Vec<String>, changes: BatchJobChanges) -> Result<Self, ApiError> {
        let refuse = |reason: String| ApiError::InvalidRequest {
            operation: "StartBatchJob",
            reason,
        };
        if include_iccids.is_empty() {
            return Err(refuse(
                "the include list is empty (the API would apply the job to the whole fleet)".into(),
            ));
        }
        if include_iccids.len() > MAX_BATCH_ICCIDS {
            return Err(refuse(format!(
                "{} ICCIDs in one include list; the API allows at most {MAX_BATCH_ICCIDS}",
                include_iccids.len()
            )));
        }
        let mut seen = std::collections::HashSet::with_capacity(include_iccids.len());
        for iccid in &include_iccids {
            if iccid.is_empty() {
                return Err(refuse("an empty ICCID in the include list".into()));
            }
            if !seen.insert(iccid.as_str()) {
                return Err(refuse(format!("ICCID {iccid} is listed twice")));
            }
        }
        if changes.is_empty() {
            return Err(refuse("the batch job changes nothing".into()));
        }
        for (name, limit) in [
            ("monthly_data_limit", changes.monthly_data_limit),
            ("monthly_sms_mo_limit", changes.monthly_sms_mo_limit),
            ("monthly_sms_mt_limit", changes.monthly_sms_mt_limit),
            ("monthly_voice_mo_limit", changes.monthly_voice_mo_limit),
        ] {
            if let Some(n) = limit.filter(|n| *n < 0) {
                return Err(refuse(format!("{name} {n} is negative")));
            }
        }
        Ok(BatchJobParams {
            include_iccids,
            changes,
        })
    }

    /// The ICCIDs the job names (1 to 1000, distinct).
    pub fn include_iccids(&self) -> &[String] {
        &self.include_iccids
    }

    /// `{"params": {...}}`: the include list plus the changes, nothing else.
    pub fn to_variables(&self) -> Value {
        let mut params = match serde_json::to_value(&self.changes) {
            Ok(Value::Object(map)) => map,
            // BatchJobChanges is a plain struct of options: it always serialises to an object.
            _ => Map::new(),
        };
        params.insert("includeIccIds".into(), json!(self.include_iccids));
        json!({ "params": params })
    }
}

/// `BatchJobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchJobStatus {
    Preparing,
    Running,
    Cancelled,
    Failed,
    Completed,
}

impl BatchJobStatus {
    /// COMPLETED, FAILED or CANCELLED: the job will not change any more SIMs.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            BatchJobStatus::Completed | BatchJobStatus::Failed | BatchJobStatus::Cancelled
        )
    }
}

/// `BatchJobSimDetailStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchJobSimDetailStatus {
    Successful,
    Running,
    Skipped,
    Failed,
}

/// A batch job as `getBatchJob` / `listBatchJobs` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJob {
    pub id: i64,
    pub status: BatchJobStatus,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds; `None` while running.
    pub finished_at: Option<i64>,
    pub total_sims: i64,
    pub failed_sims: i64,
    pub successful_sims: i64,
    pub changes: BatchJobChanges,
}

/// One `listBatchJobs` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJobPage {
    pub items: Vec<BatchJob>,
    pub next_token: Option<String>,
    pub total_count: i64,
}

/// What a batch job did to one SIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJobSimResult {
    pub iccid: String,
    pub status: BatchJobSimDetailStatus,
    /// Codes of the reference's failure table; see [`describe_batch_error`].
    pub error_codes: Vec<i32>,
    /// Unix milliseconds.
    pub executed_at: Option<i64>,
}

/// One `listBatchJobDetails` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJobDetailPage {
    pub sims: Vec<BatchJobSimResult>,
    pub next_token: Option<String>,
    pub total_count: i64,
}

/// The reference's "List of batch job failure codes", as data.
pub const BATCH_ERROR_CODES: &[(i32, &str)] = &[
    (
        1,
        "StatusID has not been changed because it was set already to the desired one",
    ),
    (2, "Status could not be changed at provider"),
    (3, "General error while setting SIM status"),
    (4, "Status transition not allowed"),
    (
        100,
        "Custom field 1 has not been changed because it was already set to the desired one",
    ),
    (101, "Error writing new custom field 1 value to database"),
    (102, "General error while setting custom field 1"),
    (
        200,
        "Data limit not changed because it was already set to the desired one",
    ),
    (201, "General error while setting data limit"),
    (
        300,
        "SMS MO Limit not changed because it was already set to the desired one",
    ),
    (301, "General error while setting SMS MO limit"),
    (
        400,
        "SMS MT Limit not changed because it was already set to the desired one",
    ),
    (401, "General error while setting SMS MT limit"),
    (
        500,
        "Voice MO Limit has not changed because it was already set to the desired one",
    ),
    (501, "General error while setting voice MO limit"),
    (
        600,
        "End customer label not been changed because it was already set to the desired one",
    ),
    (601, "Error writing new end customer label to database"),
    (602, "General error while writing end customer label"),
    (
        700,
        "IMEI lock not changed because already set to desired one",
    ),
    (701, "General error while writing IMEI lock"),
];

/// The reference's description of a batch job failure code, or `unknown error code` for a code
/// it does not list.
pub fn describe_batch_error(code: i32) -> &'static str {
    BATCH_ERROR_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, d)| *d)
        .unwrap_or("unknown error code")
}

/// True for the "already set to the desired value" codes (1, 100, …, 700): the SIM has converged.
pub fn is_already_set(code: i32) -> bool {
    matches!(code, 1 | 100 | 200 | 300 | 400 | 500 | 600 | 700)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_sim_sends_only_what_is_set() {
        let args = UpdateSimArgs {
            iccid: "89490000000000000015".into(),
            changes: UpdateSimChanges {
                custom_field_1: Some("truck-17".into()),
                ..UpdateSimChanges::default()
            },
        };
        assert_eq!(
            args.to_variables().unwrap(),
            json!({"iccid": "89490000000000000015", "custom_field_1": "truck-17"})
        );
    }

    #[test]
    fn update_sim_distinguishes_omitted_from_explicit_null() {
        let args = UpdateSimArgs {
            iccid: "8949".into(),
            changes: UpdateSimChanges {
                monthly_sms_mo_limit: Some(None),
                monthly_sms_mt_limit: Some(Some(5)),
                end_customer_label: Some(String::new()),
                imei_lock: Some(ImeiLockInput {
                    lock: true,
                    imei: None,
                }),
                ..UpdateSimChanges::default()
            },
        };
        let vars = args.to_variables().unwrap();
        let obj = vars.as_object().unwrap();
        assert_eq!(obj.get("monthly_sms_mo_limit"), Some(&Value::Null));
        assert_eq!(obj.get("monthly_sms_mt_limit"), Some(&json!(5)));
        assert!(!obj.contains_key("monthly_voice_mo_limit"));
        assert!(!obj.contains_key("statusid"));
        assert!(!obj.contains_key("monthly_data_limit"));
        assert_eq!(obj.get("end_customer_label"), Some(&json!({"name": ""})));
        assert_eq!(
            obj.get("imei_lock"),
            Some(&json!({"lock": true, "imei": null}))
        );
    }

    #[test]
    fn update_sim_refuses_data_limit_zero_and_empty_calls() {
        let zero = UpdateSimArgs {
            iccid: "8949".into(),
            changes: UpdateSimChanges {
                monthly_data_limit: Some(0),
                ..UpdateSimChanges::default()
            },
        };
        let err = zero.to_variables().unwrap_err();
        assert!(matches!(err, ApiError::InvalidRequest { .. }), "{err}");
        assert!(err.to_string().contains("batch job"), "{err}");
        assert!(UpdateSimArgs::new("8949").to_variables().is_err());
        let negative = UpdateSimArgs {
            iccid: "8949".into(),
            changes: UpdateSimChanges {
                monthly_voice_mo_limit: Some(Some(-1)),
                ..UpdateSimChanges::default()
            },
        };
        assert!(negative.to_variables().is_err());
    }

    fn label_change() -> BatchJobChanges {
        BatchJobChanges {
            end_customer_label: Some("ACME".into()),
            ..BatchJobChanges::default()
        }
    }

    #[test]
    fn batch_params_never_empty_or_oversized() {
        assert!(BatchJobParams::new(vec![], label_change()).is_err());
        let too_many: Vec<String> = (0..1001).map(|i| format!("89{i:017}")).collect();
        assert!(BatchJobParams::new(too_many.clone(), label_change()).is_err());
        let max: Vec<String> = too_many.into_iter().take(1000).collect();
        assert_eq!(
            BatchJobParams::new(max, label_change())
                .unwrap()
                .include_iccids()
                .len(),
            1000
        );
        assert!(BatchJobParams::new(vec!["1".into(), "1".into()], label_change()).is_err());
        assert!(BatchJobParams::new(vec![String::new()], label_change()).is_err());
        assert!(BatchJobParams::new(vec!["1".into()], BatchJobChanges::default()).is_err());
    }

    #[test]
    fn batch_params_send_include_list_and_changes_only() {
        let params = BatchJobParams::new(
            vec!["1".into(), "2".into()],
            BatchJobChanges {
                monthly_data_limit: Some(0),
                imei_lock: Some(true),
                ..BatchJobChanges::default()
            },
        )
        .unwrap();
        assert_eq!(
            params.to_variables(),
            json!({"params": {"includeIccIds": ["1", "2"], "monthly_data_limit": 0, "imei_lock": true}})
        );
    }

    #[test]
    fn error_code_table() {
        assert_eq!(describe_batch_error(4), "Status transition not allowed");
        assert_eq!(describe_batch_error(9999), "unknown error code");
        let already: Vec<i32> = BATCH_ERROR_CODES
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| is_already_set(*c))
            .collect();
        assert_eq!(already, vec![1, 100, 200, 300, 400, 500, 600, 700]);
        assert!(!is_already_set(701));
    }
}

/// What one `listSimEvents` request asks for: a SIM, a page size (1..=100), event types (none:
/// every type) and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEventQuery {
    pub iccid: String,
    pub limit: u32,
    pub types: Vec<String>,
    pub newest_first: bool,
    pub next_token: Option<String>,
}

/// One `listSimEvents` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEventPage {
    pub items: Vec<crate::fleet::SimEvent>,
    /// `None` on the last page.
    pub next_token: Option<String>,
    /// `totalEvents`, when the API sends it.
    pub total_events: Option<u64>,
}
