// Review 31's open finding: a `recover` order from any member replaced the one a panel member
// kept while its view caught up. A panel member whose view did not yet hold the replacement
// keeps the recovery initiator's order until it does; a stray order (here from another panel
// member, dated later) took its place, was then refused as not from the recovery initiator,
// and the genuine one was lost: the member gave up on the recovery and the panel was formed
// anew. Now an order that cannot be the recovery initiator's for the panel running here is
// refused on arrival and leaves the kept one alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, TAG_RECOVER } from '../../../app/fractional/panel-frames.js';
import type { FractionalPanel } from '../../../app/fractional/panel-hook.js';
import { started, TIMEOUT } from '../fractional/hook-net.js';

test("panel hooks: a stray recover order does not displace the recovery initiator's order that waits for the view", () => {
  const net = started();
  const waiter = net.key(2);
  const crashed = net.key(3);
  const replacement = net.key(5);
  const stray = net.key(4);
  // The waiter's view does not hold the replacement yet.
  const lagging = net.view(waiter);
  lagging.members = lagging.members.filter((m) => m.key !== replacement);
  net.hook(2).update(lagging, net.now);
  net.collect();
  const first = net.hook(0).takeKey('refresh', [], net.now)!;
  net.down.add(crashed);
  net.consumeAll(first.round, first.members); // round 3 cannot finish without the crashed member
  net.advance(TIMEOUT + 100); // timed out everywhere; the recovery initiator's order reached the waiter, which keeps it
  const panelId = (net.hook(2) as unknown as { running: { id: string } }).running.id;
  assert.ok((net.hook(2) as unknown as { order: unknown }).order, 'the waiter keeps the order while its view lacks the replacement');
  net.inject(stray, waiter, encodeFrame({ tag: TAG_RECOVER, panelId, at: net.now, failed: crashed, replacement: net.key(6) }));
  net.settle();
  net.hook(2).update(net.view(waiter), net.now); // the view catches up
  net.collect();
  net.settle();
  net.advance(2 * TIMEOUT);
  const waiterEvents = net.events.get(waiter)!;
  assert.ok(
    waiterEvents.some((e) => e.kind === 'panel-recovery' && e.text.startsWith(`recovered: ${crashed.slice(0, 8)} replaced by ${replacement.slice(0, 8)}`)),
    `the waiter did not take part in the recovery: ${JSON.stringify(waiterEvents.filter((e) => e.kind !== 'panel-round').map((e) => e.text))}`,
  );
  assert.ok(waiterEvents.some((e) => e.kind === 'rejected' && e.from === stray), 'the stray order is refused, naming its sender');
  const panels = net.live().flatMap(([, h]: [string, FractionalPanel]) => (h.panel ? [h.panel.join(',')] : []));
  assert.equal(panels.length, 5, 'five members run a panel');
  assert.equal(new Set(panels).size, 1, 'one panel everywhere');
  assert.ok(net.hook(0).panel!.includes(replacement) && !net.hook(0).panel!.includes(crashed));
});
