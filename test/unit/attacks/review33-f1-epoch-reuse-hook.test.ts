// Review 33, finding 1 end to end (panel hooks): the group's longest-standing member, which
// initiates every panel, re-forms the panel with the epoch of the previous one and forwards an
// honest member's commitment of the previous panel's round 2 as evidence in the new panel's
// round 2. Every honest member names the honest member a cheater and suspects it; the next panel
// leaves the honest member out, and the attacker stays on it.
// Secure: evidence must carry the panel's current state digest too (it covers θ and the pads,
// which every member randomizes), so no record of an earlier panel or round proves anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { FractionalPanel } from '../../../app/fractional/panel-hook.js';
import { encodeFrame } from '../../../app/fractional/panel-frames.js';
import { decodeSigned, encodeSigned, seal, sealTarget } from '../../../app/fractional/wire.js';
import { identities, seededRng } from '../fractional/harness.js';
import { FORM_DELAY, HookNet, openedFrame, TIMEOUT } from '../fractional/hook-net.js';

test('review33 F1 (hooks): an initiator that reuses its epoch gets an honest member suspected and left off the panel', () => {
  const ids = identities(7, 'r33-f1h');
  const net = new HookNet(ids, 5);
  const attacker = ids[0]!; // longest-standing: the initiator of every panel
  const framed = ids[2]!;
  // The attacker's modified client: its next epoch can be chosen.
  const fresh = seededRng('r33-f1h-attacker');
  let reuse: Uint8Array | null = null;
  const rng = (n: number) => {
    if (reuse && n === 16) {
      const e = reuse;
      reuse = null;
      return e.slice();
    }
    return fresh(n);
  };
  const attackerHook = new FractionalPanel({ crypto: nobleCrypto, rng }, attacker.seed, { processTimeoutMs: TIMEOUT, formDelayMs: FORM_DELAY });
  net.hooks.set(attacker.key, attackerHook);

  const opened = openedFrame;
  let old: Uint8Array | null = null;
  let phase = 1;
  const injectedTo = new Set<string>();
  net.intercept = (m) => {
    if (phase === 1 && m.from === framed.key && m.to === attacker.key) {
      const o = opened(attacker.seed, m.bytes);
      if (o && o.message.body.kind === 'commit' && o.message.iteration === 2) old = o.message.signed!.slice();
    }
    if (phase === 2 && m.from === attacker.key && m.to !== framed.key && !injectedTo.has(m.to)) {
      const victimSeed = ids.find((i) => i.key === m.to)!.seed;
      const o = opened(victimSeed, m.bytes);
      if (o && o.message.body.kind === 'commit') {
        injectedTo.add(m.to);
        const { signed: _, ...msg } = o.message;
        const evidence = encodeSigned(nobleCrypto, attacker.seed, { ...msg, body: { kind: 'evidence', record: old! } });
        const sealed = seal(nobleCrypto, seededRng('r33-seal'), sealTarget(nobleCrypto, m.to)!, evidence);
        net.inject(attacker.key, m.to, encodeFrame({ ...o.frame, bytes: sealed }));
      }
    }
    return m.bytes;
  };

  net.updateAll();
  net.advance(FORM_DELAY + 500); // panel 1 forms, initializes and completes round 2
  assert.equal(net.readyRound(), 2);
  assert.ok(old, 'the attacker holds the framed member\'s round-2 commit');
  const panel = [...attackerHook.panel!];
  assert.ok(panel.includes(framed.key));

  // The attacker re-forms the same panel (any reason will do; it decides alone) with the old epoch.
  phase = 2;
  const decodedOld = decodeSigned(nobleCrypto, old!);
  assert.ok(decodedOld.ok);
  reuse = decodedOld.value.epoch;
  const internals = attackerHook as unknown as { form(m: string[], now: number, reason: string | null): void; pump(now: number): void };
  internals.form(panel, net.now, null);
  internals.pump(net.now);
  net.collect();
  net.settle();
  net.advance(3 * TIMEOUT);
  assert.equal(injectedTo.size, 3, 'the evidence was sent in the new panel\'s round 2');

  const honest = ids.filter((i) => i !== attacker).map((i) => i.key);
  const accusers = honest.filter((k) => net.events.get(k)!.some((e) => e.kind === 'rejected' && e.text.startsWith('cheater') && e.from === framed.key));
  const withoutFramed = net.live().filter(([k, h]) => k !== attacker.key && h.panel && !h.panel.includes(framed.key)).map(([k]) => k.slice(0, 8));
  assert.deepEqual(
    accusers.map((k) => k.slice(0, 8)),
    [],
    `honest ${framed.key.slice(0, 8)} named a cheater by ${accusers.length} honest hooks; panels now without it: ${withoutFramed.length} (attacker still on them: ${attackerHook.panel?.includes(attacker.key)})`,
  );
});
