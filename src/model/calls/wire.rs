//! An attempt on the wire: built, counted, routed to a replica, its sizes
//! drawn, its timeout armed, and sent across the network (delivered at once
//! when the hop takes no time). The same for every attempt, direct or not;
//! a direct call with no timeout is held instead (`held.rs`), and starts there.

use super::{Call, Caller, NEVER, NO_REPLICA, NO_SITE, Outcome};
use crate::engine::{Id, Time};
use crate::model::bandwidth::{NO_SIZE, slot};
use crate::model::event::Event;
use crate::model::trace::{NO_TRACE, SpanKind, SpanRef};
use crate::model::world::World;
use crate::scenario::spec::LoadBalancer;

impl Call {
    /// A first attempt about to go out (`wire` sets its replica and response
    /// size; a retry, a hedge or a traced attempt sets its own fields over these).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn outgoing(
        logical: Id,
        (target, site, policy): (u32, u32, u32),
        from_dc: u16,
        measured: bool,
        to_client: bool,
        key: u64,
        deadline: Time,
        depth: u16,
        now: Time,
    ) -> Call {
        Call {
            logical,
            target,
            site,
            policy,
            replica: NO_REPLICA,
            from_dc: from_dc as u8,
            sent: now,
            measured,
            retry: false,
            to_client,
            key,
            deadline,
            abandoned: false,
            lost: false,
            trace: NO_TRACE,
            n: 1,
            hedge: false,
            response_size: NO_SIZE,
            depth,
        }
    }
}

impl World<'_> {
    /// An attempt goes out: counted, routed to a replica, its sizes drawn, its
    /// timeout armed (per try, cut short by the call's deadline `ldeadline`), sent.
    pub(super) fn wire(
        &mut self,
        mut attempt: Call,
        caller: Caller,
        balancer: LoadBalancer,
        per_try: Option<Time>,
        ldeadline: Time,
    ) {
        let now = self.now();
        let (site, policy) = (attempt.site, attempt.policy);
        if site != NO_SITE && attempt.measured {
            let st = &mut self.m.calls[site as usize];
            st.attempts += 1;
            st.retries += u64::from(attempt.retry);
            st.hedges += u64::from(attempt.hedge);
        }
        if let Some(p) = self.policies.get_mut(policy as usize) {
            p.active_attempts += 1;
        }
        let svc = self.s.endpoints[attempt.target as usize].service;
        let from_dc = u16::from(attempt.from_dc);
        attempt.replica = self.route(svc, from_dc, balancer).unwrap_or(NO_REPLICA);
        // Each attempt draws its request's size (nothing to do in a scenario
        // without sizes, the common case).
        let request_bytes = if self.s.sizes.is_empty() {
            0
        } else {
            let sizes = self.call_sizes(caller, policy);
            attempt.response_size = slot(sizes.response);
            self.draw_size(slot(sizes.request))
        };
        let try_deadline = per_try
            .map_or(NEVER, |t| now.saturating_add(t))
            .min(ldeadline);
        let call = self.calls.insert(attempt);
        self.call_slots.insert();
        match per_try {
            // The policy's own timeout, not cut short by a deadline: its lane.
            Some(t) if now.saturating_add(t) <= ldeadline => self.arm_timeout(t, call),
            _ if try_deadline != NEVER => self
                .q
                .schedule_at(try_deadline, Event::AttemptTimeout { call }),
            _ => {}
        }
        self.send(call, svc, request_bytes);
    }

    /// An attempt crosses the network to its replica (delivered within this
    /// handler when the hop takes no time). With no replica in the caller's
    /// view it fails at once.
    #[inline(always)]
    pub(super) fn send(&mut self, call: Id, svc: usize, bytes: u64) {
        let now = self.now();
        let c = self.calls.get(call).expect("live attempt");
        let (replica, from_dc, measured, trace) =
            (c.replica, u16::from(c.from_dc), c.measured, c.trace);
        if replica == NO_REPLICA {
            // No healthy replica in the caller's view: fails at once (Envoy's 503).
            self.count_connection_failure(svc, measured);
            self.answer(call, Outcome::ConnectFailure);
            return;
        }
        let to = self.replicas[replica as usize].dc;
        match self.net.request_hop(from_dc, to, now, bytes) {
            Some(0) => self.deliver(call),
            Some(d) => {
                if trace != NO_TRACE {
                    let kind = SpanKind::Network { from: from_dc, to };
                    self.tracer
                        .span(trace, now, now + d, kind, SpanRef::attempt(call));
                }
                self.q.schedule_in(d, Event::Deliver { call });
            }
            None => self.lose(call),
        }
    }
}
