// Review 32 (h1, peer layer): while a group is joining (or listening), GroupRuntime.receive keeps
// every control-topic input, from anyone, in `earlyControl` (up to 512 of them) before the engine
// has even decoded it, to replay once the joiner is a member. Nothing bounds it per sender or in
// bytes, and a message the engine refuses as garbage stays kept. The transport lets everything
// from anyone reach the runtime while it joins (membership-gate.ts admitGossip: own state not
// `member` → PASS), and gossipsub takes messages up to 1 MiB + 64 KiB. So an outsider who knows
// the group ID (many throwaway identities: ten strikes each before the peer guard blocks one)
// makes a joiner hold 512 MiB for as long as its join lasts (a join whose inviter is unreachable
// lasts until the user gives up), and, once the list is full, a member's own control message that
// overtook the joiner's Admit is no longer kept for the replay (the engine's own joiner buffer
// was made stranger-proof in review 3; this one was not).
// Secure: what the engine refuses as undecodable is not kept, the kept bytes are bounded, and a
// member's control message that arrives after a stranger's flood is still kept for the replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MsgType, WIRE_VERSION } from '../../../app/core/wire.js';
import { drain, identity, type honestGroup } from './forge.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { joiner } from './joiner-runtime.js';


test('review32-h1: strangers cannot make a joiner hold hundreds of MiB of refused control input, nor crowd a member\'s control message out of its replay', () => {
  const { g, rt, profile, now } = joiner();
  try {
    attack(g, rt, now);
  } finally {
    rt.stop(); // its timers would keep the test process alive
    profile.close();
  }
});

function attack(g: ReturnType<typeof honestGroup>, rt: GroupRuntime, now: number): void {
  assert.equal(rt.engine.state(), 'joining');

  // One 1 MiB gossipsub payload (within maxInboundDataLength), looking like a SealedControl to the
  // network layer's three-byte peek; over the engine's 512 KiB control bound, so refused `decode`.
  // (One buffer reused: the runtime keeps a reference per message, as it would to each distinct one.)
  const junk = new Uint8Array(1024 * 1024);
  junk.set([0x43, WIRE_VERSION, MsgType.SealedControl], 0);
  const strangers = Array.from({ length: 60 }, () => randomBytes(32).toString('hex'));
  const verdicts = { reject: 0, other: 0 };
  for (let i = 0; i < 600; i++) {
    const v = rt.receive(strangers[i % strangers.length]!, 'control', junk); // 10 each: at the peer guard's strike limit
    if (v === 'reject') verdicts.reject++;
    else verdicts.other++;
  }
  assert.equal(verdicts.reject, 600, 'the engine refuses every one as garbage');

  // A member's genuine control message (its heartbeat, sealed under the TEK) arrives after the flood.
  g.e.a!.tick(now + 2 * g.params.heartbeatMs);
  const heartbeat = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'control');
  assert.ok(heartbeat && heartbeat.kind === 'publish');
  rt.receive(g.ids.a!.key, 'control', heartbeat.bytes);

  const early = (rt as unknown as { earlyControl: { items: { from: string; bytes: Uint8Array }[] } }).earlyControl.items;
  const strangersBytes = early.filter((e) => e.from !== g.ids.a!.key).reduce((n, e) => n + e.bytes.length, 0);
  const memberKept = early.some((e) => e.from === g.ids.a!.key);
  assert.deepEqual(
    { strangersMiB: Math.round(strangersBytes / 1024 / 1024), memberKept },
    { strangersMiB: Math.min(8, Math.round(strangersBytes / 1024 / 1024)), memberKept: true },
    "the joiner keeps strangers' refused control input (MiB) for its replay, and/or the member's control message that came after the flood is not kept",
  );
}

// Review 32 pass 2: eb267e3 keeps a joiner's early control input only when the engine did not
// refuse it as garbage, within 512 items, 8 MiB and 16 per sender. But a joiner without a TEK
// accepts any SealedControl whose clear header decodes (heartbeat.ts keepWhileJoining: no
// rejection, verdict 'accept'), so a stranger's well-framed input is kept, and the per-sender
// bound is per key: 32 throwaway identities x 16 messages fill all 512 slots (each a member's
// heartbeat with one ciphertext byte changed: distinct gossipsub messages, no peer-guard strike).
// A member's genuine control message that arrives after is then not kept for the replay, which
// is what the review-32 test asserts must not happen. (The engine's own buffer lets a contact's
// or roster member's message replace a stranger's when full; this one does not.)
// Secure: when full, a contact's or a roster member's input replaces the oldest stranger's, as in
// the engine's buffer. Members the joiner does not know yet cannot be told from strangers.
test('review32-pass2: 32 stranger identities do not crowd the inviter\'s control message out of the joiner\'s early-control replay', () => {
  const { g, rt, profile, now } = joiner();
  try {
    assert.equal(rt.engine.state(), 'joining');
    g.e.a!.tick(now + 2 * g.params.heartbeatMs);
    const hb = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'control');
    assert.ok(hb && hb.kind === 'publish');
    const verdicts: Record<string, number> = {};
    for (let s = 0; s < 32; s++) {
      const sybil = identity(`sybil${s}`).key;
      for (let i = 0; i < 16; i++) {
        const bytes = Uint8Array.from(hb.bytes);
        bytes[bytes.length - 1]! ^= s * 16 + i + 1; // another ciphertext: another gossipsub message
        const v = rt.receive(sybil, 'control', bytes);
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
    }
    g.e.a!.tick(now + 3 * g.params.heartbeatMs);
    const hb2 = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'control');
    assert.ok(hb2 && hb2.kind === 'publish');
    rt.receive(g.ids.a!.key, 'control', hb2.bytes);
    const early = (rt as unknown as { earlyControl: { items: { from: string }[] } }).earlyControl.items;
    assert.ok(
      early.some((e) => e.from === g.ids.a!.key),
      `the member's control message is not kept for the replay: ${early.length} kept, all strangers' (verdicts ${JSON.stringify(verdicts)})`,
    );
  } finally {
    rt.stop();
    profile.close();
  }
});
