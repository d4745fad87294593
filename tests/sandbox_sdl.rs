//! The sandbox's exported SDL and `schema/wherever-sim.graphql` describe the same API: every
//! query, mutation and type, with fields, arguments, types and nullability. Compared
//! structurally (both parsed with apollo-compiler), so formatting and descriptions may differ.
//! Subscriptions are in the file only: the sandbox does not serve them.

use std::collections::BTreeSet;

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema;

fn parse(sdl: &str, name: &str) -> Schema {
    match Schema::parse(sdl, name) {
        Ok(s) => s,
        Err(with_errors) => {
            // async-graphql re-declares built-in directives; anything else is a real problem.
            let real: Vec<String> = with_errors
                .errors
                .iter()
                .map(|e| e.to_string())
                .filter(|e| !e.contains("built-in") && !e.contains("defined multiple times"))
                .collect();
            assert!(real.is_empty(), "{name} does not parse: {real:#?}");
            with_errors.partial
        }
    }
}

/// One line per type member, e.g. `type SIM.iccid: ID!` or `Query.listSims(limit: Int!, ...)`.
fn shape(schema: &Schema) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, ty) in &schema.types {
        if ty.is_built_in() || name.as_str() == "Subscription" {
            continue;
        }
        match ty {
            ExtendedType::Scalar(_) => {
                out.insert(format!("scalar {name}"));
            }
            ExtendedType::Object(o) => {
                for (fname, f) in &o.fields {
                    let mut args: Vec<String> = f
                        .arguments
                        .iter()
                        .map(|a| format!("{}: {}", a.name, a.ty))
                        .collect();
                    args.sort();
                    out.insert(format!(
                        "type {name}.{fname}({}): {}",
                        args.join(", "),
                        f.ty
                    ));
                }
            }
            ExtendedType::InputObject(o) => {
                for (fname, f) in &o.fields {
                    out.insert(format!("input {name}.{fname}: {}", f.ty));
                }
            }
            ExtendedType::Enum(e) => {
                let values: Vec<String> = e.values.keys().map(|v| v.to_string()).collect();
                out.insert(format!("enum {name} = {}", values.join(" | ")));
            }
            ExtendedType::Union(u) => {
                let mut members: Vec<String> = u.members.iter().map(|m| m.to_string()).collect();
                members.sort();
                out.insert(format!("union {name} = {}", members.join(" | ")));
            }
            ExtendedType::Interface(i) => {
                out.insert(format!("interface {name} ({} fields)", i.fields.len()));
            }
        }
    }
    out
}

#[test]
fn exported_sdl_matches_the_checked_in_schema() {
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/wherever-sim.graphql"
    ))
    .expect("schema/wherever-sim.graphql is readable");
    let expected = shape(&parse(&file, "schema/wherever-sim.graphql"));
    let served = shape(&parse(&simfleet::sandbox::sdl(), "sandbox SDL"));
    let missing: Vec<&String> = expected.difference(&served).collect();
    let extra: Vec<&String> = served.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the sandbox's SDL drifted from schema/wherever-sim.graphql\n\
         in the file but not served: {missing:#?}\nserved but not in the file: {extra:#?}"
    );
    // Sanity: the comparison sees the API, not an empty set.
    assert!(expected
        .iter()
        .any(|l| l.starts_with("type Query.listSims(")));
    assert!(expected
        .iter()
        .any(|l| l.starts_with("type Mutation.updateSim(")));
    assert!(expected.len() > 150, "{}", expected.len());
}

#[test]
fn the_file_declares_subscriptions_the_sandbox_does_not_serve() {
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/wherever-sim.graphql"
    ))
    .expect("schema/wherever-sim.graphql is readable");
    let schema = parse(&file, "schema/wherever-sim.graphql");
    assert!(schema.types.contains_key("Subscription"));
    assert!(!simfleet::sandbox::sdl().contains("type Subscription"));
}
