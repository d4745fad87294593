//! The GraphQL root: every documented query and mutation, resolved against the [`Store`].
//!
//! Operations the sandbox does not simulate still exist with their documented signatures, so
//! the exported SDL matches the reference, and answer "<op> is not supported by the sandbox".
//! Subscriptions are in `schema/wherever-sim.graphql` but are not served.

use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::{
    Context, EmptySubscription, Error, MaybeUndefined, Object, Result, Schema, ID,
};

use super::batch::CUSTOMER_ID;
use super::store::{Arg, SimUpdate, Store};
use super::types::*;

/// The state every resolver shares.
pub struct Shared {
    pub store: Mutex<Store>,
}

impl Shared {
    pub fn lock(&self) -> Result<MutexGuard<'_, Store>> {
        self.store
            .lock()
            .map_err(|_| Error::new("sandbox state is unavailable after an internal panic"))
    }
}

pub type SandboxSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn build(shared: Arc<Shared>) -> SandboxSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .data(shared)
        .finish()
}

fn shared<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Shared>> {
    ctx.data::<Arc<Shared>>()
}

fn unsupported<T>(op: &str) -> Result<T> {
    Err(Error::new(format!("{op} is not supported by the sandbox")))
}

fn arg<T, U>(v: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Arg<U> {
    match v {
        MaybeUndefined::Undefined => Arg::Absent,
        MaybeUndefined::Null => Arg::Null,
        MaybeUndefined::Value(v) => Arg::Value(f(v)),
    }
}

pub struct Query;

#[Object(name = "Query")]
impl Query {
    async fn get_available_status_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<Option<SimTransition>>> {
        let store = shared(ctx)?.lock()?;
        Ok(store
            .transitions
            .iter()
            .map(|t| {
                Some(SimTransition {
                    fromstatusid: t.fromstatusid,
                    tostatusid: t.tostatusid,
                    providerid: t.providerid,
                })
            })
            .collect())
    }

    async fn get_batch_job(&self, ctx: &Context<'_>, batch_job_id: Long) -> Result<BatchJob> {
        Ok(shared(ctx)?.lock()?.get_batch_job(batch_job_id.0)?)
    }

    async fn get_customer_data(&self) -> Customer {
        Customer {
            customerid: CUSTOMER_ID,
            current_name: "simfleet sandbox".to_string(),
            is_test_customer: true,
        }
    }

    async fn get_data_consumption_report(
        &self,
        iccid: ID,
        filter_options: DataConsumptionFilterInput,
    ) -> Result<Option<Vec<Option<DataConsumption>>>> {
        let _ = (iccid, filter_options);
        unsupported("getDataConsumptionReport")
    }

    async fn get_statistics(
        &self,
        ctx: &Context<'_>,
        customerid: Option<i32>,
    ) -> Result<Statistic> {
        if customerid.is_some_and(|c| c != CUSTOMER_ID) {
            return Err(Error::new(format!(
                "getStatistics: customerid may only be used by admin accounts; this sandbox has customer {CUSTOMER_ID}"
            )));
        }
        let store = shared(ctx)?.lock()?;
        let (mut active, mut current, mut previous) = (0i64, 0i64, 0i64);
        for sim in store.sims.values() {
            if sim.statusid == 2 {
                active += 1;
            }
            current = current.saturating_add(sim.monthly_data_volume.unwrap_or(0));
            previous = previous.saturating_add(sim.previous_month_data_volume.unwrap_or(0));
        }
        Ok(Statistic {
            total_sim_cards: i32::try_from(store.sims.len()).unwrap_or(i32::MAX),
            active_sim_cards: i32::try_from(active).unwrap_or(i32::MAX),
            current_monthly_data_usage: Long(current),
            previous_month_data_usage: Long(previous),
        })
    }

    async fn list_api_keys(&self) -> Result<Vec<Option<ApiKey>>> {
        unsupported("listApiKeys")
    }

    async fn list_batch_job_details(
        &self,
        ctx: &Context<'_>,
        batch_job_id: Long,
        filter: Option<BatchJobDetailsFilterInput>,
        order: Option<BatchJobDetailsOrderInput>,
        limit: Option<i32>,
        next_token: Option<String>,
    ) -> Result<BatchJobDetail> {
        Ok(shared(ctx)?.lock()?.list_batch_job_details(
            batch_job_id.0,
            filter.as_ref(),
            order.as_ref(),
            limit,
            next_token.as_deref(),
        )?)
    }

    async fn list_batch_jobs(
        &self,
        ctx: &Context<'_>,
        filter: Option<ListBatchJobsFilter>,
        limit: Option<i32>,
        next_token: Option<String>,
    ) -> Result<BatchJobList> {
        Ok(shared(ctx)?
            .lock()?
            .list_batch_jobs(filter.as_ref(), limit, next_token.as_deref())?)
    }

    async fn list_billing_data(
        &self,
        limit: i32,
        next_token: Option<String>,
    ) -> Result<Option<BillingDataList>> {
        let _ = (limit, next_token);
        unsupported("listBillingData")
    }

    async fn list_end_customer_labels(
        &self,
        ctx: &Context<'_>,
        filter: Option<ListEndCustomerLabelsFilterInput>,
        limit: i32,
        next_token: Option<String>,
    ) -> Result<Option<EndCustomerLabels>> {
        if !(1..=100).contains(&limit) {
            return Err(Error::new(format!(
                "limit must be between 1 and 100, got {limit}"
            )));
        }
        let name = filter.and_then(|f| f.name);
        let bw = name.as_ref().and_then(|n| n.begins_with.clone());
        let ct = name.as_ref().and_then(|n| n.contains.clone());
        let digest = super::token::query_digest(&format!("labels|{bw:?}|{ct:?}"));
        let cursor = super::token::decode(next_token.as_deref(), &digest)?;
        let labels = shared(ctx)?.lock()?.labels(bw.as_deref(), ct.as_deref());
        let rest: Vec<String> = labels
            .into_iter()
            .filter(|l| cursor.as_ref().is_none_or(|c| *l > c.k))
            .collect();
        let limit = limit as usize;
        let page: Vec<String> = rest.iter().take(limit).cloned().collect();
        let next_token = (rest.len() > limit)
            .then(|| page.last())
            .flatten()
            .map(|l| {
                super::token::encode(&super::token::Cursor {
                    q: digest.clone(),
                    k: l.clone(),
                    v: None,
                })
            });
        Ok(Some(EndCustomerLabels {
            items: Some(
                page.into_iter()
                    .map(|name| Some(EndCustomerLabelGql { name }))
                    .collect(),
            ),
            next_token,
        }))
    }

    async fn list_sim_events(
        &self,
        ctx: &Context<'_>,
        iccid: ID,
        limit: i32,
        next_token: Option<String>,
        filter_options: Option<SimEventFilterInput>,
        order: Option<SimEventOrder>,
    ) -> Result<Option<SimEvents>> {
        let store = shared(ctx)?.lock()?;
        if !store.sims.contains_key(iccid.as_str()) {
            return Err(Error::new(format!(
                "listSimEvents: no SIM with ICCID {:?} in this fleet",
                iccid.as_str()
            )));
        }
        let page = store.events.list(
            &iccid,
            limit,
            next_token.as_deref(),
            filter_options.as_ref(),
            order.as_ref(),
        )?;
        Ok(Some(SimEvents {
            items: Some(
                page.items
                    .into_iter()
                    .map(|e| {
                        Some(SimEvent {
                            id: ID(e.id.to_string()),
                            iccid: ID(e.iccid),
                            timestamp_milliseconds: Long(e.timestamp_ms),
                            type_: e.kind,
                            details: Some(e.details),
                            json_data: Some(e.json_data),
                        })
                    })
                    .collect(),
            ),
            next_token: page.next_token,
            total_events: Some(Long(page.total as i64)),
        }))
    }

    async fn list_sims(
        &self,
        ctx: &Context<'_>,
        filter: Option<SimFilterInput>,
        order: Option<SimListOrder>,
        limit: i32,
        quick_search: Option<String>,
        next_token: Option<String>,
    ) -> Result<Option<SimList>> {
        let page = shared(ctx)?.lock()?.list_sims(
            filter.as_ref(),
            order.as_ref(),
            limit,
            quick_search.as_deref(),
            next_token.as_deref(),
        )?;
        Ok(Some(SimList {
            items: Some(page.items.iter().map(|s| Some(SimGql::from(s))).collect()),
            next_token: page.next_token,
            total_sims: Long(page.total as i64),
        }))
    }

    async fn list_user_accounts(
        &self,
        customerid: Option<i32>,
    ) -> Result<Vec<Option<UserAccount>>> {
        let _ = customerid;
        unsupported("listUserAccounts")
    }
}

pub struct Mutation;

#[Object(name = "Mutation")]
impl Mutation {
    async fn cancel_batch_job(&self, ctx: &Context<'_>, batch_job_id: Long) -> Result<bool> {
        Ok(shared(ctx)?.lock()?.cancel_batch_job(batch_job_id.0)?)
    }

    async fn cancel_location(&self, iccid: ID) -> Result<CancelLocation> {
        let _ = iccid;
        unsupported("cancelLocation")
    }

    async fn create_api_key(
        &self,
        comment: Option<String>,
        ip_address_allowlist: Option<Vec<Option<String>>>,
        expires_at_ms: Option<Long>,
    ) -> Result<Option<ApiKey>> {
        let _ = (comment, ip_address_allowlist, expires_at_ms);
        unsupported("createApiKey")
    }

    async fn create_user_account(
        &self,
        email: String,
        groups: Option<Vec<Option<String>>>,
        zoneinfo: String,
        locale: String,
    ) -> Result<UserAccount> {
        let _ = (email, groups, zoneinfo, locale);
        unsupported("createUserAccount")
    }

    async fn delete_api_key(&self, keyid: ID) -> Result<Option<ApiKey>> {
        let _ = keyid;
        unsupported("deleteApiKey")
    }

    async fn delete_user_account(&self, id: String) -> Result<UserAccount> {
        let _ = id;
        unsupported("deleteUserAccount")
    }

    async fn resend_user_account_invite(&self, id: String) -> Result<bool> {
        let _ = id;
        unsupported("resendUserAccountInvite")
    }

    async fn send_sms(&self, iccid: ID, text: String, originator: Option<String>) -> Result<bool> {
        let _ = (iccid, text, originator);
        unsupported("sendSms")
    }

    async fn start_batch_job(
        &self,
        ctx: &Context<'_>,
        params: BatchJobParametersInput,
    ) -> Result<CreateBatchJobResult> {
        let id = shared(ctx)?.lock()?.start_batch_job(&params)?;
        Ok(CreateBatchJobResult {
            batch_job_id: Long(id),
        })
    }

    async fn update_api_key(
        &self,
        keyid: ID,
        comment: Option<String>,
        ip_address_allowlist: Option<Vec<Option<String>>>,
    ) -> Result<Option<ApiKey>> {
        let _ = (keyid, comment, ip_address_allowlist);
        unsupported("updateApiKey")
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_sim(
        &self,
        ctx: &Context<'_>,
        iccid: ID,
        statusid: MaybeUndefined<i32>,
        #[graphql(name = "monthly_data_limit")] monthly_data_limit: MaybeUndefined<Long>,
        #[graphql(name = "custom_field_1")] custom_field_1: MaybeUndefined<String>,
        #[graphql(name = "monthly_sms_mo_limit")] monthly_sms_mo_limit: MaybeUndefined<Long>,
        #[graphql(name = "monthly_sms_mt_limit")] monthly_sms_mt_limit: MaybeUndefined<Long>,
        #[graphql(name = "monthly_voice_mo_limit")] monthly_voice_mo_limit: MaybeUndefined<Long>,
        #[graphql(name = "end_customer_label")] end_customer_label: MaybeUndefined<
            EndCustomerLabelInput,
        >,
        #[graphql(name = "imei_lock")] imei_lock: MaybeUndefined<ImeiLockInput>,
    ) -> Result<SimGql> {
        let update = SimUpdate {
            iccid: iccid.0,
            statusid: arg(statusid, |v| v),
            monthly_data_limit: arg(monthly_data_limit, |v| v.0),
            custom_field_1: arg(custom_field_1, |v| v),
            monthly_sms_mo_limit: arg(monthly_sms_mo_limit, |v| v.0),
            monthly_sms_mt_limit: arg(monthly_sms_mt_limit, |v| v.0),
            monthly_voice_mo_limit: arg(monthly_voice_mo_limit, |v| v.0),
            end_customer_label: arg(end_customer_label, |v| v),
            imei_lock: arg(imei_lock, |v| v),
        };
        let sim = shared(ctx)?.lock()?.update_sim(update)?;
        Ok(SimGql::from(&sim))
    }

    async fn update_user_account(
        &self,
        id: String,
        groups: Option<Vec<Option<String>>>,
        zoneinfo: Option<String>,
        locale: Option<String>,
    ) -> Result<UserAccount> {
        let _ = (id, groups, zoneinfo, locale);
        unsupported("updateUserAccount")
    }
}
