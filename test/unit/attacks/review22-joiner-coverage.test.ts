// Review 22 (6c3c311, admission.ts onAdmit / onKeyGrant): a joiner's TEK coverage is now the
// admitter's whole blocklist (`m.blocklist`, `join.coverage`). But an admitter's blocklist is
// not what its TEK covers: during an admin race a non-admin of camp C1 blocks m5 on m0's word
// while holding m1's TEK v2, made by m1's table, which excluded m0 only (C1 holds its own data
// for that very reason: its TEK's coverage is [m0]). A member j that joins through it at 5 s
// takes [m0,m5] as the coverage of v2:m1 (granted by the Admit or by the KeyGrant after it),
// blocks m5, and sends under v2:m1, which m5 can read. Before 6c3c311 j's coverage was the
// filtered list [m5]: once m0's exclusion reached it, it held its data until a's table (v3)
// arrived, by luck (it missed m0, not m5). Now nothing holds it: when a's table excludes m5
// (m5 is removed at ~7.5 s), j still sends under v2:m1 for another ~1 s, and m5 reads it.
// Seeds 1 and 2 of 1-6 (the others: j's admitter took a's table in time).
// Secure (§7.2): a member sends only under a TEK made against everyone it blocks; a joiner's
// coverage is what the granted TEK covers (its admitter's TEK coverage, or its table's
// blocklist), never the admitter's blocklist. Fails on 6c3c311; passes on 6c3c311~1.
// Fixed: the Admit names the admitter's TEK and its coverage (AdmitTekCoverage, wire 4); a
// joiner granted that TEK takes that coverage (admission.ts grantedCoverage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../scenario/helpers.js';

for (const seed of [1, 2]) {
  test(`a member joining through a C1 non-admin during an admin race sends under a TEK an excluded member reads (seed ${seed})`, () => {
    const events = [
      { at: 0, do: 'create', peer: 'a', policy: { exclude: 'admins', admins: ['a', 'm0', 'm1'] } },
      { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 15 },
      { at: 4000, do: 'exclude', peers: ['m5'], by: 'm0' },
      { at: 4000, do: 'exclude', peers: ['m0'], by: 'm1' },
      { at: 5000, do: 'join', peer: 'j', via: 'm3' },
      { at: 7000, do: 'send', peer: 'j', text: 'j at 7 s' },
      { at: 8000, do: 'send', peer: 'j', text: 'j at 8 s' },
    ];
    const { report } = run({ params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 30000 }, seed);
    // Now (seed 1): 'm5 read "j at 8 s" sent by j at 8000 after its exclusion', and the coalition m0+m5 reads both.
    assert.deepEqual(report.violations.forward, []);
  });
}
