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

function tekOwnerTakenOver(g: ReturnType<typeof honestGroup>, silent: string, junk: boolean): string | null {
  const m = new Attacker(g.ids.m!);
  const cur = g.e.b!.tekInfo()!;
  g.net.offline.add(g.ids.m!.key); // mallory's own engine stays quiet; she speaks only through what she crafts below
  g.net.offline.add(silent);
  const until = g.net.now + 20 * g.params.heartbeatMs + 10 * g.params.fetchAfterMs;
  let i = 0;
  while (g.net.now < until) {
    if (junk) {
      // A fresh made-up TEK "one version ahead" every heartbeat: a new fetch target each time.
      m.sealUnder({ slot: 0, version: cur.version + 1, creators: [m.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([i++, 1, 2, 3])) });
      const hb = m.heartbeat({ sentAt: g.net.now, keys: [] });
      for (const who of ['b', 'c']) g.e[who]!.receive(m.key, 'control', hb, g.net.now);
      m.sealUnder(null);
    }
    g.net.run(g.net.now + g.params.heartbeatMs);
  }
  const owners = ['b', 'c'].map((w) => g.e[w]!.keyTable(g.net.now).tek?.owner ?? null);
  return owners.find((o) => o === g.ids.b!.key || o === g.ids.c!.key) ?? null;
}

test('review3: a member cannot stop every other member from taking over a silent TEK holder with unopenable headers', () => {
  // Control: without mallory's headers, b or c takes the TEK over from silent a.
  const control = honestGroup(['a', 'b', 'c', 'm']);
  assert.ok(tekOwnerTakenOver(control, control.ids.a!.key, false), 'control run: the silent holder is taken over');
  // Hole: each SealedControl under a made-up TEK "ahead" from a member schedules a fetch by tag
  // (heartbeat.ts onUnopenedControl), and failoverTick never claims the TEK while any TEK fetch
  // is pending (heartbeat.ts:212): one member keeps the group without a TEK holder for as long as it likes.
  const g = honestGroup(['a', 'b', 'c', 'm']);
  assert.ok(tekOwnerTakenOver(g, g.ids.a!.key, true), 'the silent holder is taken over despite a member\'s made-up headers');
});
