// Review 31 (the fractional-key panel, 004): a recovery hands the replacement the panel's θ
// (004 §IV), and the key of the panel's last completed round derives from θ. When that key had
// already become TEK version v (a table's TEK′ at revision 0), a member admitted after v was made
// (granted v one revision on, so it cannot read what was sent before it joined) could be picked as
// the replacement and compute v at revision 0: every revision before its admission. No malice
// needed: a panel member crashed just before the refresh. Secure: such a member never replaces a
// panel member (`panel-hook.ts mayInherit`); with nobody else the panel is formed anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineDeps } from '../../../app/core/engine.js';
import type { MemberKey, PanelHook } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { decodeFrame, TAG_DATA } from '../../../app/fractional/panel-frames.js';
import { decodeSigned, open, openingKeys } from '../../../app/fractional/wire.js';
import { parseScenario } from '../../../app/sim/scenario.js';
import { Simulation } from '../../../app/sim/simulation.js';
import { SMALL, joins } from '../../scenario/helpers.js';

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
