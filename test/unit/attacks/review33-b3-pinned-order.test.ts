// Review 33b, B3: the panel's first member (initiator and recovery initiator for every other
// member) stalls its panel forever and silently. It sends every other panel member a `recover`
// order that passes the new arrival check (cd24888: it *is* the recovery initiator) naming a
// replacement that is a valid key but never becomes a current member, crossing the orders so
// that no one is the named failed member of its own order (m1 gets failed=m2, the rest
// failed=m1). Each member keeps the order "until the view catches up"; roundAhead() starts no
// round while an order is kept, no process runs, so nothing times out, nobody is suspected and
// no event names the insider. Every later TEK version falls back to a single creator.
// Expected (secure): a kept order expires (e.g. orderWaitUntil), after which the panel
// recovers/restarts and rounds complete again, or the insider is named.
// Secure: a kept order waits at most one process timeout; then it is dropped, its sender is
// suspected if the replacement is still no member, and the panel is formed anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, TAG_RECOVER } from '../../../app/fractional/panel-frames.js';
import { identities } from '../fractional/harness.js';
import { started, TIMEOUT } from '../fractional/hook-net.js';

test('B3: crossed recover orders naming a never-current replacement pin every follower; no round ever completes again', () => {
  const net = started();
  const insider = net.key(0);
  const panel = net.hook(1).panel!;
  assert.equal(panel[0], insider);
  const panelId = (net.hook(1) as unknown as { running: { id: string } }).running.id;
  const ghost = identities(1, 'r33b-b3-ghost')[0]!.key; // a valid key, never a member
  for (const m of panel) {
    if (m === insider) continue;
    const failed = m === panel[1] ? panel[2]! : panel[1]!;
    net.inject(insider, m, encodeFrame({ tag: TAG_RECOVER, panelId, at: net.now, failed, replacement: ghost }));
  }
  net.settle();
  net.down.add(insider); // the insider's modified client now stays silent (still a member in every view)
  const first = net.hook(1).takeKey('refresh', [], net.now)!;
  assert.ok(first, 'a key was ready before the attack');
  net.consumeAll(first.round, first.members);
  const before = net.texts('panel-round').length;
  net.advance(30 * TIMEOUT);
  const after = net.texts('panel-round').length;
  const named = [...net.events.values()].flat().filter((e) => e.kind !== 'panel-round' && e.text.includes(insider.slice(0, 8)));
  const keys = net.live().filter(([k]) => k !== insider).map(([, h]) => h.takeKey('refresh', [], net.now));
  assert.ok(after > before || named.length > 0 || keys.some((k) => k), `panel stalled silently: rounds before ${before}, after ${after}; events naming the insider: ${named.length}; keys available: ${keys.filter(Boolean).length}`);
});
