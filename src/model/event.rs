//! The closed set of things that happen in a run, and what a job answers to.

use super::calls::Outcome;
use crate::engine::Id;

/// The closed set of things that happen.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// The next request of a workload is sent.
    Arrival {
        workload: u32,
    },
    /// A closed workload's ramp adds a user or tells one to leave.
    Users {
        workload: u32,
    },
    /// A job's `work` step ends.
    WorkDone {
        job: Id,
    },
    /// A worker's handoff after an answer is over: it takes the next request
    /// (if its replica's jobs were not killed meanwhile).
    Handoff {
        replica: u32,
        incarnation: u32,
    },
    /// The first job on a replica's shared cores may be done (if still epoch `epoch`).
    CoresDone {
        replica: u32,
        epoch: u32,
    },
    /// A request reaches the callee's replica after a network hop.
    Deliver {
        call: Id,
    },
    /// An answer reaches the caller.
    Answer {
        call: Id,
        outcome: Outcome,
    },
    /// The first of `World::held_answers` reaches its calling job.
    HeldAnswer,
    /// The earliest deadline of a timeout lane is due.
    LaneDue {
        lane: u32,
    },
    /// An attempt's timeout that is not in a lane (cut short by a deadline).
    AttemptTimeout {
        call: Id,
    },
    /// A back-off has passed: the next attempt of a call goes out.
    Retry {
        logical: Id,
        policy: u32,
    },
    /// Time to send a hedged copy, if the call is still unanswered.
    Hedge {
        logical: Id,
    },
    /// A call's deadline: it fails, whatever its attempts are doing.
    CallDeadline {
        logical: Id,
    },
    /// A message (or a follower's copy) reaches a broker node.
    NodeArrive {
        node: u32,
        message: Id,
        follower: bool,
    },
    /// A send to a broker node is tried again (the link was partitioned).
    Resend {
        from_dc: u16,
        node: u32,
        message: Id,
        follower: bool,
    },
    /// An acknowledgement is sent again (the link was partitioned).
    AckRetry {
        from_dc: u16,
        to_dc: u16,
        id: Id,
        producer: bool,
    },
    /// A broker node finished its oldest append.
    NodeDone {
        node: u32,
        epoch: u32,
    },
    /// A partition's leader is elected again after its node failed.
    LeaderElection {
        partition: u32,
    },
    /// A follower's append is acknowledged at the leader.
    FollowerAcked {
        message: Id,
    },
    /// A producer's publish is acknowledged.
    PublishAcked {
        job: Id,
    },
    /// Kafka notices a dead consumer and reassigns its partitions.
    Rebalance {
        group: u32,
    },
    /// The per-second series of the broker's groups take a sample.
    Sample,
    /// A handling failed at once (an injected error).
    HandlerFailed {
        delivery: Id,
    },
    /// A RabbitMQ consumer's ack reached the queue and the next delivery is back:
    /// the replica has room for one more under its prefetch.
    RoomBack {
        group: u32,
        replica: u32,
    },
    /// A consumer's ack is sent again (its link was cut).
    AckResend {
        group: u32,
        replica: u32,
    },
    /// A message's retry wait is over.
    Redeliver {
        delivery: Id,
        front: bool,
    },
    /// A call refused by its breaker ends (never within its caller's handler).
    ShortCircuited {
        logical: Id,
    },
    /// An ejected replica returns to the callers' views.
    Uneject {
        replica: u32,
        epoch: u32,
    },
    /// Failure `failure` starts or ends (on replica slot `target` for random crashes).
    FailureStart {
        failure: u32,
        target: u32,
    },
    FailureEnd {
        failure: u32,
        target: u32,
    },
    /// The registry checks every replica (discovery).
    HealthCheck,
    /// Callers refresh their view from the registry (discovery).
    Refresh,
    /// The autoscaler of a service runs.
    Autoscale {
        service: u32,
    },
    /// A started replica has finished starting (if it is still epoch `epoch`).
    ReplicaReady {
        replica: u32,
        epoch: u32,
    },
}

/// What a job answers to: the call that brought it, or the message it handles.
#[derive(Clone, Copy, Debug)]
pub(super) enum Parent {
    Call(Id),
    Delivery(Id),
    /// A client's direct call held in the job (it has no attempt record).
    ClientCall {
        workload: u32,
    },
    /// A job's direct call held in the job: the caller, the call site and
    /// the caller's data center.
    JobCall {
        job: Id,
        site: u32,
        from_dc: u8,
    },
}
