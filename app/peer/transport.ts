/**
 * @module peer/transport
 * Moves a group's bytes between libp2p and its `GroupRuntime` (STYLE §5, thin
 * adapter): inbound, the gossipsub topic validators of the group's `control` and
 * `data` topics and the `/conclave/group` unicast stream; outbound, publishing on
 * those topics and unicast frames (group ID (16) ‖ engine bytes) to one member.
 * docs/architecture.md "Topics and validators", "Unicast protocols".
 *
 * Invariants:
 * - The engine's `from` is the gossipsub StrictSign author or the
 *   Noise-authenticated stream peer, converted to a MemberKey (net/ids); an
 *   unsigned message, or one whose author is not an Ed25519 key, is Rejected.
 * - A validator answers Reject for what the engine rejects as malformed or forged
 *   (peer scoring punishes the sender), Ignore for stale or unauthorised input
 *   and for topics of no attached group, Accept otherwise. An engine that throws
 *   is logged and the message Ignored: the transport never crashes on input.
 * - Sends are serialised per destination (a topic, or a member), so engine output
 *   keeps its order on the wire; at most MAX_QUEUED_SENDS wait per destination
 *   (the engine retries what matters).
 * - A unicast to a member this peer never met first reaches it (`reach`: known
 *   addresses, then addresses learnt from fellow members), three tries at most.
 * - Membership at the network layer (issue 15 §1; `membership-gate.ts`, docs/network.md):
 *   once this peer is a member, a non-member's input reaches the engine only where
 *   the authorization table lets a non-member in; the rest is dropped here, noted
 *   in the group's rejection log, and answered Reject — when the non-member sent
 *   it itself. A message relayed by a third peer is only Ignored: the relay may
 *   have learnt of a join or an exclusion before us, and must not be punished.
 * - Strangers (in no roster of ours) that send what the table forbids collect
 *   strikes in the `PeerGuard`; enough of them block the peer for a while: its
 *   connections are closed and refused, its gossip and streams dropped — while it
 *   is a stranger: once in one of our rosters the membership gate judges it. Streams
 *   from peers that are members of none of our groups are rate-limited per peer
 *   and per address; catch-up and peer exchange refuse them outright.
 */
import { TopicValidatorResult, type Message, type PeerId } from '@libp2p/interface';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import { bytesToHex, hexToBytes, memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { boundForeignSubscriptions } from '../net/node.js';
import { groupTopicScoreParams, topicsOf } from '../net/topics.js';
import { GROUP_LIMITS, PROTOCOL_CATCHUP, PROTOCOL_GROUP, PROTOCOL_PEERS, sendFrames, serve, setStreamGate } from '../net/unicast.js';
import type { MemberKey, RejectReason } from '../core/types.js';
import type { GroupRuntime } from './group.js';
import { admitGossip, admitUnicast, judgeVerdict, type Admission } from './membership-gate.js';
import { PeerGuard, type GuardOptions } from './peer-guard.js';
import { PROTOCOL_FILE } from './files-chunks.js';
import { isConnected, isMemberAnywhere, isStranger, rosterStateOf, sleep, type PeerContext } from './peer-context.js';

const MAX_QUEUED_SENDS = 256;
/** How long a joiner waits, at most, to be in the inviter's gossipsub mesh before asking for admission. */
const JOIN_MESH_WAIT_MS = 3000;

/** Connected to `key` (dialling if needed) so that a unicast to it can go out. */
export type Reach = (group: string, key: MemberKey) => Promise<boolean>;

export class Transport {
  private readonly topicIndex = new Map<string, { rt: GroupRuntime; channel: 'control' | 'data' }>();
  /** Each group's topic names, computed once (isOurTopic). */
  private readonly groupTopics = new Map<string, { control: string; data: string }>();
  private readonly sendQueues = new Map<string, Promise<unknown>>();
  private readonly queueDepth = new Map<string, number>();
  private readonly pubsub: PeerContext['node']['services']['pubsub'];
  private readonly scoreTopics: GossipSub['score']['params']['topics'];
  /** Rate limits for non-members' streams and the blocklist of offending strangers. */
  readonly guard: PeerGuard;

  constructor(
    private readonly ctx: PeerContext,
    private readonly reach: Reach,
    guardOptions: Partial<GuardOptions> = {},
  ) {
    this.pubsub = ctx.node.services.pubsub;
    this.scoreTopics = (this.pubsub as unknown as GossipSub).score.params.topics;
    this.guard = new PeerGuard(guardOptions, (peerId) => this.disconnect(peerId, 'blocked'));
    ctx.node.addEventListener('connection:open', (evt) => {
      const id = evt.detail.remotePeer.toString();
      if (this.isBlocked(id, Date.now())) this.disconnect(id, 'refused a blocked peer');
    });
    setStreamGate(ctx.node, (remote, address, protocol) => this.streamGate(remote, address, protocol));
    // Subscriptions to other topics than our groups' are bounded per peer (net/node.ts).
    boundForeignSubscriptions(ctx.node, (topic) => this.isOurTopic(topic));
  }

  /** A topic of a group this peer runs (joining, member, or still deciding an exclusion). */
  private isOurTopic(topic: string): boolean {
    if (this.topicIndex.has(topic)) return true;
    for (const group of this.ctx.groups.keys()) {
      let t = this.groupTopics.get(group);
      if (!t) this.groupTopics.set(group, (t = topicsOf(group))); // two hashes per group, once, not per subscription heard
      if (t.control === topic || t.data === topic) return true;
    }
    return false;
  }

  // ── outbound ──────────────────────────────────────────────────────────────

  publish(group: string, channel: 'control' | 'data', bytes: Uint8Array): void {
    const topic = topicsOf(group)[channel];
    this.enqueue(`topic:${topic}`, () => this.pubsub.publish(topic, bytes).catch((err: Error) => this.ctx.log(`publish on ${channel} failed: ${err.name}`)));
  }

  unicast(group: string, to: MemberKey, bytes: Uint8Array): void {
    const pid = peerOfMemberKey(to);
    if (!pid) return;
    const frame = new Uint8Array(16 + bytes.length);
    frame.set(hexToBytes(group), 0);
    frame.set(bytes, 16);
    this.enqueue(`peer:${to}`, async () => {
      // A member we never met (e.g. the owner of a KEK a newcomer needs): find it first.
      for (let attempt = 0; attempt < 3 && !this.ctx.stopped(); attempt++) {
        if ((await this.reach(group, to)) && (await sendFrames(this.ctx.node, pid, PROTOCOL_GROUP, [frame], GROUP_LIMITS))) return;
        await sleep(500 * (attempt + 1));
      }
      this.ctx.log(`unicast to ${pid.toString().slice(-8)} failed`);
    });
  }

  /** Serialises sends per destination; bounds the backlog to an unreachable one. */
  private enqueue(key: string, job: () => Promise<unknown>): void {
    const depth = this.queueDepth.get(key) ?? 0;
    if (depth >= MAX_QUEUED_SENDS) {
      this.ctx.log(`send queue full, dropping (${key.split(':')[0]})`);
      return;
    }
    this.queueDepth.set(key, depth + 1);
    const prev = this.sendQueues.get(key) ?? Promise.resolve();
    const next = prev.then(job, job).catch(() => {});
    this.sendQueues.set(key, next);
    void next.then(() => {
      const left = (this.queueDepth.get(key) ?? 1) - 1;
      if (left <= 0) this.queueDepth.delete(key);
      else this.queueDepth.set(key, left);
      if (this.sendQueues.get(key) === next) this.sendQueues.delete(key);
    });
  }

  // ── inbound: gossipsub ────────────────────────────────────────────────────

  private readonly validator = (propagator: PeerId, message: Message): TopicValidatorResult => {
    const entry = this.topicIndex.get(message.topic);
    if (!entry) return TopicValidatorResult.Ignore;
    if (message.type !== 'signed') return TopicValidatorResult.Reject;
    const from = memberKeyOfPeer(message.from);
    if (!from) return TopicValidatorResult.Reject;
    // Its author sent it to us itself: a forbidden message is its fault (Reject); relayed, maybe not.
    const direct = propagator.equals(message.from);
    const forbidden = direct ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
    if (this.isBlocked(message.from.toString(), Date.now())) return forbidden;
    // A relay this peer blocked (below) hands over nothing more, not even the rest of its RPC.
    if (!direct && this.isBlocked(propagator.toString(), Date.now())) return TopicValidatorResult.Ignore;
    const { rt, channel } = entry;
    try {
      const joining = rt.engine.state() !== 'member';
      const admission = admitGossip(rt.engine.state(), rosterStateOf(rt, from), channel, message.data);
      if (!admission.pass) {
        this.refuse(rt, from, admission, direct);
        return admission.reason === 'decode' ? TopicValidatorResult.Reject : forbidden;
      }
      const verdict = rt.receive(from, channel, message.data);
      const outcome = judgeVerdict(channel, admission.check, verdict, rt.lastInputOpened);
      if (outcome.result === 'reject') this.offence(from, `${channel} input rejected by the engine`, direct);
      else if (outcome.refused) this.refuse(rt, from, { pass: false, reason: 'not-member', detail: outcome.refused }, direct);
      // D1, M2: a non-member's message must open here. Relayed, and it did not: the relay passed on
      // what it cannot have checked (a member forwards only what opened for it), so gossipsub counts
      // it against the relay (Reject) and a relay that is a stranger gets a strike. One RPC of
      // 3,000 packets signed by throwaway keys reached the engine one by one and struck nobody,
      // since none came from its author (review 29); now the relay is blocked after ten, and the
      // rest of its RPC is dropped unread (above). A newcomer's message that opens is taken as before.
      if (!direct && admission.check === 'opened' && (outcome.result === 'forbidden' || outcome.result === 'reject')) {
        this.strikeRelay(propagator, `relayed a non-member's ${channel} message that does not open`);
        return TopicValidatorResult.Reject;
      }
      // A peer not yet a member checked nothing it could pass on (it holds no key, knows no
      // roster): what it keeps for itself it forwards to nobody. Forwarded, an outsider's junk
      // reached the inviter as relayed by the joiner, a stranger there: ten strikes and the
      // inviter blocked the joiner for ten minutes (review 44: one RPC kept a newcomer out).
      if (joining && outcome.result === 'accept') return TopicValidatorResult.Ignore;
      if (outcome.result === 'accept') return TopicValidatorResult.Accept;
      if (outcome.result === 'ignore') return TopicValidatorResult.Ignore;
      return outcome.result === 'reject' ? TopicValidatorResult.Reject : forbidden;
    } catch (err) {
      this.ctx.log(`engine threw on ${channel} input: ${err instanceof Error ? err.name : 'error'}`);
      return TopicValidatorResult.Ignore;
    }
  };

  /** One strike for a relay that is a stranger, as for a stranger's own offence (members are never blocked here; gossipsub's score judges them). */
  private strikeRelay(propagator: PeerId, what: string): void {
    const key = memberKeyOfPeer(propagator);
    if (key !== null) this.offence(key, what, true);
  }

  /** A non-member's input stopped here: noted in the group's rejection log; a stranger's own is an offence. */
  private refuse(rt: GroupRuntime, from: MemberKey, admission: Extract<Admission, { pass: false }>, direct: boolean): void {
    const reason: RejectReason = admission.reason;
    rt.rejections.note({ type: 'rejected', from, reason, detail: admission.detail, at: Date.now() });
    this.offence(from, admission.detail, direct);
  }

  /** One strike for a stranger that sent something forbidden itself (members are never blocked here). */
  private offence(from: MemberKey, what: string, direct: boolean): void {
    if (!direct || !isStranger(this.ctx.groups, from)) return;
    const pid = peerOfMemberKey(from);
    if (pid && this.guard.strike(pid.toString(), what, Date.now())) this.ctx.log(`blocked ${pid.toString().slice(-8)} for ${Math.round(this.guard.options.blockMs / 60_000)} min: ${what}`);
  }

  /**
   * Blocked by the guard and a stranger still. A block is earned only as a stranger;
   * a peer admitted since (by a member whose news had not reached us: a newcomer
   * speaks at once, often before we hear of its admission) is judged by the
   * membership gate like any other member, and members are never blocked.
   */
  private isBlocked(peerId: string, now: number): boolean {
    if (!this.guard.isBlocked(peerId, now)) return false;
    const key = memberKeyOfPeer(peerId);
    return !key || isStranger(this.ctx.groups, key);
  }

  /** Closes every connection to a peer (blocked, or refused because it is). */
  private disconnect(peerId: string, why: string): void {
    const conns = this.ctx.node.getConnections().filter((c) => c.remotePeer.toString() === peerId);
    for (const c of conns) void c.close().catch(() => c.abort(new Error(why)));
  }

  /**
   * Every inbound stream, before a byte is read (net/unicast `setStreamGate`):
   * blocked peers get nothing; members of any of our groups pass; catch-up and peer
   * exchange and file chunks serve only members (the handlers check the group), so others are
   * refused with a strike; while one of our groups is joining, others pass (a joiner
   * hears first from members it does not know yet); anyone else spends a token of
   * its peer's and its address's bucket.
   */
  private streamGate(remote: PeerId, address: string, protocol: string): boolean {
    const id = remote.toString();
    const now = Date.now();
    if (this.isBlocked(id, now)) return false;
    const key = memberKeyOfPeer(remote);
    if (!key) return false;
    if (isMemberAnywhere(this.ctx.groups, key)) return true;
    if (protocol === PROTOCOL_CATCHUP || protocol === PROTOCOL_PEERS || protocol === PROTOCOL_FILE) {
      this.offence(key, `${protocol} from a non-member`, true);
      return false;
    }
    for (const rt of this.ctx.groups.values()) if (rt.engine.state() === 'joining' || rt.engine.state() === 'listening') return true;
    if (this.guard.allowStream(id, address, now)) return true;
    this.offence(key, `too many streams (${protocol})`, true);
    return false;
  }

  /** Registers the group and subscribes its topics, validated and scored. */
  attach(rt: GroupRuntime): void {
    this.ctx.groups.set(rt.group, rt);
    const topics = topicsOf(rt.group);
    for (const channel of ['control', 'data'] as const) {
      this.topicIndex.set(topics[channel], { rt, channel });
      this.pubsub.topicValidators.set(topics[channel], this.validator);
      this.scoreTopics[topics[channel]] = groupTopicScoreParams();
      this.pubsub.subscribe(topics[channel]);
    }
  }

  /** Unsubscribes a group's topics (after leaving); the runtime stays in `groups`. */
  detachTopics(rt: GroupRuntime): void {
    const topics = topicsOf(rt.group);
    for (const channel of ['control', 'data'] as const) {
      this.pubsub.unsubscribe(topics[channel]);
      this.pubsub.topicValidators.delete(topics[channel]);
      this.topicIndex.delete(topics[channel]);
      delete this.scoreTopics[topics[channel]];
    }
  }

  /**
   * A joiner subscribes before asking for admission, and gives gossipsub a moment
   * to graft it into the inviter's mesh: announcements made right after its
   * admission must find it subscribed. Subscribing grafts at once the peers
   * gossipsub already knows on the topic (with an outbound stream); any other peer
   * waits for the next gossipsub heartbeat (700 ms). So first wait, briefly, for
   * the inviter's gossipsub stream and its subscriptions; then subscribe; then
   * wait, up to 3 s in all, for the inviter in the control topic's mesh.
   */
  async subscribeForJoin(group: string, inviterKey: MemberKey): Promise<void> {
    const topics = topicsOf(group);
    const gossip = this.pubsub as unknown as GossipSub;
    const inviterId = peerOfMemberKey(inviterKey)!.toString();
    const node = this.ctx.node;
    const meshDeadline = Date.now() + JOIN_MESH_WAIT_MS;
    const inviterKnown = (): boolean =>
      gossip.streamsOutbound.has(inviterId) && [topics.control, topics.data].every((t) => gossip.getSubscribers(t).some((p) => p.toString() === inviterId));
    while (Date.now() < meshDeadline - 1500 && isConnected(node, inviterKey) && !inviterKnown()) {
      await sleep(20);
    }
    for (const topic of [topics.control, topics.data]) {
      this.pubsub.topicValidators.set(topic, this.validator);
      this.pubsub.subscribe(topic);
    }
    while (Date.now() < meshDeadline && isConnected(node, inviterKey) && !gossip.getMeshPeers(topics.control).includes(inviterId)) {
      await sleep(20);
    }
  }

  /** Undoes `subscribeForJoin` when the join could not even start. */
  abandonJoin(group: string): void {
    const topics = topicsOf(group);
    for (const topic of [topics.control, topics.data]) {
      this.pubsub.unsubscribe(topic);
      this.pubsub.topicValidators.delete(topic);
    }
  }

  // ── inbound: unicast streams ──────────────────────────────────────────────

  /**
   * Serves `/conclave/group`: one frame, group ID (16) ‖ engine bytes, from the
   * Noise-authenticated peer. A non-member of a group this peer is a member of is
   * heard only for what `admitUnicast` lets through (JoinRequest, KeyRequest).
   */
  async serveGroupStream(): Promise<void> {
    await serve(this.ctx.node, PROTOCOL_GROUP, GROUP_LIMITS, (remote, frames) => {
      const frame = frames[0];
      const from = memberKeyOfPeer(remote);
      if (!frame || frame.length <= 16 || !from) return undefined;
      const rt = this.ctx.groups.get(bytesToHex(frame.subarray(0, 16)));
      if (!rt) {
        this.offence(from, 'unicast for a group this peer is not in', true);
        return undefined;
      }
      const bytes = frame.slice(16);
      try {
        const admission = admitUnicast(rt.engine.state(), rosterStateOf(rt, from), bytes);
        if (!admission.pass) {
          this.refuse(rt, from, admission, true);
          return undefined;
        }
        if (rt.receive(from, 'unicast', bytes) === 'reject') this.offence(from, 'unicast input rejected by the engine', true);
      } catch (err) {
        this.ctx.log(`engine threw on unicast input: ${err instanceof Error ? err.name : 'error'}`);
      }
      return undefined;
    });
  }
}
