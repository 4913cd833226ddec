//! CPU cores shared by a replica's runnable work (`cores:` fewer than its
//! workers): each `work` step joins the replica's processor-sharing queue
//! ([`crate::engine::ps`]) and progresses at min(1, cores / n) while `n` steps
//! run. Waiting (for a worker, a call, a publish, the network) takes no CPU.
//!
//! One completion event per replica is pending at a time, for the job with
//! the smallest finish tag; when `n` changes, the event is moved only if the
//! finish comes earlier (a new short job) and is otherwise left to fire early
//! and look again. A moved event leaves the old one behind, recognised as
//! stale by its epoch. A service whose cores are not fewer than its workers
//! never comes here: its work steps are timers, as if each worker had a core.
//!
//! The service's busy and available figures count thousandths of a core here
//! (busy = min(cores, n) per replica), so utilisation is busy cores / cores.

use super::event::Event;
use super::world::World;
use crate::engine::ps::PsQueue;
use crate::engine::{Id, Time};
use crate::scenario::spec::Scenario;

/// No completion event pending.
const NOT_ARMED: Time = Time::MAX;

/// The shared cores of one replica slot.
pub(super) struct Cores {
    ps: PsQueue<Id>,
    /// Only the completion event of the current epoch counts.
    epoch: u32,
    /// When the pending completion event is due.
    armed: Time,
}

/// The cores of every replica slot: `None` where each worker has its own.
pub(super) fn cores(s: &Scenario) -> Vec<Option<Cores>> {
    s.services
        .iter()
        .flat_map(|svc| {
            let shared = svc.shared_cores();
            (0..svc.max_replicas()).map(move |_| {
                shared.map(|millicores| Cores {
                    ps: PsQueue::new(millicores),
                    epoch: 0,
                    armed: NOT_ARMED,
                })
            })
        })
        .collect()
}

impl World<'_> {
    fn cores_of(&mut self, r: u32) -> &mut Cores {
        self.cores[r as usize]
            .as_mut()
            .expect("a replica with shared cores")
    }

    /// A job's `work` step of `work` nanoseconds starts on replica `r`'s cores.
    pub(super) fn start_on_cores(&mut self, r: u32, job: Id, work: Time) {
        let now = self.now();
        let svc = self.replicas[r as usize].service as usize;
        let cores = self.cores_of(r);
        let before = cores.ps.busy();
        cores.ps.push(now, work, job);
        let added = cores.ps.busy() - before;
        self.busy_up(svc, added);
        self.arm(r);
    }

    /// Keeps an event pending for the next finish on `r`: a new one only if
    /// the finish comes before the one pending (which otherwise looks again).
    fn arm(&mut self, r: u32) {
        let now = self.now();
        let cores = self.cores_of(r);
        let Some(t) = cores.ps.next_finish(now) else {
            return;
        };
        if t >= cores.armed {
            return;
        }
        cores.epoch = cores.epoch.wrapping_add(1);
        cores.armed = t;
        let epoch = cores.epoch;
        self.q
            .schedule_at(t, Event::CoresDone { replica: r, epoch });
    }

    /// The pending completion event of `r` is due: the first job done, if
    /// it is, goes on with its next step; the next finish is armed first.
    pub(super) fn on_cores_done(&mut self, r: u32, epoch: u32) {
        let now = self.now();
        let cores = self.cores_of(r);
        if cores.epoch != epoch {
            return;
        }
        cores.armed = NOT_ARMED;
        let before = cores.ps.busy();
        let done = cores.ps.pop_finished(now);
        let removed = before - cores.ps.busy();
        if removed > 0 {
            let svc = self.replicas[r as usize].service as usize;
            self.busy_down(svc, removed);
        }
        self.arm(r);
        if let Some(job) = done {
            self.on_work_done(job);
        }
    }

    /// Bytes held by every replica's running work (for the memory budget).
    pub(super) fn cores_bytes(&self) -> usize {
        self.cores.iter().flatten().map(|c| c.ps.bytes()).sum()
    }

    /// Replica `r` is gone (its jobs were killed): its cores run nothing.
    pub(super) fn clear_cores(&mut self, r: u32) {
        let now = self.now();
        let svc = self.replicas[r as usize].service as usize;
        let cores = self.cores_of(r);
        let busy = cores.ps.busy();
        cores.ps.clear(now);
        cores.epoch = cores.epoch.wrapping_add(1);
        cores.armed = NOT_ARMED;
        self.busy_down(svc, busy);
    }
}
