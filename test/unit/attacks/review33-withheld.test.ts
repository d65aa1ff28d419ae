// Review 33, second and third passes: blame by omission. The evidence of 6e665cb catches a member
// that signs two commitments; the same outcome was open without signing anything contradictory.
// - Withheld commitment: the liar never delivers its round commitment to one victim. The victim
//   never holds all n commitments, so it never reveals; every other member timed out naming the
//   victim, suspected it and replaced it by recovery, and the liar stayed. Secure: half-way to the
//   deadline a member holding every commitment relays its commit records to each member whose
//   reveal has not come; the victim adopts the one it lacks and reveals.
// - Withheld reveal: the liar drops only its reveal to the victim. Every other member completed
//   the round; the victim timed out, its state then differed from everyone's, it refused the next
//   round's commitments, and the others replaced it. Secure: half-way to the deadline the victim
//   sends its reveal again to the members whose reveals it holds; one that completed the round
//   answers once with the round's signed reveal records (`answerLateReveal`), and the victim
//   adopts the one withheld from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identities } from '../fractional/harness.js';
import { FORM_DELAY, HookNet, openedFrame, TIMEOUT } from '../fractional/hook-net.js';

/** Runs a seven-member group (panel of five) whose member 1 withholds its `kind` from member 3 in the first round. */
function withheld(kind: 'commit' | 'reveal', label: string, rounds: number): void {
  const ids = identities(7, label);
  const net = new HookNet(ids, 5);
  const liar = ids[1]!;
  const victim = ids[3]!;
  let attacking = true;
  let dropped = 0;
  net.intercept = (m) => {
    if (!attacking || m.from !== liar.key || m.to !== victim.key) return m.bytes;
    if (openedFrame(victim.seed, m.bytes)?.message.body.kind !== kind) return m.bytes;
    dropped++;
    return null;
  };
  net.updateAll();
  net.advance(FORM_DELAY + 500); // the panel forms, initializes and starts its first round
  attacking = false; // one round is enough
  net.advance(4 * TIMEOUT + 3 * FORM_DELAY);
  for (let i = 0; i < rounds; i++) {
    // keep the panel busy: the next rounds show whether the victim's state still agrees
    const k = net.hook(0).takeKey('refresh', [], net.now);
    if (k) net.consumeAll(k.round, k.members);
    net.advance(4 * TIMEOUT);
  }
  assert.ok(dropped > 0, 'the attack ran');
  const panels = net.live().filter(([k, h]) => k !== liar.key && k !== victim.key && h.panel).map(([k, h]) => [k, h.panel!] as const);
  const victimOff = panels.some(([, p]) => !p.includes(victim.key));
  const liarOn = panels.some(([, p]) => p.includes(liar.key));
  const report = net.texts('panel-recovery').concat(net.texts('rejected').filter((t) => t.startsWith('cheater')));
  assert.ok(
    !(victimOff && liarOn),
    `honest victim ${victim.key.slice(0, 8)} replaced while the liar ${liar.key.slice(0, 8)} stays: ${JSON.stringify(report)}; panels ${JSON.stringify(panels.map(([k, p]) => [k.slice(0, 8), p.map((x) => x.slice(0, 8))]))}`,
  );
}

test('review33: a member that withholds its commitment from one victim does not get the victim replaced', () => {
  withheld('commit', 'r33b-b1', 0);
});

test('review33: a member that withholds its reveal from one victim does not get the victim replaced', () => {
  withheld('reveal', 'r33c-rev', 3);
});
