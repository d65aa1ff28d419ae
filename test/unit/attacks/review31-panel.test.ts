// Review 31 (the fractional-key panel, 004): a recovery hands the replacement the panel's θ
// (004 §IV), and the key of the panel's last completed round derives from θ. When that key had
// already become TEK version v (a table's TEK′ at revision 0), a member admitted after v was made
// (granted v one revision on, so it cannot read what was sent before it joined) could be picked as
// the replacement and compute v at revision 0: every revision before its admission. No malice
// needed: a panel member crashed just before the refresh. Secure: such a member never replaces a
// panel member (`panel-hook.ts mayInherit`); with nobody else the panel is formed anew. The second
// attacker review found the first version's test ("current when the use was learned here") open
// when the table that used the key reached the others after the newcomer's admission, or never
// (paths that adopt a TEK without applying its table): now a replacement must have been a current
// member here when the panel's last round completed, before any table could use its key.
// Second finding: `form` frames are not signed and were taken from any member. One off the panel
// re-formed the panel every few seconds, so no round completed and every TEK version fell back to a
// single creator, with nothing naming it; a form dated far ahead outranked every later genuine one.
// Secure: a form only from one of the panel's longest-standing members, dated at most 2 minutes
// ahead, and while a panel runs only from its initiator; the rest are `rejected` naming the sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineDeps } from '../../../app/core/engine.js';
import type { MemberKey, PanelHook } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { decodeSigned, open, openingKeys } from '../../../app/fractional/wire.js';
import { parseScenario } from '../../../app/sim/scenario.js';
import { Simulation } from '../../../app/sim/simulation.js';
import { SMALL, joins } from '../../scenario/helpers.js';
import { decodeFrame, encodeFrame, TAG_DATA, TAG_FORM } from '../../../app/fractional/panel-frames.js';
import { FORM_DELAY, HookNet, TIMEOUT, started } from '../fractional/hook-net.js';
import { identities } from '../fractional/harness.js';

/** Wraps `name`'s panel hook to record every frame it receives. */
function recordPanelFrames(name: string, into: { from: MemberKey; bytes: Uint8Array }[]): (peer: string, deps: EngineDeps) => EngineDeps {
  return (peer, deps) => {
    if (peer !== name || !deps.panel) return deps;
    const h = deps.panel;
    const panel: PanelHook = {
      update: (v, t) => h.update(v, t),
      receive: (f, b, t) => {
        into.push({ from: f, bytes: b });
        h.receive(f, b, t);
      },
      tick: (t) => h.tick(t),
      takeKey: (p, e, t) => h.takeKey(p, e, t),
      consumed: (r, m, t) => h.consumed(r, m, t),
      nextDeadline: () => h.nextDeadline(),
      pollEvent: () => h.pollEvent(),
      pollTransmit: () => h.pollTransmit(),
    };
    return { ...deps, panel };
  };
}

test('review31: a member admitted after a panel TEK was made never receives the θ that derives it', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const scenario = parseScenario({
    params: { ...SMALL, panelSize: 5, refreshVersionMs: 8000 },
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(names.slice(1)),
      { at: 7900, do: 'crash', peer: 'c' }, // a panel member goes away just before the refresh
      { at: 8500, do: 'sendAll', text: 'before g' },
      { at: 9000, do: 'join', peer: 'g', via: 'a' },
    ],
    until: 20000,
  });
  const received: { from: MemberKey; bytes: Uint8Array }[] = [];
  const sim = new Simulation(scenario, { seed: 1, decorateDeps: recordPanelFrames('g', received) });
  sim.runUntil(8800);
  const v2 = sim.engineOf('a')!.tekInfo()!;
  assert.equal(v2.version, 2);
  assert.equal(v2.origin.kind, 'panel', 'TEK v2 came from a panel round (the setting the attack needs)');
  sim.runUntil(9800);
  const gV2 = sim.engineOf('g')!.exportKeyMaterial().filter((k) => k.slot === 0 && k.version === 2);
  assert.ok(gV2.length > 0 && gV2.every((k) => k.revision >= 1), 'g was granted v2 from a later revision on');
  sim.runUntil(20000);
  const keys = openingKeys(nobleCrypto, sim.peer('g').seed);
  const kinds = received
    .map((x) => decodeFrame(x.bytes))
    .filter((f) => f?.tag === TAG_DATA)
    .map((f) => open(nobleCrypto, keys, (f as { bytes: Uint8Array }).bytes))
    .flatMap((r) => (r.ok ? [decodeSigned(nobleCrypto, r.value)] : []))
    .flatMap((m) => (m.ok ? [m.value.body.kind] : []));
  assert.ok(!kinds.includes('handover'), `g received a recovery handover (the θ that derives v2 at revision 0): ${kinds.join(', ')}`);
  // The group goes on: the stalled round is abandoned and every live member holds one TEK.
  const live = ['a', 'b', 'd', 'e', 'g'].map((n) => sim.engineOf(n)!.tekInfo()!);
  assert.equal(new Set(live.map((t) => `${t.version}/${t.fingerprint}`)).size, 1, 'one TEK everywhere');
});

test('review31: a member admitted after the panel key was used is no replacement, however late the others learn of the use', () => {
  const ids = identities(6, 'late');
  const net = new HookNet(ids, 5);
  const newcomer = ids[5]!;
  net.members = net.members.slice(0, 5); // the newcomer is not a member yet
  net.updateAll();
  net.advance(FORM_DELAY + 500);
  assert.equal(net.readyRound(), 2);
  // Member 3 makes TEK v from round 2's key, then crashes.
  const maker = net.key(3);
  const used = net.hooks.get(maker)!.takeKey('refresh', [], net.now)!;
  assert.ok(used);
  net.down.add(maker);
  // The newcomer is admitted after v was made; the table reaches the others only after that.
  net.now += 100;
  net.members.push({ key: newcomer.key, admittedAt: net.now });
  net.updateAll();
  net.now += 100;
  for (const i of [0, 1, 2, 4]) net.hook(i).consumed(used.round, used.members, net.now);
  net.collect();
  net.settle();
  const toNewcomer: Uint8Array[] = [];
  const hook = net.hooks.get(newcomer.key)!;
  const receive = hook.receive.bind(hook);
  hook.receive = (from, bytes, now) => {
    toNewcomer.push(bytes);
    receive(from, bytes, now);
  };
  net.advance(3 * TIMEOUT); // round 3 stalls on the crashed member and fails
  const keys = openingKeys(nobleCrypto, newcomer.seed);
  const kinds = toNewcomer
    .map((b) => decodeFrame(b))
    .flatMap((f) => (f?.tag === TAG_DATA ? [open(nobleCrypto, keys, f.bytes)] : []))
    .flatMap((o) => (o.ok ? [decodeSigned(nobleCrypto, o.value)] : []))
    .flatMap((m) => (m.ok ? [m.value.body.kind] : []));
  assert.ok(!kinds.includes('handover'), 'the newcomer received the handover whose θ derives TEK v at revision 0');
});

const formFrame = (id: string, at: number, members: MemberKey[]) => encodeFrame({ tag: TAG_FORM, panelId: id, at, members });

test('review31: a member off the panel cannot keep re-forming it; the panel goes on making keys and the sender is named', () => {
  const net = started(7, 5);
  const attacker = net.key(6);
  assert.ok(!net.hook(0).panel!.includes(attacker), 'the attacker is not on the panel');
  const victims = [0, 1, 2, 3].map((i) => net.key(i));
  for (let k = 0; k < 10; k++) {
    const id = (k + 1).toString(16).padStart(16, '0');
    for (const v of victims) net.inject(attacker, v, formFrame(id, net.now, [attacker, ...victims]));
    net.settle();
    net.advance(TIMEOUT / 2);
    // The panel keeps producing keys meanwhile: take one and let the next round run.
    const keys = [...net.takeAll().values()].filter((x) => x !== null);
    assert.equal(keys.length, 5, `round ${k}: every panel member hands out the panel's key`);
    net.consumeAll(keys[0]!.round, keys[0]!.members);
  }
  const named = [...net.events.values()].flat().filter((e) => e.kind === 'rejected' && e.from === attacker);
  assert.ok(named.length >= 10, `the attacker's forms are rejected, naming it (${named.length})`);
});

test('review31: a form dated far ahead is refused, and the rightful initiator\'s later form is taken', () => {
  const net = started(7, 5);
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => net.key(i)) as [MemberKey, MemberKey, MemberKey, MemberKey, MemberKey];
  const insider = net.key(6);
  for (const v of [a, b, c, d]) net.inject(insider, v, formFrame('aaaaaaaaaaaaaaaa', Number.MAX_SAFE_INTEGER, [insider, b, c, d, a]));
  net.settle();
  for (const v of [a, b, c, d]) assert.deepEqual(net.hooks.get(v)!.panel, [a, b, c, d, e], 'the panel is unchanged');
  assert.ok(net.texts('rejected').some((t) => /dated .* s ahead/.test(t)));
  // Even from a panel member, while the panel runs: only its initiator re-forms it.
  for (const v of [a, c, d, e]) net.inject(b, v, formFrame('bbbbbbbbbbbbbbbb', net.now, [b, a, c, d, e]));
  net.settle();
  for (const v of [a, c, d, e]) assert.deepEqual(net.hooks.get(v)!.panel, [a, b, c, d, e], 'a non-initiator cannot re-form a running panel');
});
