// FractionalPanel (app/fractional/panel-hook.ts), the engine's PanelHook, driven
// directly: several hooks on one virtual clock, their frames delivered FIFO, the
// views handed to them as the engine would (docs/fractional.md "Integration with
// the flat table"). The sessions inside are the real ones; only bytes move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberKey, PanelHookEvent } from '../../app/core/types.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { FractionalPanel } from '../../app/fractional/panel-hook.js';
import { identities, seededRng } from './fractional/harness.js';
import { FORM_DELAY, HookNet, TIMEOUT, hex, started } from './fractional/hook-net.js';

test('panel rule: the panelSize longest-standing members, in admission order; the rest run nothing', () => {
  // Admission times shuffled, two of them tied: the tie goes to the lower key.
  const times = [1005, 1000, 1003, 1003, 1001, 1009, 1002];
  const net = started(7, 5, (i) => times[i]!);
  const standing = net.members.slice().sort((a, b) => a.admittedAt - b.admittedAt || (a.key < b.key ? -1 : 1)).map((m) => m.key);
  const expected = standing.slice(0, 5);
  for (const [k, h] of net.hooks) {
    if (expected.includes(k)) assert.deepEqual(h.panel, expected, 'every panel member runs the same ordered list');
    else {
      assert.equal(h.panel, null, 'a member off the panel runs nothing');
      assert.equal(h.takeKey('refresh', [], net.now), null);
    }
    assert.deepEqual(h.choosePanel(), expected, 'every member computes the same choice');
  }
  assert.deepEqual(net.texts('rejected'), []);
});

test('keys agree: every panel member hands out the same key for the same round, once', () => {
  const net = started();
  const round = net.readyRound();
  assert.equal(round, 2, 'initialization is iteration 1, the first round 2');
  const given = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(given.length, 5, 'each of the 5 panel members has the key ready');
  assert.equal(new Set(given.map((g) => hex(g.key))).size, 1, 'one key');
  assert.equal(new Set(given.map((g) => g.round)).size, 1);
  assert.deepEqual(given[0]!.members, net.hook(0).panel);
  // Never twice locally, even before `consumed` comes back.
  for (const [, h] of net.live()) assert.equal(h.takeKey('refresh', [], net.now), null);
  assert.ok(net.texts('panel-round').some((t) => t.startsWith('round 2 complete: panel ')));
});

test('takeKey refuses a key that an excluded member knew (it was on the round’s panel)', () => {
  const net = started();
  const initiator = net.hook(0);
  assert.equal(initiator.takeKey('exclude', [net.key(2)], net.now), null, 'member 2 is on the panel: it knows the key');
  assert.equal(initiator.readyRound, 2, 'a refused key stays ready');
  const ok = initiator.takeKey('exclude', [net.key(6)], net.now);
  assert.ok(ok, 'member 6 is off the panel: the key is fine');
  assert.equal(ok.round, 2);
});

test('consumed → the panel runs the next round; a new key, agreed by all', () => {
  const net = started();
  const first = net.hook(0).takeKey('refresh', [], net.now)!;
  net.consumeAll(first.round, first.members);
  assert.equal(net.readyRound(), 3, 'one round ahead again');
  const second = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(second.length, 5);
  assert.equal(new Set(second.map((g) => hex(g.key))).size, 1);
  assert.notEqual(hex(second[0]!.key), hex(first.key));
  // A consumed() for a round this member never handed out also counts (another member's table).
  const net2 = started();
  net2.consumeAll(2, net2.hook(0).panel as MemberKey[]);
  assert.equal(net2.readyRound(), 3);
});

test('a panel member that disappears (excluded) is replaced by the next longest-standing member through recovery', () => {
  const net = started();
  const gone = net.key(2);
  assert.equal(net.hook(0).takeKey('exclude', [gone], net.now), null);
  const before = net.received.get(gone) ?? 0;
  net.blocked = [gone];
  net.updateAll();
  net.settle();
  const expected = [net.key(0), net.key(1), net.key(5), net.key(3), net.key(4)];
  for (const [, h] of net.live().filter(([, h]) => h.panel)) assert.deepEqual(h.panel, expected, 'the replacement holds the failed member’s place');
  assert.equal(net.hook(5).panel !== null, true, 'member 5 (next longest-standing) joined the panel');
  assert.equal(net.hook(6).panel, null);
  assert.equal(net.received.get(gone) ?? 0, before, 'the excluded member receives nothing after its replacement starts');
  const recoveries = net.texts('panel-recovery');
  assert.equal(recoveries.length, 5, 'every member of the new panel reports it');
  assert.ok(recoveries.every((t) => t.startsWith(`recovered: ${gone.slice(0, 8)} replaced by ${net.key(5).slice(0, 8)}`)));
  // The next round is made without the excluded member.
  assert.equal(net.readyRound(), 4, 'iteration 3 was the recovery');
  const keys = [...net.takeAll([gone]).values()].filter((x) => x !== null);
  assert.equal(keys.length, 5);
  assert.equal(new Set(keys.map((k) => hex(k.key))).size, 1);
  assert.ok(!keys[0]!.members.includes(gone));
});

test('a panel member that crashes mid-round times out and is replaced; the next key comes without it', () => {
  const net = started();
  const first = net.hook(0).takeKey('refresh', [], net.now)!;
  const crashed = net.key(3);
  net.down.add(crashed);
  net.consumeAll(first.round, first.members); // starts round 3, which cannot finish
  assert.equal(net.hook(0).readyRound, null);
  net.advance(2 * TIMEOUT);
  const panel = net.hook(0).panel!;
  assert.ok(!panel.includes(crashed), 'replaced');
  assert.ok(panel.includes(net.key(5)));
  assert.ok(net.texts('panel-recovery').some((t) => t.startsWith(`recovered: ${crashed.slice(0, 8)} replaced by ${net.key(5).slice(0, 8)}`)));
  const keys = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(keys.length, 5);
  assert.equal(new Set(keys.map((k) => hex(k.key))).size, 1);
  assert.ok(!keys[0]!.members.includes(crashed));
});

test('two panel members gone at once: a fresh panel from the current view', () => {
  const net = started();
  net.blocked = [net.key(1), net.key(2)];
  net.updateAll();
  net.advance(FORM_DELAY + 500);
  const expected = [net.key(0), net.key(3), net.key(4), net.key(5), net.key(6)];
  for (const k of expected) assert.deepEqual(net.hooks.get(k)!.panel, expected);
  assert.ok(net.texts('panel-recovery').some((t) => t.startsWith('new panel ')), 'visible as a panel-recovery event');
  assert.equal(net.readyRound(), 2, 'a new panel: initialization, then its first round');
  const keys = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(new Set(keys.map((k) => hex(k.key))).size, 1);
});

test('fewer than 4 members: inactive, one visible fallback event, no panel traffic', () => {
  const net = started(3);
  assert.equal(net.queue.length, 0);
  for (const [, h] of net.hooks) {
    assert.equal(h.panel, null);
    assert.equal(h.takeKey('refresh', [], net.now), null);
  }
  assert.equal(net.texts('fallback-single').length, 3, 'one per member');
  assert.ok(net.texts('fallback-single')[0]!.includes('fewer than 4 members'));
  net.updateAll();
  assert.equal(net.texts('fallback-single').length, 3, 'reported when it becomes inactive, not on every update');
  // A panel that drops below 4 stops too.
  const big = started(5, 5);
  assert.ok(big.hook(0).panel);
  big.blocked = [big.key(3), big.key(4)];
  big.updateAll();
  big.advance(FORM_DELAY + 500);
  assert.equal(big.hook(0).panel, null);
  assert.equal(big.hook(0).takeKey('refresh', [], big.now), null);
  assert.ok(big.texts('fallback-single').length >= 3);
});

test('bad panel input becomes rejected events and changes nothing', () => {
  const net = started();
  const h = net.hook(1);
  const panel = h.panel;
  const ready = h.readyRound;
  h.receive(net.key(0), new Uint8Array([9, 9, 9]), net.now);
  h.receive(net.key(0), new Uint8Array(17).fill(2), net.now); // data frame with no body
  // A `form` from a member that is not first on its own list.
  const form = new Uint8Array(1 + 8 + 8 + 1 + 4 * 32);
  form[0] = 1;
  form[17] = 4;
  for (const [i, k] of [net.key(3), net.key(1), net.key(2), net.key(0)].entries()) form.set(Buffer.from(k, 'hex'), 18 + 32 * i);
  h.receive(net.key(0), form, net.now);
  // A data frame whose time field is out of range.
  const data = new Uint8Array(17 + 40).fill(0xff);
  data[0] = 2;
  h.receive(net.key(0), data, net.now);
  // A data frame for a panel this member does not run: it waits (bounded), silently.
  const other = new Uint8Array(17 + 40).fill(0);
  other[0] = 2;
  h.receive(net.key(0), other, net.now);
  const rejected: PanelHookEvent[] = [];
  for (let e = h.pollEvent(); e; e = h.pollEvent()) rejected.push(e);
  assert.equal(rejected.filter((e) => e.kind === 'rejected').length, 4, JSON.stringify(rejected));
  assert.ok(rejected.every((e) => e.kind !== 'rejected' || e.from === net.key(0)));
  assert.deepEqual(h.panel, panel);
  assert.equal(h.readyRound, ready);
  assert.equal(h.pollTransmit(), undefined);
});

test('joins in a burst make one panel; a panel below panelSize grows when a member joins', () => {
  const net = new HookNet(identities(5, 'hook'), 5);
  const all = net.members;
  net.members = all.slice(0, 4);
  net.updateAll();
  net.advance(FORM_DELAY + 500);
  assert.deepEqual(net.hook(0).panel, all.slice(0, 4).map((m) => m.key), 'a panel of the 4 present');
  assert.equal(net.readyRound(), 2);
  net.members = all;
  net.updateAll();
  net.advance(FORM_DELAY + 500);
  for (const [, h] of net.live()) assert.deepEqual(h.panel, all.map((m) => m.key), 'the fifth member is on the new panel');
  const keys = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(keys.length, 5);
  assert.equal(new Set(keys.map((k) => hex(k.key))).size, 1);
  // Growth forms a new panel silently: panel-recovery lines are for failures.
  const forms = [...net.events.values()].flat().filter((e) => e.kind === 'panel-recovery');
  assert.deepEqual(forms, [], 'growing is not a recovery');
});

test('an initiator that crashes during initialization is passed over by the next longest-standing member', () => {
  const net = new HookNet(identities(6, 'hook'), 5);
  net.updateAll();
  net.now += FORM_DELAY;
  net.hook(0).tick(net.now); // forms the panel and starts initialization …
  net.collect();
  net.down.add(net.key(0)); // … and crashes: its first frames arrive, nothing reaches it any more
  net.settle();
  assert.deepEqual(net.hook(1).panel, [0, 1, 2, 3, 4].map((i) => net.key(i)), 'the others joined its panel');
  net.advance(4 * TIMEOUT + FORM_DELAY);
  const expected = [1, 2, 3, 4, 5].map((i) => net.key(i));
  for (const k of expected) assert.deepEqual(net.hooks.get(k)!.panel, expected);
  assert.ok(net.texts('panel-recovery').some((t) => t.startsWith('new panel ') && t.includes(`${net.key(0).slice(0, 8)} formed no panel`)));
  const keys = [...net.takeAll().values()].filter((x) => x !== null);
  assert.equal(keys.length, 5);
  assert.equal(new Set(keys.map((k) => hex(k.key))).size, 1);
});

test('a member back from a crash, replaced meanwhile, does not start a rival panel', () => {
  const net = started(6);
  const first = net.hook(0).takeKey('refresh', [], net.now)!;
  const c = net.key(2);
  net.down.add(c);
  net.consumeAll(first.round, first.members);
  net.advance(2 * TIMEOUT);
  const panel = net.hook(0).panel!;
  assert.ok(!panel.includes(c));
  // c comes back with a fresh hook (a restarted peer), in the view as before.
  net.down.delete(c);
  net.hooks.set(c, new FractionalPanel({ crypto: nobleCrypto, rng: seededRng('hook/restarted') }, net.ids[2]!.seed, { processTimeoutMs: TIMEOUT, formDelayMs: FORM_DELAY }));
  net.hooks.get(c)!.update(net.view(c), net.now);
  net.collect();
  net.advance(10 * TIMEOUT);
  assert.equal(net.hooks.get(c)!.panel, null, 'it waits for a form that the healthy panel has no reason to send');
  assert.deepEqual(net.hook(0).panel, panel, 'the panel is untouched');
  assert.ok(net.hook(0).readyRound !== null);
});
