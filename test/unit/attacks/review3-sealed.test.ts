// Review 3 (sealed control messages, app/core/engine/heartbeat.ts onUnopenedControl): what a
// peer without the TEK, or a member, can still do with a SealedControl's clear header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../../app/core/engine.js';
import { advanceRevision } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { Attacker, GROUP, currentTek, deps, honestGroup, identity } from './forge.js';

test('review3: an outsider cannot crowd a joiner\'s kept sealed messages out (no per-sender bound while joining)', () => {
  // Hole: while joining without a TEK, onUnopenedControl keeps up to MAX_PENDING_SEALED (512) in
  // total with no per-sender bound, so one stranger's junk fills the buffer and a member's real
  // announcement, sent before the joiner holds the TEK, is dropped.
  const g = honestGroup(['a', 'b']);
  const c = identity('c');
  const e = identity('e');
  g.gate.allowed.add(c.key);
  const b = new Attacker(g.ids.b!);
  const tek = currentTek(g.e.b!)!;
  b.sealUnder({ ...tek, revision: tek.revision + 1, key: advanceRevision(nodeCrypto, tek.key, tek.revision, tek.revision + 1) });
  const announcement = b.memberAdmitted([{ key: e.key, name: 'e', admittedAt: g.net.now }]);
  b.sealUnder(null);
  const joiner = GroupEngine.join(deps('c', { admission: g.gate }), c, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now });
  // Mallory knows the group ID (an old invite) and holds no TEK: she seals junk under a TEK of her own.
  const mallory = new Attacker(identity('mallory'));
  for (let i = 0; i < 600; i++) {
    const junk = mallory.heartbeat({ sentAt: g.net.now + i, keys: [{ slot: 0, version: 1 + i, revision: 0, creators: [mallory.key] }] });
    joiner.receive(mallory.key, 'control', junk, g.net.now);
  }
  joiner.receive(g.ids.b!.key, 'control', announcement, g.net.now);
  for (let ev = joiner.pollEvent(); ev; ev = joiner.pollEvent());
  g.net.add(c, joiner);
  g.net.settle();
  g.net.run(g.net.now + g.params.heartbeatMs);
  assert.equal(joiner.state(), 'member');
  assert.ok(joiner.members().some((m) => m.key === e.key && m.state === 'member'), "b's announcement, kept while joining, is opened after joining despite mallory's flood");
});
