//! Starting a call: a held call (`held.rs`) goes its short way, any other
//! gets its record: direct (`direct.rs`), or a logical call and its first
//! attempt.

use super::{Caller, Logical, NEVER, direct, held};
use crate::engine::Time;
use crate::model::event::Event;
use crate::model::trace::NO_TRACE;
use crate::model::world::World;
use crate::scenario::spec::{CallPolicy, LoadBalancer};

/// Whether a call under `pol` goes direct (`direct.rs`): its one attempt
/// and no logical record. A plain policy has no deadline of its own, so the
/// call's deadline is the calling job's, `inherited`.
#[inline(always)]
fn goes_direct(pol: Option<&CallPolicy>, inherited: Time, trace: u32) -> bool {
    inherited == NEVER && trace == NO_TRACE && pol.is_none_or(direct::is_plain)
}

/// A call as its caller starts it.
#[derive(Clone, Copy)]
pub(in crate::model) struct NewCall {
    pub caller: Caller,
    /// The caller's data center.
    pub from_dc: u16,
    /// The callee's endpoint, the call site (NO_SITE for a client's
    /// request), the site's policy (NO_POLICY for none), the balancer.
    pub target: u32,
    pub site: u32,
    pub policy: u32,
    pub balancer: LoadBalancer,
    pub measured: bool,
    /// The calling job's deadline, if any (NEVER).
    pub inherited: Time,
    /// A client's timeout per attempt (clients have no policy).
    pub client_timeout: Option<Time>,
    pub key: u64,
    pub trace: u32,
    /// Calls from the client down to this one (1 for a client's own).
    pub depth: u16,
}

impl World<'_> {
    /// A caller starts a call (see [`NewCall`]).
    ///
    /// Inlined where it is called, so that a held call (a direct call with
    /// no timeout, see `held.rs`) goes to `start_held` with its few fields.
    #[inline(always)]
    pub fn start_call(&mut self, c: NewCall) {
        let pol = self.policy(c.policy);
        let held = self.hold_calls
            && goes_direct(pol, c.inherited, c.trace)
            && pol.map_or(c.client_timeout, |p| p.timeout).is_none();
        if held {
            let o = held::Outgoing {
                caller: c.caller,
                target: c.target,
                site: c.site,
                from_dc: c.from_dc,
                measured: c.measured,
                key: c.key,
                depth: c.depth,
            };
            self.start_held(o, c.balancer);
        } else {
            self.start_unheld(c);
        }
    }

    /// `start_call` for a call that is not held: direct, or with a logical record.
    #[inline(never)]
    fn start_unheld(&mut self, c: NewCall) {
        let NewCall {
            caller,
            from_dc,
            target,
            site,
            policy,
            balancer,
            measured,
            inherited,
            client_timeout,
            key,
            trace,
            depth,
        } = c;
        let pol = self.policy(policy);
        if goes_direct(pol, inherited, trace) {
            let per_try = pol.map_or(client_timeout, |p| p.timeout);
            let to = (target, site, policy, balancer);
            let propagate = pol.is_some_and(|p| p.propagate_deadline);
            self.start_direct(
                caller,
                from_dc,
                to,
                measured,
                (per_try, propagate),
                key,
                depth,
            );
            return;
        }
        let now = self.now();
        let own = pol
            .and_then(|p| p.deadline)
            .map_or(NEVER, |d| now.saturating_add(d));
        let deadline = own.min(inherited);
        self.logical_slots.insert();
        let logical = self.logicals.insert(Logical {
            caller,
            target,
            site,
            policy,
            balancer,
            from_dc,
            first_sent: now,
            measured,
            tries: 0,
            hedges: 0,
            in_flight: 0,
            prev_wait: 0,
            deadline,
            client_timeout,
            key,
            trace,
            depth,
        });
        if deadline != NEVER {
            self.q
                .schedule_at(deadline, Event::CallDeadline { logical });
        }
        if let Some(h) = pol.and_then(|p| p.hedge.as_ref()) {
            self.q.schedule_in(h.after, Event::Hedge { logical });
        }
        self.launch(logical, false, false);
    }
}
