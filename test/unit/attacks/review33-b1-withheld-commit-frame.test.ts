// Review 33b, B1: the equivocation fix (6e665cb) is sidestepped by plain omission.
// The liar signs nothing contradictory: it simply never delivers its round commitment to the
// victim (drops it, or sends one with a wrong state digest, which the victim refuses). The
// victim never holds all n commitments, so it never reveals; every other member holds all
// commitments, reveals, and times out naming the victim alone (missing = [victim]). The
// hooks suspect the victim, replace it by recovery, and the liar stays on the panel.
// Exactly the outcome review 31 reported and 6e665cb claims closed, at zero cost to the liar.
// Expected (secure) behaviour: the victim is not put off the panel while the liar stays.
// Secure: half-way to the deadline a member that holds every commitment relays its commit
// records to each member whose reveal has not come; the victim adopts the one it lacks and reveals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identities } from '../fractional/harness.js';
import { FORM_DELAY, HookNet, openedFrame, TIMEOUT } from '../fractional/hook-net.js';

test('B1: a member that withholds its commitment from one victim gets the victim replaced and stays', () => {
  const ids = identities(7, 'r33b-b1');
  const net = new HookNet(ids, 5);
  const liar = ids[1]!;
  const victim = ids[3]!;
  let attacking = true;
  let dropped = 0;
  net.intercept = (m) => {
    if (!attacking || m.from !== liar.key || m.to !== victim.key) return m.bytes;
    if (openedFrame(victim.seed, m.bytes)?.message.body.kind === 'commit') {
      dropped++;
      return null; // the liar's commitment never reaches the victim; nothing else changes
    }
    return m.bytes;
  };
  net.updateAll();
  net.advance(FORM_DELAY + 500); // panel forms, initializes, first round starts
  attacking = false; // one round is enough
  net.advance(4 * TIMEOUT + 3 * FORM_DELAY);
  assert.ok(dropped > 0, 'the attack ran');
  const honest = ids.map((i) => i.key).filter((k) => k !== liar.key);
  const panels = net.live().filter(([k, h]) => k !== liar.key && k !== victim.key && h.panel).map(([k, h]) => [k, h.panel!] as const);
  const victimOff = panels.some(([, p]) => !p.includes(victim.key));
  const liarOn = panels.some(([, p]) => p.includes(liar.key));
  const report = net.texts('panel-recovery').concat(net.texts('rejected').filter((t) => t.startsWith('cheater')));
  assert.ok(!(victimOff && liarOn), `honest victim replaced while the liar stays on the panel: ${JSON.stringify(report)}; panels ${JSON.stringify(panels.map(([k, p]) => [k.slice(0, 8), p.map((x) => x.slice(0, 8))]))}; honest=${honest.length}`);
});
