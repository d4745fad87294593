//! The live fleet as plain data: the API's SIM type, the status and provider tables, server-side
//! filters, the mutation inputs and the snapshot file format.
//!
//! Every other stage speaks these types, so this module knows nothing of specs, plans or HTTP.
//! How desired and live values compare (unlimited, none, auto) is the plan's business, and the
//! sandbox keeps its own storage rules: here is only the shape of the data.

mod event;
mod filter;
mod live;
mod mutation;
mod sim;
mod snapshot;
pub mod tables;

pub use event::{SimEvent, DRIFT_EVENT_TYPES};
pub use filter::{IntFilter, SimFilter, StringFilter};
pub use live::{Coverage, LiveFleet};
pub use mutation::{BatchChanges, ImeiLockInput, UpdateSimChanges, MAX_BATCH_ICCIDS};
pub use sim::{EndCustomerLabel, ImeiLock, Sim, Transition};
pub use snapshot::{
    well_formed_iccid, RawSnapshot, Snapshot, SnapshotBytes, SnapshotError, SnapshotSource,
    SNAPSHOT_FORMAT_VERSION,
};
