/**
 * @module peer/catch-up
 * Catch-up after being offline (issue 5 §7; docs/architecture.md "Catch-up after
 * being offline"), both sides of `/conclave/catchup`: a member asks a fellow
 * member for the encrypted data messages it kept since a time, and feeds them to
 * its engine as if they had just arrived on the data topic.
 *
 * Request: JSON `{ group, since }`. Response: one frame per kept message,
 * author's member key (32) ‖ the message as published.
 *
 * Invariants:
 * - Only current members are served, and only by a current member; the requester
 *   reads only what its own keys decrypt (the engine decides, not this module).
 * - A member asks from five minutes before the last data message it saw, so a
 *   crash that lost its last seconds of state loses nothing; duplicates are
 *   dropped by the runtime (by message ID) and by the engine.
 * - One request per (group, member) per 5 s, unless forced (on becoming a member).
 */
import { bytesToHex, hexToBytes, memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { CATCHUP_REQUEST_LIMITS, CATCHUP_RESPONSE_LIMITS, PROTOCOL_CATCHUP, request, serve } from '../net/unicast.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRuntime } from './group.js';
import { isConnected, isCurrentMember, parseJsonFrame, type PeerContext } from './peer-context.js';

const CATCHUP_THROTTLE_MS = 5000;
const CATCHUP_MARGIN_MS = 5 * 60_000;
const CATCHUP_MAX_ITEMS = 2000;
/** A newly admitted member asks again this long after, for what was published while it was still joining. */
const SECOND_ASK_MS = 4000;

export class CatchUp {
  private readonly lastAsked = new Map<string, number>();

  constructor(private readonly ctx: PeerContext) {}

  /** Serves `/conclave/catchup` from the groups' kept traffic. */
  async serve(): Promise<void> {
    await serve(this.ctx.node, PROTOCOL_CATCHUP, CATCHUP_REQUEST_LIMITS, (remote, frames) => {
      const req = parseJsonFrame(frames[0]) as { group?: unknown; since?: unknown } | null;
      const from = memberKeyOfPeer(remote);
      if (!req || !from || typeof req.group !== 'string' || typeof req.since !== 'number') return undefined;
      const rt = this.ctx.groups.get(req.group);
      if (!rt || !isCurrentMember(rt, from)) return undefined; // only current members are served (issue 5 §7)
      return rt.trafficSince(req.since, CATCHUP_MAX_ITEMS).map((item) => {
        const out = new Uint8Array(32 + item.bytes.length);
        out.set(hexToBytes(item.from), 0);
        out.set(item.bytes, 32);
        return out;
      });
    });
  }

  /** This member was just admitted: ask every connected member now, and once more a little later. */
  onMember(rt: GroupRuntime): void {
    const ask = (): void => {
      if (this.ctx.stopped()) return;
      for (const m of rt.engine.members()) if (m.key !== this.ctx.selfKey && isConnected(this.ctx.node, m.key)) void this.ask(rt, m.key, true);
    };
    ask();
    setTimeout(ask, SECOND_ASK_MS);
  }

  /** Asks `from` for the group's traffic since shortly before the last data this member saw. */
  async ask(rt: GroupRuntime, from: MemberKey, force = false): Promise<void> {
    const key = `${rt.group}:${from}`;
    const now = Date.now();
    if (!force && now - (this.lastAsked.get(key) ?? 0) < CATCHUP_THROTTLE_MS) return;
    this.lastAsked.set(key, now);
    const pid = peerOfMemberKey(from);
    if (!pid || rt.engine.state() !== 'member') return;
    const since = rt.record.lastDataAt > 0 ? rt.record.lastDataAt - CATCHUP_MARGIN_MS : 0;
    const frames = await request(this.ctx.node, pid, PROTOCOL_CATCHUP, new TextEncoder().encode(JSON.stringify({ group: rt.group, since })), CATCHUP_RESPONSE_LIMITS);
    if (!frames || this.ctx.stopped()) return;
    for (const frame of frames) {
      if (frame.length <= 32) continue;
      const sender = bytesToHex(frame.subarray(0, 32));
      if (sender === this.ctx.selfKey && rt.trafficKept() === 0) continue;
      try {
        rt.receive(sender, 'data', frame.slice(32), true);
      } catch (err) {
        this.ctx.log(`engine threw on catch-up input: ${err instanceof Error ? err.name : 'error'}`);
      }
    }
  }
}
