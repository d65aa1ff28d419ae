/**
 * @module net/topics
 * Gossipsub topic names of a group. They derive from a hash of the group ID and
 * never from the group's human name, so a topic leaks neither the name nor the ID
 * itself to peers that only see topic strings (issue 5 §1).
 *
 * Invariant: the same group ID always yields the same two distinct topics; topic
 * strings are reversible only through the table of groups this peer is in.
 * Scoring on these topics penalises invalid messages only (see below).
 */
import { createHash } from 'node:crypto';
import { createTopicScoreParams, type TopicScoreParams } from '@chainsafe/libp2p-gossipsub/score';

export type TopicChannel = 'control' | 'data';

export function topicOf(group: string, channel: TopicChannel): string {
  const digest = createHash('sha256').update(`conclave/topic/v1/${channel}/${group}`).digest('hex');
  return `/conclave/1/${channel}/${digest.slice(0, 40)}`;
}

export function topicsOf(group: string): { control: string; data: string } {
  return { control: topicOf(group, 'control'), data: topicOf(group, 'data') };
}

/**
 * Peer scoring on a group topic punishes only invalid messages (what the
 * validator answers Reject for). Quiet members are normal in a chat, so mesh
 * delivery counters, first-delivery rewards and time in mesh play no part.
 * P4 is the square of the decayed invalid count times the weight: three garbage
 * messages in a row (-90) put the sender below gossipsub's graylist threshold
 * (-80) and every RPC from it is ignored until the count decays.
 */
export function groupTopicScoreParams(): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.9,
  });
}
