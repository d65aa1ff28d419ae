/**
 * @module net/topics
 * Gossipsub topic names of a group. They derive from a hash of the group ID and
 * never from the group's human name, so a topic leaks neither the name nor the ID
 * itself to peers that only see topic strings (issue 5 §1).
 *
 * Invariant: the same group ID always yields the same two distinct topics; topic
 * strings are reversible only through the table of groups this peer is in.
 */
import { createHash } from 'node:crypto';

export type TopicChannel = 'control' | 'data';

export function topicOf(group: string, channel: TopicChannel): string {
  const digest = createHash('sha256').update(`conclave/topic/v1/${channel}/${group}`).digest('hex');
  return `/conclave/1/${channel}/${digest.slice(0, 40)}`;
}

export function topicsOf(group: string): { control: string; data: string } {
  return { control: topicOf(group, 'control'), data: topicOf(group, 'data') };
}
