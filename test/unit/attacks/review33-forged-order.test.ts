// (c): the recovery initiator for failed=panel[0] is panel[1]. An insider at panel[1] orders every
// follower to replace the honest panel[0] by a ghost. Who gets suspected, does it loop?
// Secure: a kept order that expires is dropped and its sender suspected (its replacement is no
// member), but the running panel goes on: nobody waits for a `form` that will not come.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, TAG_RECOVER } from '../../../app/fractional/panel-frames.js';
import { identities } from '../fractional/harness.js';
import { started, TIMEOUT } from '../fractional/hook-net.js';

test('review33: forged recover orders from the second panel member do not split the panel nor get honest members suspected', () => {
  const net = started();
  const panel = net.hook(2).panel!;
  const insider = panel[1]!;
  const ghost = identities(1, 'r33c-ghost')[0]!.key;
  let rounds = 0;
  for (let cycle = 0; cycle < 6; cycle++) {
    const hook = net.hooks.get(panel[2]!)!;
    const r = (hook as unknown as { running: { id: string; session: { panel: string[] } } | null }).running;
    if (r) {
      const p = r.session.panel;
      const from = p.find((m) => m !== p[0]);
      if (from === insider) for (const m of p) if (m !== insider && m !== p[0]) net.inject(insider, m, encodeFrame({ tag: TAG_RECOVER, panelId: r.id, at: net.now, failed: p[0]!, replacement: ghost }));
      net.settle();
    }
    const k = net.hook(0).takeKey('refresh', [], net.now);
    if (k) { rounds++; net.consumeAll(k.round, k.members); }
    net.advance(3 * TIMEOUT);
  }
  const susp = net.live().map(([k, h]) => [k.slice(0, 8), [...(h as unknown as { suspected: Map<string, number> }).suspected.keys()].map((x) => x.slice(0, 8))]);
  console.log('insider', insider.slice(0, 8), 'p0', panel[0]!.slice(0, 8), 'keys', rounds, 'suspicions', JSON.stringify(susp));
  console.log(net.texts('panel-recovery').slice(-8).join('\n'));
  const honestSuspected = net.live().some(([k, h]) => k !== insider && [...(h as unknown as { suspected: Map<string, number> }).suspected.keys()].some((m) => m !== insider));
  assert.ok(rounds >= 4 && !honestSuspected, `keys handed out ${rounds}/6; honest suspected: ${honestSuspected}`);
});
