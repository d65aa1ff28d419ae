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
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { GROUP, drain, honestGroup, identity } from './forge.js';
import { offlineHost } from '../solo-runtime.js';

test('review32-pass2: 32 stranger identities do not crowd the inviter\'s control message out of the joiner\'s early-control replay', () => {
  const g = honestGroup(['a', 'b']);
  const c = identity('c');
  g.gate.allowed.add(c.key);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-r32p2-early-'));
  const profile = Profile.open(dir);
  const now = g.net.now;
  const rt = new GroupRuntime(
    offlineHost({ selfKey: c.key, profile, seed: c.seed, now: () => now, name: 'c' }),
    newGroupRecord(GROUP, 'g', now),
    (d) => GroupEngine.join(d, c, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now }),
    100,
  );
  rt.drive();
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
    const early = (rt as unknown as { earlyControl: { from: string }[] }).earlyControl;
    assert.ok(
      early.some((e) => e.from === g.ids.a!.key),
      `the member's control message is not kept for the replay: ${early.length} kept, all strangers' (verdicts ${JSON.stringify(verdicts)})`,
    );
  } finally {
    rt.stop();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
