//! The simulated world: clients, an optional gateway and services placed in
//! data centers, built from a resolved [`Scenario`](crate::scenario::spec::Scenario) and run on the engine.
//!
//! - [`world`]: the state and the event loop; [`event`]: what happens.
//! - [`jobs`]: the callee side of a request; [`calls`]: the caller side.
//! - [`replica`]: replica slots, services and their workers.
//! - [`messaging`]: the broker, its partitions and consumer groups.
//! - [`network`]: hop delays within and between data centers, loss, partitions.
//! - [`routing`]: the callers' view of healthy replicas (discovery) and replica choice.
//! - [`failures`]: injected failures on a schedule or at random.
//! - [`autoscale`]: the Kubernetes HPA control loop.
//! - [`arrivals`]: open-loop arrival processes (Poisson, constant, time-varying).
//! - [`closed`]: closed-loop workloads: users who wait for their answer and think.
//! - [`balancer`]: how a caller picks one of the replicas in its view.
//!
//! The model cannot fail: a timeout, a rejection or a failed call is data in the
//! metrics; a broken invariant is a panic (a bug), never an error to handle.

pub mod arrivals;
mod autoscale;
pub mod balancer;
mod bandwidth;
mod breaker;
pub mod budget;
pub mod calls;
mod closed;
mod cpu;
mod event;
mod failures;
mod job_ends;
mod jobs;
mod messaging;
mod network;
mod replica;
mod routing;
mod sampling;
pub mod trace;
pub mod world;

pub use world::{RunOptions, RunOutput, run, run_with};
