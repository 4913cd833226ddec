//! The simulated world: clients, an optional gateway and services, built from a
//! resolved [`Scenario`] and run on the engine.
//!
//! - [`world`]: the state and the event loop.
//! - [`arrivals`]: open-loop arrival processes (Poisson, constant, time-varying).
//! - [`balancer`]: how a caller picks a replica.
//!
//! The model cannot fail: a timeout, a rejection or a failed call is data in the
//! metrics; a broken invariant is a panic (a bug), never an error to handle.

pub mod arrivals;
pub mod balancer;
pub mod world;

pub use world::{RunOutput, run};
