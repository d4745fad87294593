//! A deterministic, realistic fleet generator for demos, tests and benchmarks.
//!
//! ICCIDs come in three contiguous ranges (real SIM orders arrive as consecutive serials), each
//! with a valid Luhn check digit; IMEIs are valid too. Statuses, products, labels, limits, IMEI
//! locks and usage are drawn from fixed weights so that the same `(n, seed)` always gives the
//! same fleet, on every platform.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::fleet::{EndCustomerLabel, ImeiLock, Sim, Snapshot, SNAPSHOT_FORMAT_VERSION};

use super::store::default_transitions;

/// The ten-digit prefixes of the three SIM orders.
const RANGES: [&str; 3] = ["8949000000", "8988303000", "8944500000"];
const LABELS: [&str; 4] = ["ACME", "Globex", "Initech", "Umbrella"];

/// The Luhn check digit for a string of digits.
pub fn luhn_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn with_luhn(body: String) -> String {
    let check = luhn_digit(&body);
    format!("{body}{check}")
}

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (v, w) in weighted {
        if roll < *w {
            return *v;
        }
        roll -= w;
    }
    weighted[0].0
}

/// The most SIMs `simfleet sandbox --generate` serves: ten times the largest fleet the load
/// tests plan. The fleet is built in memory first, so 10^11 would only exhaust the machine.
pub const MAX_GENERATED_SIMS: u64 = 10_000_000;

/// `n` SIMs, the same for the same `(n, seed)`, sorted by ICCID, with the default transitions.
pub fn generate(n: usize, seed: u64) -> Snapshot {
    let mut rng = StdRng::seed_from_u64(seed);
    let shares = [n / 2, n * 3 / 10, n - n / 2 - n * 3 / 10];
    let mut sims = Vec::with_capacity(n);
    for (range, count) in RANGES.iter().zip(shares) {
        let start: u64 = rng.random_range(0..100_000_000);
        for i in 0..count as u64 {
            let serial = start + i;
            let iccid = with_luhn(format!("{range}{serial:09}"));
            sims.push(sim(&mut rng, iccid, sims.len()));
        }
    }
    sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    Snapshot {
        format_version: SNAPSHOT_FORMAT_VERSION,
        taken_at: None,
        transitions: Some(default_transitions()),
        sims,
    }
}

fn sim(rng: &mut StdRng, iccid: String, index: usize) -> Sim {
    let statusid = pick(
        rng,
        &[
            (2, 700),
            (5, 60),
            (6, 40),
            (8, 40),
            (3, 50),
            (12, 40),
            (15, 8),
            (16, 8),
            (20, 8),
            (7, 20),
            (13, 6),
        ],
    );
    let providerid = pick(rng, &[(5, 70), (1, 10), (3, 10), (4, 10)]);
    let has_device = !matches!(statusid, 3 | 8 | 6) || rng.random_range(0..4) == 0;
    let imei = has_device.then(|| {
        with_luhn(format!(
            "35{:012}",
            rng.random_range(0..1_000_000_000_000u64)
        ))
    });
    let label = pick(
        rng,
        &[
            (Some(0), 30),
            (Some(1), 20),
            (Some(2), 15),
            (Some(3), 10),
            (None, 25),
        ],
    );
    let custom_field_1 = match rng.random_range(0..10) {
        0..=3 => Some(format!("truck-{:04}", index % 10_000)),
        4..=6 => Some(format!("meter-{:04}", index % 10_000)),
        _ => None,
    };
    let monthly_data_limit = pick(
        rng,
        &[
            (Some(100_000_000), 30),
            (Some(500_000_000), 30),
            (Some(1_000_000_000), 20),
            (None, 20),
        ],
    );
    let sms = [(Some(50), 30), (Some(100), 40), (None, 30)];
    let monthly_sms_mo_limit = pick(rng, &sms);
    let monthly_sms_mt_limit = pick(rng, &sms);
    let monthly_voice_mo_limit = pick(rng, &[(Some(600), 50), (None, 50)]);
    let imei_lock = match rng.random_range(0..20) {
        0..=2 => imei.clone().map(|i| ImeiLock {
            imei: Some(i),
            enabled: true,
        }),
        3 => Some(ImeiLock {
            imei: None,
            enabled: true,
        }),
        4..=5 => Some(ImeiLock {
            imei: None,
            enabled: false,
        }),
        _ => None,
    };
    let active = matches!(statusid, 2 | 13);
    let used = active || matches!(statusid, 5 | 12 | 15 | 16 | 20);
    let volume = if used {
        Some(data_usage(
            rng.random_range(0..1_500_000_000i64),
            monthly_data_limit,
            statusid,
        ))
    } else {
        Some(0)
    };
    let in_session = active && rng.random_range(0..3) == 0;
    Sim {
        iccid,
        statusid,
        providerid,
        activation_timestamp: used.then(|| 1_600_000_000 + rng.random_range(0..100_000_000i64)),
        imei,
        imsi: Some(format!(
            "26201{:010}",
            rng.random_range(0..10_000_000_000u64)
        )),
        msisdn: Some(format!("4915{:09}", rng.random_range(0..1_000_000_000u64))),
        in_session_since: in_session.then(|| 1_760_000_000 + rng.random_range(0..1_000_000i64)),
        monthly_data_volume: volume,
        monthly_data_limit,
        monthly_sms_mo: Some(if used {
            under(rng.random_range(0..60), monthly_sms_mo_limit)
        } else {
            0
        }),
        monthly_sms_mt: Some(if used {
            under(rng.random_range(0..60), monthly_sms_mt_limit)
        } else {
            0
        }),
        monthly_sms_mo_limit,
        monthly_sms_mt_limit,
        monthly_voice_mo: Some(if used {
            under(rng.random_range(0..900), monthly_voice_mo_limit)
        } else {
            0
        }),
        monthly_voice_mo_limit,
        custom_field_1,
        previous_month_data_volume: Some(if used {
            rng.random_range(0..1_500_000_000i64)
        } else {
            0
        }),
        nwc: in_session.then(|| "26203".to_string()),
        apn: Some("wherever.sim".to_string()),
        ip_address: in_session.then(|| {
            format!(
                "10.{}.{}.{}",
                rng.random_range(0..256),
                rng.random_range(0..256),
                rng.random_range(1..255)
            )
        }),
        end_customer_label: label.map(|i: usize| EndCustomerLabel {
            name: LABELS[i].to_string(),
        }),
        imei_lock,
    }
}

/// A count drawn for this month, kept under the SIM's limit: a SIM at its limit would be in a
/// limit-exceeded status, not in the one it was given.
fn under<T: Copy + std::ops::Rem<Output = T> + Into<i64>>(drawn: T, limit: Option<T>) -> T {
    match limit {
        Some(limit) if limit.into() > 0 => drawn % limit,
        _ => drawn,
    }
}

/// This month's data volume from a uniform draw in [0, 1.5GB): most SIMs use a small share of
/// their allowance and a few come close (the share is the draw's fraction cubed, so half the
/// SIMs use under an eighth of it), always under the limit, except a SIM in Data Usage
/// Exhausted (16), which is at or just over it. Unlimited SIMs get 1.5GB as their scale.
fn data_usage(drawn: i64, limit: Option<i64>, statusid: i32) -> i64 {
    const SCALE: i64 = 1_500_000_000;
    match limit {
        Some(limit) if statusid == 16 => limit + drawn % (limit / 20 + 1),
        _ => {
            let cap = limit.unwrap_or(SCALE);
            let share = (drawn as f64 / SCALE as f64).powi(3);
            // Below the cap: a share under 1 of a cap of at most 1.5GB.
            ((share * cap as f64) as i64).min(cap - 1)
        }
    }
}

/// The fleet `simfleet sandbox` serves without `--fleet` or `--generate`: 300 SIMs.
pub fn demo_fleet() -> Snapshot {
    generate(300, 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn_ok(s: &str) -> bool {
        let (body, check) = s.split_at(s.len() - 1);
        luhn_digit(body).to_string() == check
    }

    #[test]
    fn deterministic_valid_and_ranged() {
        let a = generate(1000, 3);
        assert_eq!(a, generate(1000, 3));
        assert_ne!(a, generate(1000, 4));
        assert_eq!(a.sims.len(), 1000);
        for s in &a.sims {
            assert_eq!(s.iccid.len(), 20);
            assert!(luhn_ok(&s.iccid), "{}", s.iccid);
            assert!(RANGES.iter().any(|r| s.iccid.starts_with(r)));
            if let Some(imei) = &s.imei {
                assert_eq!(imei.len(), 15);
                assert!(luhn_ok(imei), "{imei}");
            }
        }
        let active = a.sims.iter().filter(|s| s.statusid == 2).count();
        assert!(active > 500 && active < 900);
        assert!(a.sims.windows(2).all(|w| w[0].iccid < w[1].iccid));
        // Usage is under the SIM's own limits, but for Data Usage Exhausted; some come close.
        for s in &a.sims {
            let under =
                |used: Option<i64>, limit: Option<i64>| limit.is_none_or(|l| used.unwrap_or(0) < l);
            if s.statusid != 16 {
                assert!(under(s.monthly_data_volume, s.monthly_data_limit), "{s:?}");
            }
            assert!(under(
                s.monthly_sms_mo.map(i64::from),
                s.monthly_sms_mo_limit.map(i64::from)
            ));
            assert!(under(
                s.monthly_sms_mt.map(i64::from),
                s.monthly_sms_mt_limit.map(i64::from)
            ));
            assert!(under(s.monthly_voice_mo, s.monthly_voice_mo_limit));
        }
        let exhausted = a
            .sims
            .iter()
            .filter(|s| s.statusid == 16 && s.monthly_data_limit.is_some());
        assert!(exhausted.clone().count() > 0);
        assert!(exhausted
            .clone()
            .all(|s| s.monthly_data_volume >= s.monthly_data_limit));
        let close = a.sims.iter().filter(|s| {
            s.statusid == 2
                && s.monthly_data_limit
                    .is_some_and(|l| s.monthly_data_volume.unwrap_or(0) * 10 >= l * 9)
        });
        assert!(close.count() > 0, "some SIMs come close to their limit");
        // Luhn of a known ICCID-like number (Wikipedia example 7992739871 → 3).
        assert_eq!(luhn_digit("7992739871"), 3);
    }
}
