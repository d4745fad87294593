//! Batch jobs: `startBatchJob` selection rules, the per-SIM outcome codes of the reference, and
//! the clock that moves jobs PREPARING → RUNNING → COMPLETED at `--batch-rate` SIMs per second.
//!
//! A job fixes its target ICCIDs when it starts (include list, or filter / whole fleet minus the
//! exclude list) and then processes them in order; a SIM's detail exists once it was processed,
//! and the rest read as RUNNING (or SKIPPED once the job was cancelled).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::fleet::{EndCustomerLabel, ImeiLock, Sim};

use super::store::{now_ms, Store};
use super::token::{self, Cursor};
use super::types::{
    ApiKey, BatchErrorCounts, BatchJob, BatchJobChanges, BatchJobDetail,
    BatchJobDetailsFilterInput, BatchJobDetailsOrderInput, BatchJobList, BatchJobOwner,
    BatchJobParametersInput, BatchJobSimDetail, BatchJobSimDetailChange, BatchJobSimDetailStatus,
    BatchJobStatus, ListBatchJobsFilter, Long,
};

/// The reference's maximum size of an include or exclude list.
pub const MAX_ICCID_LIST: usize = 1000;
/// How long a job stays PREPARING before it runs.
const PREPARE_TIME: Duration = Duration::from_millis(20);
/// The customer id every sandbox object belongs to.
pub const CUSTOMER_ID: i32 = 4711;

/// The validated changes of a job. Limits keep the client's values (0 = unlimited).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub statusid: Option<i32>,
    pub custom_field_1: Option<String>,
    pub monthly_data_limit: Option<i64>,
    pub monthly_sms_mo_limit: Option<i32>,
    pub monthly_sms_mt_limit: Option<i32>,
    pub monthly_voice_mo_limit: Option<i64>,
    pub end_customer_label: Option<String>,
    pub imei_lock: Option<bool>,
}

/// What happened to one SIM of a job.
#[derive(Debug, Clone)]
pub struct Detail {
    pub status: BatchJobSimDetailStatus,
    pub codes: Vec<i32>,
    pub executed_at: i64,
}

/// One batch job and its progress.
#[derive(Debug)]
pub struct Job {
    pub id: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: BatchJobStatus,
    pub changes: Changes,
    pub targets: Vec<String>,
    pub details: Vec<Detail>,
    created: Instant,
    running_since: Option<Instant>,
    cancel_requested: bool,
    failures: BatchErrorCounts,
    successful: i32,
    failed: i32,
}

fn unlimited_if_zero<T: PartialEq + Default>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

fn bump(slot: &mut Option<i32>) {
    *slot = Some(slot.unwrap_or(0) + 1);
}

impl Job {
    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            BatchJobStatus::Preparing | BatchJobStatus::Running
        )
    }

    pub fn to_gql(&self) -> BatchJob {
        let c = &self.changes;
        BatchJob {
            batch_job_id: Long(self.id),
            started_at: Long(self.started_at),
            finished_at: self.finished_at.map(Long),
            started_by: BatchJobOwner::ApiKey(ApiKey {
                keyid: 1,
                key: "********".to_string(),
                comment: Some("simfleet sandbox".to_string()),
                created: Long(0),
                lastused: None,
                ip_address_allowlist: None,
                expires_at_ms: Some(Long(-1)),
            }),
            status_details: super::types::BatchJobStatusDetails {
                current_status: self.status,
                total_sims: self.targets.len() as i32,
                failed_sims: self.failed,
                successful_sims: self.successful,
                failures: Some(self.failures.clone()),
            },
            changes: BatchJobChanges {
                statusid: c.statusid,
                custom_field_1: c.custom_field_1.clone(),
                monthly_data_limit: c.monthly_data_limit.map(Long),
                monthly_sms_mo_limit: c.monthly_sms_mo_limit.map(|v| Long(v.into())),
                monthly_sms_mt_limit: c.monthly_sms_mt_limit.map(|v| Long(v.into())),
                monthly_voice_mo_limit: c.monthly_voice_mo_limit.map(Long),
                end_customer_label: c.end_customer_label.clone(),
                imei_lock: c.imei_lock,
            },
            customerid: CUSTOMER_ID,
        }
    }
}

fn check_list(name: &str, list: &Option<Vec<Option<String>>>, problems: &mut Vec<String>) {
    if let Some(list) = list {
        if list.len() > MAX_ICCID_LIST {
            problems.push(format!(
                "{name} has {} ICCIDs; the maximum is {MAX_ICCID_LIST}",
                list.len()
            ));
        }
        if list.iter().any(Option::is_none) {
            problems.push(format!("{name} contains null"));
        }
    }
}

fn validate(p: &BatchJobParametersInput) -> Result<Changes, String> {
    let mut problems = Vec::new();
    check_list("includeIccIds", &p.include_icc_ids, &mut problems);
    check_list("excludeIccIds", &p.exclude_icc_ids, &mut problems);
    if let Some(s) = p.statusid {
        if crate::fleet::tables::status_name(s).is_none() {
            problems.push(format!("statusid {s} is not a SIM status of the reference"));
        }
    }
    let non_negative = |name: &str, v: Option<Long>, problems: &mut Vec<String>| {
        if let Some(Long(v)) = v {
            if v < 0 {
                problems.push(format!("{name} must not be negative, got {v}"));
            }
        }
    };
    non_negative("monthly_data_limit", p.monthly_data_limit, &mut problems);
    non_negative(
        "monthly_voice_mo_limit",
        p.monthly_voice_mo_limit,
        &mut problems,
    );
    let mut sms = |name: &str, v: Option<Long>| -> Option<i32> {
        let Long(v) = v?;
        match i32::try_from(v) {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                problems.push(format!(
                    "{name} must be between 0 and 2147483647 (the SIM type reads it as Int), got {v}"
                ));
                None
            }
        }
    };
    let changes = Changes {
        statusid: p.statusid,
        custom_field_1: p.custom_field_1.clone(),
        monthly_data_limit: p.monthly_data_limit.map(|l| l.0),
        monthly_sms_mo_limit: sms("monthly_sms_mo_limit", p.monthly_sms_mo_limit),
        monthly_sms_mt_limit: sms("monthly_sms_mt_limit", p.monthly_sms_mt_limit),
        monthly_voice_mo_limit: p.monthly_voice_mo_limit.map(|l| l.0),
        end_customer_label: p.end_customer_label.clone(),
        imei_lock: p.imei_lock,
    };
    let no_change = p.statusid.is_none()
        && p.custom_field_1.is_none()
        && p.monthly_data_limit.is_none()
        && p.monthly_sms_mo_limit.is_none()
        && p.monthly_sms_mt_limit.is_none()
        && p.monthly_voice_mo_limit.is_none()
        && p.end_customer_label.is_none()
        && p.imei_lock.is_none();
    if no_change {
        problems.push(
            "a batch job must change at least one property (statusid, custom_field_1, \
             monthly_data_limit, monthly_sms_mo_limit, monthly_sms_mt_limit, \
             monthly_voice_mo_limit, end_customer_label or imei_lock)"
                .to_string(),
        );
    }
    if problems.is_empty() {
        Ok(changes)
    } else {
        Err(format!(
            "startBatchJob: {}; no batch job was started",
            problems.join("; ")
        ))
    }
}

fn page_limit(limit: Option<i32>) -> Result<usize, String> {
    match limit {
        None => Ok(100),
        Some(l) if (1..=1000).contains(&l) => Ok(l as usize),
        Some(l) => Err(format!("limit must be between 1 and 1000, got {l}")),
    }
}

impl Store {
    /// `startBatchJob`: validates, fixes the targets, and queues the job.
    pub fn start_batch_job(&mut self, p: &BatchJobParametersInput) -> Result<i64, String> {
        let changes = validate(p)?;
        let include: Vec<String> = p
            .include_icc_ids
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect();
        // An empty include list counts as absent, as the reference's wording implies.
        let targets = if !include.is_empty() {
            let mut seen = HashSet::new();
            include
                .into_iter()
                .filter(|i| seen.insert(i.clone()))
                .collect()
        } else {
            let exclude: HashSet<&String> = p.exclude_icc_ids.iter().flatten().flatten().collect();
            self.select(p.sim_filter.as_ref())
                .into_iter()
                .filter(|i| !exclude.contains(i))
                .collect()
        };
        let id = self.next_job_id;
        self.next_job_id += 1;
        self.jobs.insert(
            id,
            Job {
                id,
                started_at: now_ms(),
                finished_at: None,
                status: BatchJobStatus::Preparing,
                changes,
                targets,
                details: Vec::new(),
                created: Instant::now(),
                running_since: None,
                cancel_requested: false,
                failures: BatchErrorCounts::default(),
                successful: 0,
                failed: 0,
            },
        );
        Ok(id)
    }

    pub fn cancel_batch_job(&mut self, id: i64) -> Result<bool, String> {
        let job = self
            .jobs
            .get_mut(&id)
            .ok_or_else(|| format!("cancelBatchJob: no batch job with id {id}"))?;
        if job.is_active() {
            job.cancel_requested = true;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Moves every active job forward to `now`, at `rate` SIMs per second.
    pub fn advance_jobs(&mut self, now: Instant, rate: f64) {
        let active: Vec<i64> = self
            .jobs
            .values()
            .filter(|j| j.is_active())
            .map(|j| j.id)
            .collect();
        for id in active {
            let Some(mut job) = self.jobs.remove(&id) else {
                continue;
            };
            self.advance_job(&mut job, now, rate);
            self.jobs.insert(id, job);
        }
    }

    fn advance_job(&mut self, job: &mut Job, now: Instant, rate: f64) {
        if job.cancel_requested {
            job.status = BatchJobStatus::Cancelled;
            job.finished_at = Some(now_ms());
            return;
        }
        if job.status == BatchJobStatus::Preparing {
            if now.duration_since(job.created) < PREPARE_TIME {
                return;
            }
            job.status = BatchJobStatus::Running;
            job.running_since = Some(now);
        }
        let since = job.running_since.unwrap_or(now);
        let due = (now.duration_since(since).as_secs_f64() * rate).floor();
        let due = if due.is_finite() && due >= 0.0 {
            (due.min(job.targets.len() as f64) as usize).max(job.details.len())
        } else {
            job.targets.len()
        };
        while job.details.len() < due {
            let iccid = job.targets[job.details.len()].clone();
            let detail = self.apply_to_sim(job, &iccid);
            match detail.status {
                BatchJobSimDetailStatus::Successful => job.successful += 1,
                BatchJobSimDetailStatus::Failed => job.failed += 1,
                _ => {}
            }
            job.details.push(detail);
        }
        if job.details.len() == job.targets.len() {
            job.status = if job.failed > 0 && job.failed as usize == job.targets.len() {
                BatchJobStatus::Failed
            } else {
                BatchJobStatus::Completed
            };
            job.finished_at = Some(now_ms());
        }
    }

    /// Applies a job's changes to one SIM and records the reference's codes: 1/100/.../700 for
    /// values already set, 4 for a forbidden transition, 3 for an ICCID not in the fleet.
    fn apply_to_sim(&mut self, job: &mut Job, iccid: &str) -> Detail {
        let executed_at = now_ms();
        let c = job.changes.clone();
        let Some(sim) = self.sims.get(iccid).cloned() else {
            bump(&mut job.failures.status_id);
            return Detail {
                status: BatchJobSimDetailStatus::Failed,
                codes: vec![3],
                executed_at,
            };
        };
        let mut next = sim.clone();
        let mut codes = Vec::new();
        let mut changed = false;
        let mut failed = false;
        let mut status_to = None;

        if let Some(to) = c.statusid {
            if super::store::heading_to(sim.statusid) == to {
                codes.push(1);
            } else if self.transition_allowed(sim.statusid, to, sim.providerid) {
                status_to = Some(to);
                changed = true;
            } else {
                codes.push(4);
                failed = true;
                bump(&mut job.failures.status_id);
            }
        }
        if let Some(v) = &c.custom_field_1 {
            let v = (!v.is_empty()).then(|| v.clone());
            if next.custom_field_1 == v {
                codes.push(100);
            } else {
                next.custom_field_1 = v;
                changed = true;
            }
        }
        if let Some(v) = c.monthly_data_limit {
            let v = unlimited_if_zero(v);
            if next.monthly_data_limit == v {
                codes.push(200);
            } else {
                next.monthly_data_limit = v;
                changed = true;
            }
        }
        for (code, value, slot) in [
            (300, c.monthly_sms_mo_limit, &mut next.monthly_sms_mo_limit),
            (400, c.monthly_sms_mt_limit, &mut next.monthly_sms_mt_limit),
        ] {
            if let Some(v) = value {
                let v = unlimited_if_zero(v);
                if *slot == v {
                    codes.push(code);
                } else {
                    *slot = v;
                    changed = true;
                }
            }
        }
        if let Some(v) = c.monthly_voice_mo_limit {
            let v = unlimited_if_zero(v);
            if next.monthly_voice_mo_limit == v {
                codes.push(500);
            } else {
                next.monthly_voice_mo_limit = v;
                changed = true;
            }
        }
        if let Some(v) = &c.end_customer_label {
            let v = (!v.is_empty()).then(|| EndCustomerLabel { name: v.clone() });
            if next.end_customer_label == v {
                codes.push(600);
            } else {
                next.end_customer_label = v;
                changed = true;
            }
        }
        let mut restores_service = false;
        if let Some(lock) = c.imei_lock {
            let enabled = next.imei_lock.as_ref().is_some_and(|l| l.enabled);
            if fails_imei_lock_writes(&sim) {
                codes.push(701);
                failed = true;
                bump(&mut job.failures.imei_lock);
            } else if enabled == lock {
                codes.push(700);
            } else {
                next.imei_lock = Some(ImeiLock {
                    imei: None,
                    enabled: lock,
                });
                restores_service = !lock && sim.statusid == 20;
                changed = true;
            }
        }
        let by = super::events::Actor::BatchJob(job.id);
        self.events.lock_changed(
            iccid,
            sim.imei_lock.as_ref(),
            next.imei_lock.as_ref(),
            by,
            executed_at,
        );
        self.sims.insert(iccid.to_string(), next);
        if restores_service && status_to.is_none() {
            if let Some(s) = self.sims.get_mut(iccid) {
                s.statusid = 2;
            }
            self.events
                .status_changed(iccid, sim.statusid, 2, by, executed_at);
        }
        if let Some(to) = status_to {
            self.set_status(iccid, to, by, executed_at);
        }
        if changed {
            self.touch();
        }
        let status = if failed {
            BatchJobSimDetailStatus::Failed
        } else if changed {
            BatchJobSimDetailStatus::Successful
        } else {
            BatchJobSimDetailStatus::Skipped
        };
        Detail {
            status,
            codes,
            executed_at,
        }
    }

    pub fn get_batch_job(&self, id: i64) -> Result<BatchJob, String> {
        self.jobs
            .get(&id)
            .map(Job::to_gql)
            .ok_or_else(|| format!("getBatchJob: no batch job with id {id}"))
    }

    /// `listBatchJobs`: newest first, optionally one status, paged by the last id.
    pub fn list_batch_jobs(
        &self,
        filter: Option<&ListBatchJobsFilter>,
        limit: Option<i32>,
        next_token: Option<&str>,
    ) -> Result<BatchJobList, String> {
        let limit = page_limit(limit)?;
        let status = filter.and_then(|f| f.status);
        let digest = token::query_digest(&format!("jobs|{status:?}"));
        let cursor = token::decode(next_token, &digest)?;
        let after: Option<i64> = match &cursor {
            None => None,
            Some(c) => Some(
                c.k.parse()
                    .map_err(|_| "malformed nextToken: not a token this server issued")?,
            ),
        };
        let matching: Vec<&Job> = self
            .jobs
            .values()
            .rev()
            .filter(|j| status.is_none_or(|s| j.status == s))
            .collect();
        let total = matching.len();
        let rest: Vec<&&Job> = matching
            .iter()
            .filter(|j| after.is_none_or(|a| j.id < a))
            .collect();
        let page: Vec<&&Job> = rest.iter().take(limit).copied().collect();
        let next_token = (rest.len() > limit)
            .then(|| page.last())
            .flatten()
            .map(|j| {
                token::encode(&Cursor {
                    q: digest.clone(),
                    k: j.id.to_string(),
                    v: None,
                })
            });
        Ok(BatchJobList {
            items: Some(page.iter().map(|j| Some(j.to_gql())).collect()),
            next_token,
            total_count: Long(total as i64),
        })
    }

    /// `listBatchJobDetails`: one entry per target SIM, filtered by status and quick search.
    pub fn list_batch_job_details(
        &self,
        id: i64,
        filter: Option<&BatchJobDetailsFilterInput>,
        order: Option<&BatchJobDetailsOrderInput>,
        limit: Option<i32>,
        next_token: Option<&str>,
    ) -> Result<BatchJobDetail, String> {
        let job = self
            .jobs
            .get(&id)
            .ok_or_else(|| format!("listBatchJobDetails: no batch job with id {id}"))?;
        let limit = page_limit(limit)?;
        let desc = match order.and_then(|o| o.executed_at.as_deref()) {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("asc") => false,
            Some(d) if d.eq_ignore_ascii_case("desc") => true,
            Some(d) => {
                return Err(format!(
                    "order.executedAt must be \"asc\" or \"desc\", got {d:?}"
                ))
            }
        };
        let statuses: Option<Vec<BatchJobSimDetailStatus>> = filter
            .and_then(|f| f.status.as_ref())
            .map(|s| s.iter().flatten().copied().collect());
        let needle = filter
            .and_then(|f| f.quick_search.as_deref())
            .map(str::to_lowercase)
            .filter(|n| !n.is_empty());
        let digest = token::query_digest(&format!("details|{id}|{statuses:?}|{needle:?}|{desc}"));
        let cursor = token::decode(next_token, &digest)?;
        let after: Option<usize> = match &cursor {
            None => None,
            Some(c) => Some(
                c.k.parse()
                    .map_err(|_| "malformed nextToken: not a token this server issued")?,
            ),
        };
        let pending_status = if job.status == BatchJobStatus::Cancelled {
            BatchJobSimDetailStatus::Skipped
        } else {
            BatchJobSimDetailStatus::Running
        };
        let entry = |i: usize| -> BatchJobSimDetail {
            let iccid = &job.targets[i];
            let custom_field_1 = self.sims.get(iccid).and_then(|s| s.custom_field_1.clone());
            let details = match job.details.get(i) {
                Some(d) => BatchJobSimDetailChange {
                    executed_at: Some(Long(d.executed_at)),
                    error_codes: Some(d.codes.iter().map(|c| Some(*c)).collect()),
                    status: d.status,
                },
                None => BatchJobSimDetailChange {
                    executed_at: None,
                    error_codes: Some(Vec::new()),
                    status: pending_status,
                },
            };
            BatchJobSimDetail {
                iccid: iccid.clone(),
                custom_field_1,
                details,
            }
        };
        let indices: Box<dyn Iterator<Item = usize>> = if desc {
            Box::new((0..job.targets.len()).rev())
        } else {
            Box::new(0..job.targets.len())
        };
        let matching: Vec<(usize, BatchJobSimDetail)> = indices
            .map(|i| (i, entry(i)))
            .filter(|(_, e)| {
                statuses
                    .as_ref()
                    .is_none_or(|s| s.contains(&e.details.status))
                    && needle.as_deref().is_none_or(|n| {
                        e.iccid.contains(n)
                            || e.custom_field_1
                                .as_deref()
                                .is_some_and(|c| c.to_lowercase().contains(n))
                    })
            })
            .collect();
        let total = matching.len();
        let rest: Vec<&(usize, BatchJobSimDetail)> = matching
            .iter()
            .filter(|(i, _)| after.is_none_or(|a| if desc { *i < a } else { *i > a }))
            .collect();
        let page: Vec<&(usize, BatchJobSimDetail)> = rest.iter().take(limit).copied().collect();
        let next_token = (rest.len() > limit)
            .then(|| page.last())
            .flatten()
            .map(|(i, _)| {
                token::encode(&Cursor {
                    q: digest.clone(),
                    k: i.to_string(),
                    v: None,
                })
            });
        Ok(BatchJobDetail {
            sim_list: page.into_iter().map(|(_, e)| Some(e.clone())).collect(),
            next_token,
            total_count: Long(total as i64),
        })
    }
}

/// The failure knob (docs/sandbox.md, "Failure knobs"): a SIM whose `custom_field_1` starts
/// with this fails every IMEI lock write, with code 701 in a batch job, so tests can produce
/// per-SIM failures and, when every SIM of a job has it, a FAILED batch job.
pub const FAIL_IMEI_LOCK_PREFIX: &str = "sandbox-fail-imei-lock";

pub(crate) fn fails_imei_lock_writes(sim: &Sim) -> bool {
    sim.custom_field_1
        .as_deref()
        .is_some_and(|v| v.starts_with(FAIL_IMEI_LOCK_PREFIX))
}
