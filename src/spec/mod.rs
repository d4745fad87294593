//! The desired-state spec: YAML files that say what every SIM should look like.
//!
//! (The loader, validation and resolution land with issue #2; `desired` is the contract the plan
//! consumes.)

mod desired;

pub use desired::{
    DesiredSim, DesiredValue, Field, ImeiLockSetting, Limit, Origin, OriginKind, ResolvedValue,
};
