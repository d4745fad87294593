//! Snapshot tests of every renderer: over the example spec (`examples/fleet`) against the
//! sandbox's demo fleet, masked and unmasked, and over one small hand-built plan that has a bit of
//! everything; plus the schema-is-current check, the caps on long lists and the markdown size cap
//! on a million-SIM plan.

use crate::fleet::{EndCustomerLabel, ImeiLock, Sim};
use crate::plan::tests::{build, iccid, input, origin, sim, table, want};
use crate::plan::{BlockedChange, FieldChange, Guards, Plan, RiskFlag, SimChange};
use crate::spec::{DesiredValue, Field, ImeiLockSetting, Limit, OriginKind, SimEntry};

use super::*;

/// The day the example plans are judged on (days since 1970-01-01): 2027-06-01.
const EXAMPLE_TODAY: i64 = 20_970;

/// The plan of the example spec (`examples/fleet`, read through the spec loader) against the
/// demo fleet `simfleet sandbox` serves, as `simfleet plan examples/fleet --sandbox` makes it.
/// The one place these tests build a plan from spec files.
fn example_plan() -> Plan {
    let loaded = crate::spec::load(std::path::Path::new("examples/fleet")).expect("example spec");
    // Waivers are judged by a pinned date, as `SIMFLEET_TODAY` pins the binary's.
    let spec = loaded.spec.with_today(EXAMPLE_TODAY);
    let snapshot = crate::sandbox::demo_fleet();
    let live = crate::fleet::LiveFleet {
        sims_total: snapshot.sims.len() as u64,
        sims: snapshot.sims,
        coverage: crate::fleet::Coverage::Full,
        transitions: snapshot.transitions,
        running_batch_jobs: Vec::new(),
    };
    let config = spec.config();
    let request = crate::plan::PlanRequest {
        spec: &spec,
        target: None,
        guards: Guards {
            max_changes: config.max_changes,
            max_percent: config.max_percent,
            allow_status_cuts: config.allow_status_cuts,
            allow_irreversible: config.allow_irreversible,
            status_cuts_allowed_by: crate::plan::AllowedBy::Config,
            irreversible_allowed_by: crate::plan::AllowedBy::Config,
        },
    };
    crate::plan::plan_fleet(&request, live).expect("example plan builds")
}

const VERBOSE_MASKED: TextOptions = TextOptions {
    verbose: true,
    color: false,
    mask: true,
};

#[test]
fn example_text_snapshot() {
    insta::assert_snapshot!(text(&example_plan(), TextOptions::default()));
}

#[test]
fn example_text_masked_snapshot() {
    insta::assert_snapshot!(text(&example_plan(), VERBOSE_MASKED));
}

#[test]
fn example_markdown_snapshot() {
    insta::assert_snapshot!(markdown(&example_plan(), MarkdownOptions { mask: false }));
}

#[test]
fn example_markdown_masked_snapshot() {
    insta::assert_snapshot!(markdown(&example_plan(), MarkdownOptions { mask: true }));
}

#[test]
fn example_json_snapshot() {
    insta::assert_snapshot!(json(&example_plan()));
}

#[test]
fn example_json_masked_snapshot() {
    insta::assert_snapshot!(json_masked(&example_plan()));
}

/// Digit runs of exactly 19 or 20 digits standing alone (`\b\d{19,20}\b`): whole ICCIDs.
fn whole_iccids(out: &str) -> Vec<&str> {
    out.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| (19..=20).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

#[test]
fn masked_output_holds_no_whole_iccid_in_any_format() {
    let plan = example_plan();
    assert!(!whole_iccids(&text(&plan, TextOptions::default())).is_empty());
    for (name, out) in [
        ("text", text(&plan, VERBOSE_MASKED)),
        (
            "text",
            text(
                &plan,
                TextOptions {
                    mask: true,
                    ..TextOptions::default()
                },
            ),
        ),
        ("markdown", markdown(&plan, MarkdownOptions { mask: true })),
        ("json", json_masked(&plan)),
    ] {
        assert_eq!(whole_iccids(&out), Vec::<&str>::new(), "{name}:\n{out}");
    }
}

#[test]
fn lowered_limits_count_sims_not_field_changes() {
    let plan = example_plan();
    let lowered = |c: &SimChange| {
        c.fields()
            // Plain lowered limits: one at or below the usage is listed with the usage cuts.
            .filter(|f| {
                f.flags.contains(RiskFlag::LoweredLimit) && !f.flags.contains(RiskFlag::UsageCut)
            })
            .count()
    };
    let sims = plan.changes.iter().filter(|c| lowered(c) > 0).count();
    let fields: usize = plan.changes.iter().map(lowered).sum();
    assert!(
        fields > sims,
        "the example has SIMs with two lowered limits"
    );
    let out = markdown(&plan, MarkdownOptions::default());
    assert!(
        out.contains(&format!(
            "**Lowered limits**: {sims} SIMs ({fields} field changes)"
        )),
        "{out}"
    );
    let out = text(&plan, TextOptions::default());
    assert!(
        out.contains(&format!(
            "\n  Lowered limits: {sims} SIMs ({fields} field changes)\n"
        )),
        "{out}"
    );
}

/// Every change group's line and source, without its count.
fn group_headers(out: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].contains(" → ") && w[0].contains("  × "))
        .map(|w| {
            let (what, count) = w[0].split_once("  × ").unwrap_or_default();
            // Flags (and usage) after the count: the same values with and without a usage flag
            // are two groups.
            let flags = count.split_once("  ").map_or("", |(_, flags)| flags);
            format!("{what} {flags} {}", w[1].trim())
        })
        .collect()
}

#[test]
fn no_two_change_groups_read_the_same() {
    let plan = example_plan();
    let out = text(&plan, TextOptions::default());
    let headers = group_headers(&out);
    assert!(headers.len() > 20, "{out}");
    let unique: std::collections::BTreeSet<&String> = headers.iter().collect();
    assert_eq!(unique.len(), headers.len(), "{out}");
    // A lock never set and a disabled lock are different values, shown differently.
    assert!(out.contains("imei_lock: none → auto"), "{out}");
    assert!(out.contains("imei_lock: off → auto"), "{out}");
}

#[test]
fn values_read_in_the_units_the_spec_writes() {
    let plan = example_plan();
    for out in [
        text(&plan, TextOptions::default()),
        markdown(&plan, MarkdownOptions::default()),
    ] {
        // globex-meters sets `monthly_data_limit: 1.5GB`.
        assert!(out.contains("→ 1.5GB"), "{out}");
        assert!(!out.contains("1500MB"), "{out}");
    }
}

fn fixture_plan() -> Plan {
    let mut sims: Vec<Sim> = Vec::new();
    let mut desired: Vec<SimEntry> = Vec::new();
    let eu = |v: &[(Field, DesiredValue)], n: u64| want(n, v);
    // 1-3: data limit 100MB → 500MB, label set.
    for n in 1..=3 {
        let mut s = sim(n, 2);
        s.monthly_data_limit = Some(100_000_000);
        s.end_customer_label = Some(EndCustomerLabel { name: "OLD".into() });
        sims.push(s);
        desired.push(eu(
            &[
                (
                    Field::MonthlyDataLimit,
                    DesiredValue::Limit(Limit::Value(500_000_000)),
                ),
                (
                    Field::EndCustomerLabel,
                    DesiredValue::Text(Some("ACME".into())),
                ),
            ],
            n,
        ));
    }
    // 4: activation with limits first, SMS unlimited.
    let mut s = sim(4, 5);
    s.monthly_sms_mo_limit = Some(50);
    sims.push(s);
    desired.push(eu(
        &[
            (Field::Status, DesiredValue::Status(2)),
            (
                Field::MonthlySmsMoLimit,
                DesiredValue::Limit(Limit::Unlimited),
            ),
        ],
        4,
    ));
    // 5: cut (stopped by the guard).
    sims.push(sim(5, 2));
    desired.push(eu(&[(Field::Status, DesiredValue::Status(5))], 5));
    // 6: IMEI unlock on status 20.
    let mut s = sim(6, 20);
    s.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    sims.push(s);
    desired.push(eu(
        &[(
            Field::ImeiLock,
            DesiredValue::ImeiLock(ImeiLockSetting::Off),
        )],
        6,
    ));
    // 7: blocked, 8: pending, 9: held, 10: skipped.
    for (n, status) in [(7, 3), (8, 13), (9, 16), (10, 7)] {
        sims.push(sim(n, status));
        desired.push(eu(&[(Field::Status, DesiredValue::Status(2))], n));
    }
    // 11: a sims: entry locking to a specific IMEI, with a lowered voice limit.
    let mut s = sim(11, 2);
    s.monthly_voice_mo_limit = Some(600);
    sims.push(s);
    let mut d = want(
        11,
        &[
            (
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Imei("490154203237518".into())),
            ),
            (
                Field::MonthlyVoiceMoLimit,
                DesiredValue::Limit(Limit::Value(60)),
            ),
        ],
    );
    for (_, v) in d.settings.iter_mut() {
        std::sync::Arc::make_mut(&mut v.origin).file = "fleet/sims.yaml".into();
        std::sync::Arc::make_mut(&mut v.origin).kind = OriginKind::SimEntry { iccid: iccid(11) };
    }
    desired.push(d);
    // 12: unmanaged.
    sims.push(sim(12, 2));

    let t = table();
    let mut i = input(&sims, &desired, Some(&t));
    i.guards = Guards {
        allow_irreversible: true,
        ..Guards::default()
    };
    i.running_batch_jobs = &[1707747614];
    i.sims_total = 12;
    build(i).expect("fixture plan builds")
}

#[test]
fn text_snapshot() {
    let plan = fixture_plan();
    insta::assert_snapshot!(text(&plan, TextOptions::default()));
}

#[test]
fn text_verbose_masked_snapshot() {
    let plan = fixture_plan();
    insta::assert_snapshot!(text(
        &plan,
        TextOptions {
            verbose: true,
            color: false,
            mask: true
        }
    ));
}

#[test]
fn markdown_snapshot() {
    let plan = fixture_plan();
    insta::assert_snapshot!(markdown(&plan, MarkdownOptions { mask: true }));
}

#[test]
fn json_snapshot() {
    let plan = fixture_plan();
    insta::assert_snapshot!(json(&plan));
}

#[test]
fn json_follows_the_design_contract_and_loads_back() {
    let plan = fixture_plan();
    let text = json(&plan);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for key in [
        "format_version",
        "summary",
        "changes",
        "actions",
        "blocked",
        "warnings",
        "checksum",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in [
        "sims_total",
        "sims_managed",
        "sims_changing",
        "field_changes",
        "blocked",
        "api_calls",
    ] {
        assert!(v["summary"].get(key).is_some(), "missing summary.{key}");
    }
    let first = &v["changes"][0];
    assert!(first["iccid"].is_string());
    let field = &first["fields"][0];
    for key in ["field", "from", "to", "source"] {
        assert!(field.get(key).is_some(), "missing field.{key}");
    }
    assert_eq!(
        Plan::from_file_json(&text).expect("json output loads as a plan"),
        plan
    );
}

#[test]
fn colour_only_when_asked() {
    let plan = fixture_plan();
    let plain = text(&plan, TextOptions::default());
    assert!(!plain.contains('\u{1b}'));
    let coloured = text(
        &plan,
        TextOptions {
            color: true,
            ..TextOptions::default()
        },
    );
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn masking_hides_all_but_the_last_four_digits() {
    let plan = fixture_plan();
    for out in [
        text(
            &plan,
            TextOptions {
                verbose: true,
                mask: true,
                ..TextOptions::default()
            },
        ),
        markdown(&plan, MarkdownOptions { mask: true }),
    ] {
        assert!(!out.contains(&iccid(1)), "{out}");
        assert!(!out.contains("490154203237518"));
        assert!(out.contains("0001"));
    }
    assert!(text(&plan, TextOptions::default()).contains(&iccid(1)));
}

#[test]
fn every_change_cites_its_source() {
    let plan = fixture_plan();
    let out = text(&plan, TextOptions::default());
    assert!(out.contains("fleet/test.yaml:10:5 (rule r)"));
    assert!(out.contains("fleet/sims.yaml:10:5 (sims entry"));
    assert!(out.contains(&plan.checksum));
    assert!(markdown(&plan, MarkdownOptions::default()).contains(&plan.checksum));
}

#[test]
fn schema_file_is_current() {
    for (name, generated) in [
        ("plan.schema.json", plan_schema()),
        ("plan-file.schema.json", crate::render::plan_file_schema()),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        if std::env::var_os("SIMFLEET_UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).expect("write the schema");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "schema/{name} is stale: run `SIMFLEET_UPDATE_SCHEMAS=1 cargo test --lib render::tests::schema_file_is_current`"
        );
    }
}

/// A plan of `n` changing SIMs with many distinct `from` values (so many change groups), built
/// directly: the renderer only reads the `Plan`, and building it through `plan::build` would
/// spend the test's time hashing in an unoptimised debug build.
fn large_plan(n: u64) -> Plan {
    let mut plan = fixture_plan();
    plan.changes = (0..n)
        .map(|i| {
            SimChange::new(
                iccid(i),
                vec![FieldChange {
                    field: Field::MonthlyDataLimit,
                    from: crate::plan::FieldValue::Int(1_000 + (i % 5_000) as i64),
                    to: crate::plan::FieldValue::Int(1),
                    via: crate::plan::Via::default(),
                    source: origin(&format!("rule-{}", i % 20), 10 + (i % 20) as u32).into(),
                    flags: RiskFlag::LoweredLimit.into(),
                    implied: false,
                    usage: None,
                }],
            )
        })
        .collect();
    plan.blocked = (0..n / 10)
        .map(|i| BlockedChange {
            iccid: iccid(i),
            field: Field::Status,
            from: crate::plan::FieldValue::Int(3),
            to: crate::plan::FieldValue::Int(2),
            source: origin("activate", 3).into(),
            reason: format!("reason {}", i % 1000),
        })
        .collect();
    plan.summary.sims_changing = n;
    plan.summary.field_changes = n;
    plan
}

#[test]
fn markdown_of_a_million_sim_plan_stays_under_the_limit() {
    let plan = large_plan(1_000_000);
    for mask in [true, false] {
        let out = markdown(&plan, MarkdownOptions { mask });
        assert!(out.len() < MARKDOWN_LIMIT, "{} chars", out.len());
        assert!(out.contains("the full plan is in the JSON artifact"));
        assert!(out.contains(&plan.checksum));
        assert!(out.contains("Lowered limits"));
        assert!(out.contains("#### Changes"));
    }
}

#[test]
fn text_shows_the_largest_groups_of_each_field_and_counts_the_rest() {
    // `from` is i % 5,000 and the rule i % 20, which pair up: 5,000 groups of 2 SIMs.
    let plan = large_plan(10_000);
    let groups = values::change_groups(&plan).len();
    assert_eq!(groups, 5_000);
    assert!(groups > GROUPS_PER_LIST, "{groups} groups");
    let short = text(&plan, TextOptions::default());
    let group_lines = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with("  monthly_data_limit: ") && l.contains(" × "))
            .count()
    };
    let shown = group_lines(&short);
    // The largest groups, then one line that counts the others.
    assert!(short.contains("  monthly_data_limit: … and "), "{short}");
    assert_eq!(shown, GROUPS_PER_LIST, "{short}");
    let hidden = groups - GROUPS_PER_LIST;
    assert!(
        short.contains(&format!("… and {hidden} more groups")),
        "{short}"
    );
    assert!(short.contains("--verbose or --format json lists them"));
    // The hidden SIMs are counted: 20 groups of 2 shown, the other 9,960 SIMs in the line.
    assert!(short.contains("(9960 SIMs)"), "{short}");
    let verbose = text(
        &plan,
        TextOptions {
            verbose: true,
            ..TextOptions::default()
        },
    );
    assert_eq!(group_lines(&verbose), groups);
    assert!(!verbose.contains("more groups"));
    assert!(short.contains(&plan.checksum) && verbose.contains(&plan.checksum));
}

/// The fixture plan with 30 groups of blocked SIMs: `reason 29` has 6 SIMs, every other one 1.
fn many_blocked_groups() -> Plan {
    let mut plan = fixture_plan();
    plan.blocked = (0..35u64)
        .map(|i| BlockedChange {
            iccid: iccid(100 + i),
            field: Field::Status,
            from: crate::plan::FieldValue::Int(3),
            to: crate::plan::FieldValue::Int(2),
            source: origin("activate", 3).into(),
            reason: format!("reason {:02}", i.min(29)),
        })
        .collect();
    plan
}

#[test]
fn long_lists_show_their_largest_groups_and_count_the_rest() {
    let plan = many_blocked_groups();
    let short = text(&plan, TextOptions::default());
    let blocked_groups = |out: &str| out.matches("      because reason ").count();
    assert_eq!(blocked_groups(&short), GROUPS_PER_LIST, "{short}");
    assert!(
        short.contains("  … and 10 more groups (10 SIMs): --verbose or --format json lists them"),
        "{short}"
    );
    // The largest group comes first.
    let blocked = short.split("\nBlocked\n").nth(1).unwrap_or_default();
    assert!(blocked.contains("because reason 29\n"), "{short}");
    assert!(
        blocked.find("reason 29") < blocked.find("reason 00"),
        "{blocked}"
    );
    let verbose = text(
        &plan,
        TextOptions {
            verbose: true,
            ..TextOptions::default()
        },
    );
    assert_eq!(blocked_groups(&verbose), 30, "{verbose}");

    let md = markdown(&plan, MarkdownOptions::default());
    assert!(
        md.contains("6 SIMs · fleet/test.yaml:3:5 (rule activate): reason 29"),
        "{md}"
    );
    assert!(md.contains("… and 10 more groups (10 SIMs)"), "{md}");
}

#[test]
fn markdown_shows_the_largest_change_groups_of_each_field_and_counts_the_rest() {
    let plan = large_plan(10_000);
    let md = markdown(&plan, MarkdownOptions::default());
    let shown = md
        .lines()
        .filter(|l| l.starts_with("<details><summary><code>monthly_data_limit</code>"))
        .count();
    assert_eq!(shown, GROUPS_PER_LIST, "{md}");
    assert!(
        md.contains("… and 4980 more groups (9960 SIMs) with other values"),
        "{md}"
    );
}

#[test]
fn the_example_day_is_the_one_its_comment_names() {
    assert_eq!(crate::spec::format_date(EXAMPLE_TODAY), "2027-06-01");
}
