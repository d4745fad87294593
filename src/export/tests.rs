//! The exporter against generated fleets: the files load, validate and reproduce every SIM.

use super::*;
use crate::fleet::{EndCustomerLabel, ImeiLock};
use crate::sandbox::generate;

/// Writes the files to a temporary spec directory and loads them back.
fn load(exported: &ExportedSpec) -> (tempfile::TempDir, crate::spec::LoadedSpec) {
    let dir = tempfile::tempdir().unwrap();
    for file in &exported.files {
        let path = dir.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.text).unwrap();
    }
    let loaded = match crate::spec::load(dir.path()) {
        Ok(l) => l,
        Err(e) => panic!("exported spec does not load: {e}\n{:#?}", exported.files),
    };
    (dir, loaded)
}

fn round_trip(sims: &[Sim], opts: &ExportOptions) -> ExportedSpec {
    let exported = export_spec(sims, opts);
    let (_dir, loaded) = load(&exported);
    assert!(
        loaded.warnings.is_empty(),
        "warnings: {:?}",
        loaded
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
    );
    let problems = check_round_trip(&loaded.spec, sims, opts, &exported, 20);
    assert!(problems.is_empty(), "{problems:#?}");
    exported
}

/// A valid 20-digit ICCID with serial `n`.
fn iccid(n: u64) -> String {
    let body = format!("8949000000000000{n:03}");
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|c| crate::spec::values::luhn_valid(c))
        .unwrap()
}

fn opts() -> ExportOptions {
    ExportOptions::new("a test fleet", "2026-11-28T00:00:00Z")
}

#[test]
fn generated_fleets_round_trip_with_default_options() {
    for (n, seed) in [(50, 1), (300, 7), (2000, 42)] {
        let fleet = generate(n, seed);
        let exported = round_trip(&fleet.sims, &opts());
        assert!(exported.rules > 0, "{n}: no rules");
        assert_eq!(exported.unmanaged, 0, "{n}");
        assert!(
            n < 300 || exported.terminal > 0,
            "{n}: generated fleets have retired SIMs"
        );
        for file in &exported.files {
            assert!(!file.text.contains("retired"), "{}", file.text);
        }
    }
}

#[test]
fn other_groupings_and_fields_round_trip() {
    let fleet = generate(500, 3);
    for (fields, group_by) in [
        ("limits,label,imei_lock,status", "provider"),
        ("limits,status,custom_field_1", ""),
        ("status", "end_customer_label"),
        (
            "limits,label,imei_lock,status,custom_field_1",
            "custom_field_1,status",
        ),
    ] {
        let mut o = opts();
        o.fields = parse_fields(fields).unwrap();
        o.group_by = parse_group_by(group_by).unwrap();
        round_trip(&fleet.sims, &o);
    }
}

#[test]
fn uniform_groups_become_one_rule_and_outliers_entries() {
    let mut sims = Vec::new();
    for i in 0..10u64 {
        let iccid = iccid(i);
        sims.push(Sim {
            iccid,
            statusid: 2,
            providerid: 5,
            monthly_data_limit: Some(if i == 0 { 1_000_000_000 } else { 500_000_000 }),
            end_customer_label: Some(EndCustomerLabel {
                name: "ACME".into(),
            }),
            imei_lock: Some(ImeiLock {
                imei: None,
                enabled: true,
            }),
            ..Sim::default()
        });
    }
    let exported = round_trip(&sims, &opts());
    assert_eq!(exported.rules, 1);
    assert_eq!(exported.entries, 1);
    assert_eq!(exported.entry_values, 1);
    let rules = &exported.files[0].text;
    assert!(
        rules.contains(
            "match: { end_customer_label: \"ACME\", status: activated, provider: \"link+\" }"
        ),
        "{rules}"
    );
    assert!(rules.contains("monthly_data_limit: 500MB"), "{rules}");
    assert!(rules.contains("imei_lock: auto"), "{rules}");
    assert!(rules.contains("monthly_sms_mo_limit: unlimited"), "{rules}");
    assert!(exported.files[1]
        .text
        .contains("{ monthly_data_limit: 1GB }"));
}

#[test]
fn groups_that_set_the_same_values_merge_into_a_list_selector() {
    let mut sims = Vec::new();
    for (i, status) in [2, 2, 5, 5, 12, 12].into_iter().enumerate() {
        let iccid = iccid(i as u64);
        sims.push(Sim {
            iccid,
            statusid: status,
            providerid: 5,
            monthly_data_limit: Some(500_000_000),
            ..Sim::default()
        });
    }
    let exported = round_trip(&sims, &opts());
    assert_eq!(exported.rules, 1);
    assert!(exported.files[0]
        .text
        .contains("status: [activated, deactivated, suspended]"));
}

#[test]
fn unexportable_values_stay_unmanaged_and_odd_text_is_pinned_per_sim() {
    let mut sims = generate(40, 9).sims;
    sims[0].end_customer_label = Some(EndCustomerLabel {
        name: "none".into(),
    });
    sims[1].end_customer_label = Some(EndCustomerLabel {
        name: "Quote \"me\": yes".into(),
    });
    sims[2].statusid = 3;
    sims[3].monthly_voice_mo_limit = Some(-5);
    let mut o = opts();
    o.group_by = vec![GroupKey::Provider];
    let exported = round_trip(&sims, &o);
    assert!(exported
        .skipped
        .iter()
        .any(|s| s.iccid == sims[0].iccid && s.field == Field::EndCustomerLabel));
    assert!(exported
        .skipped
        .iter()
        .any(|s| s.iccid == sims[3].iccid && s.field == Field::MonthlyVoiceMoLimit));
    // A label that is literally `none` cannot be matched either: that SIM is entries only.
    round_trip(&sims, &opts());
}

#[test]
fn iccids_without_luhn_digit_turn_the_check_off() {
    let mut sims = generate(10, 1).sims;
    let last = sims[0].iccid.pop().unwrap();
    let wrong = char::from(b'0' + (last.to_digit(10).unwrap() as u8 + 1) % 10);
    sims[0].iccid.push(wrong);
    sims[0].monthly_data_limit = Some(123_456_789);
    let exported = round_trip(&sims, &opts());
    assert!(exported.luhn_off);
    assert!(exported.files.iter().any(|f| f.path == "simfleet.yaml"));
}

#[test]
fn a_sim_no_entry_can_name_is_never_an_exception_to_a_rule() {
    let mut sims = generate(30, 2).sims;
    for sim in &mut sims {
        sim.statusid = 2;
        sim.providerid = 5;
        sim.end_customer_label = None;
        sim.monthly_data_limit = Some(500_000_000);
    }
    sims[0].iccid = "894900000000000001".into(); // 18 digits
    sims[0].monthly_data_limit = Some(1_000_000_000);
    let exported = round_trip(&sims, &opts());
    assert!(exported
        .skipped
        .iter()
        .any(|s| s.iccid == sims[0].iccid && s.field == Field::MonthlyDataLimit));
    assert!(!exported.files[0].text.contains("monthly_data_limit: 500MB"));
}

#[test]
fn the_export_is_smaller_than_one_entry_per_sim_and_deterministic() {
    let fleet = generate(2000, 5);
    let a = export_spec(&fleet.sims, &opts());
    let mut reversed = fleet.sims.clone();
    reversed.reverse();
    let b = export_spec(&reversed, &opts());
    assert_eq!(a.files, b.files);
    assert!(a.bytes() < naive_size(&fleet.sims, &opts().fields));
}
