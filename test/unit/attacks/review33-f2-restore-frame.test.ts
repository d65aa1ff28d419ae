// Review 33, finding 2: an honest member that crashes during a round and resumes from its last
// snapshot (taken between processes, as `snapshot()` requires) is proven an "equivocator".
// `restore` sets nextIteration to the snapshot's, so the resumed session, joining the round
// still running elsewhere, draws a new FK and signs a second commitment for the same iteration.
// Members that got the first one refuse the second (`replay`), the others keep the second; the
// digests disagree, the evidence is forwarded, and every other member names the honest,
// restarted member a cheater (before this change: a timeout naming it, a recovery).
// Secure: FK is derived from the member's seed and the round's public inputs
// (SessionCore.roundFraction), so the resumed session signs the same commitment again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { PanelSession } from '../../../app/fractional/session.js';
import { identities, initialized, PanelNet, seededRng } from '../fractional/harness.js';

test('review33 F2: a member resumed from its snapshot mid-round is named a cheater', () => {
  const ids = identities(5, 'r33-f2');
  const keys = ids.map((i) => i.key);
  const net = initialized(new PanelNet(ids, { label: 'r33-f2', processTimeoutMs: 5_000 }));
  const crashing = keys[2]!;
  const snap = net.session(crashing).snapshot(); // between processes, as documented
  // Round 2: hold back the commits of members 3 and 4 to the crashing member.
  const held: typeof net.queue = [];
  let crashed = false;
  net.intercept = (m) => {
    if (!crashed && m.to === crashing && (m.from === keys[3] || m.from === keys[4]) && net.decode(m).body.kind === 'commit') {
      held.push(m);
      return null;
    }
    // its commit to member 4 was still in its send queue when it crashed: lost
    if (!crashed && m.from === crashing && m.to === keys[4] && net.decode(m).body.kind === 'commit') return null;
    return m.bytes;
  };
  net.session(keys[0]!).startRound(net.now);
  net.run(); // the crashing member committed (its F reached 0, 1, 3) and waits for 3 and 4
  assert.equal(net.session(crashing).status, 'round');
  // It crashes and comes back from its snapshot (the process in flight is lost, as documented).
  crashed = true;
  net.sessions.set(crashing, PanelSession.restore({ crypto: nobleCrypto, rng: seededRng('r33-f2-restarted') }, ids[2]!.seed, snap, { processTimeoutMs: 5_000 }));
  net.queue.push(...held); // the delayed commits arrive: it joins round 2 again
  net.run();
  net.advance(6_000);
  net.run();
  const others = keys.filter((k) => k !== crashing);
  const namedBy = others.filter((k) => net.eventsOf(k, 'cheater').some((e) => e.member === crashing));
  assert.deepEqual(namedBy.map((k) => k.slice(0, 8)), [], `the honest restarted member is proven a cheater by ${namedBy.length} members`);
});
