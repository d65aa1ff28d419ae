// Review 33, finding 1: a malicious panel initiator frames an honest member as an equivocator.
// The epoch of a panel is chosen by its initiator alone (session-init.ts startInit; the others
// take whatever epoch its first I-message carries), and iterations restart at 2 in every panel.
// So an initiator that forms a second panel with the epoch of an earlier one makes every member
// sign a second commitment for (epoch, 2). It keeps an honest member's signed `commit` record of
// round 2 of the first panel and forwards it as `evidence` in round 2 of the second: every honest
// member names the honest member a cheater, aborts the round naming it (failed/verification),
// and the hook suspects it and forms a panel without it.
// Secure: evidence must carry the panel's current state digest too (it covers θ and the pads,
// which every member randomizes), so no record of an earlier panel or round proves anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberKey } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { PanelSession } from '../../../app/fractional/session.js';
import { identities, initialized, PanelNet, seededRng } from '../fractional/harness.js';

test('review33 F1: a malicious initiator reusing an epoch frames an honest member with its own old commit', () => {
  const ids = identities(5, 'r33-f1');
  const keys = ids.map((i) => i.key);
  const attacker = keys[0]!; // the panel initiator (longest-standing member)
  const framed = keys[2]!; // an honest member
  // Panel 1: init, then round 2. The attacker keeps the framed member's signed commit record.
  const p1 = initialized(new PanelNet(ids, { label: 'r33-f1-p1' }));
  let old: Uint8Array | null = null;
  p1.intercept = (m) => {
    if (m.from === framed && m.to === attacker && p1.decode(m).body.kind === 'commit') old = p1.plaintext(m);
    return m.bytes;
  };
  p1.session(attacker).startRound(p1.now);
  p1.run();
  for (const k of keys) assert.equal(p1.eventsOf(k, 'round-complete').length, 1);
  assert.ok(old, 'the attacker holds the framed member\'s commit of round 2');
  const epochX = p1.decode({ from: framed, to: attacker, bytes: p1.sent.find((s) => s.from === framed && s.to === attacker)!.bytes }).epoch;

  // Panel 2 (another panel: same or other members, fresh sessions): the attacker initiates it
  // with the old epoch (it re-signs its own messages: it needs no one else's key).
  const p2 = new PanelNet(ids, { label: 'r33-f1-p2' });
  p2.now = p1.now + 60_000;
  // The attacker's (modified) client: its next "random" epoch is panel 1's.
  const fresh = seededRng('r33-f1-attacker');
  let first = true;
  const rng = (n: number) => {
    if (first && n === epochX.length) {
      first = false;
      return epochX.slice();
    }
    return fresh(n);
  };
  p2.sessions.set(attacker, new PanelSession({ crypto: nobleCrypto, rng }, ids[0]!.seed, keys));
  let injected = false;
  p2.intercept = (m) => {
    if (m.from !== attacker) return m.bytes;
    const decoded = p2.decode(m);
    if (decoded.body.kind === 'commit' && !injected && m.to !== framed) {
      injected = true;
      // round 2 of panel 2: the attacker "forwards" the framed member's commitment of panel 1's round 2
      const evidence = p2.forge(m, (x) => ({ ...x, body: { kind: 'evidence', record: old! } }));
      p2.queue.push({ from: attacker, to: m.to, bytes: evidence });
    }
    return m.bytes;
  };
  p2.session(attacker).startInitialization(p2.now);
  p2.run();
  for (const k of keys) assert.equal(p2.eventsOf(k, 'initialized').length, 1, 'panel 2 initialized (with the reused epoch)');
  p2.session(attacker).startRound(p2.now);
  p2.run();
  assert.ok(injected);
  const honest = keys.filter((k) => k !== attacker);
  const framedBy = honest.filter((k) => p2.eventsOf(k, 'cheater').some((e) => e.member === framed));
  const blamedBy = honest.filter((k) => p2.eventsOf(k, 'failed').some((f) => f.reason === 'verification' && f.missing.includes(framed)));
  // The attack works if any honest member names the honest member a cheater.
  assert.deepEqual(
    framedBy.map((k: MemberKey) => k.slice(0, 8)),
    [],
    `honest member ${framed.slice(0, 8)} framed as a cheater by ${framedBy.length} honest members; rounds aborted naming it at ${blamedBy.length}`,
  );
});
