//! RabbitMQ's acknowledgements: a replica's room under its `prefetch` comes
//! back when its ack has reached the queue's node and the next delivery has
//! come back, one round trip of the network after the handling ended. With a
//! prefetch above the replica's workers the next message is already there and
//! the round trip is hidden; with prefetch = workers it is a cost per message,
//! as on a real broker. Without a network (no `within_dc`, one data center)
//! the round trip is 0 and the room comes back at once. A cut link or a data
//! center down holds the ack, tried again every [`RESEND`].

use super::log::RESEND;
use crate::model::event::Event;
use crate::model::world::World;

impl World<'_> {
    /// A handling on `replica` of group `g` ended: its ack sets off.
    pub(super) fn ack(&mut self, g: u32, replica: u32) {
        let topic = self.messaging.groups[g as usize].topic as usize;
        let queue = self.messaging.partitions[self.messaging.topic_first[topic] as usize].leader;
        let to = self.messaging.nodes[queue as usize].dc;
        let from = self.replicas[replica as usize].dc;
        match self.net.round_trip(from, to) {
            Some(0) => self.room_back(g, replica),
            Some(d) => self.q.schedule_in(d, Event::RoomBack { group: g, replica }),
            None => self
                .q
                .schedule_in(RESEND, Event::AckResend { group: g, replica }),
        }
    }

    /// The ack arrived and the next delivery is on its way: one more unacknowledged
    /// message fits under the replica's prefetch.
    pub(super) fn room_back(&mut self, g: u32, replica: u32) {
        let group = &mut self.messaging.groups[g as usize];
        let first = self.services[self.s.consumers[group.consumer as usize].service].first_replica;
        group.unacked[(replica - first) as usize] -= 1;
    }

    pub(in crate::model) fn on_room_back(&mut self, g: u32, replica: u32) {
        self.room_back(g, replica);
        self.dispatch(g, 0);
    }

    /// A held ack is sent again; if it now takes no time, the room is back at once
    /// and the queue may hand out its next message.
    pub(in crate::model) fn on_ack_resend(&mut self, g: u32, replica: u32) {
        self.ack(g, replica);
        self.dispatch(g, 0);
    }
}
