// Property tests over random scenarios (fast-check): whatever the interleaving of
// joins, exclusions, leaves and sends, the group converges and the oracle finds no
// backward, forward or missed violation.
import { test } from 'node:test';
import fc from 'fast-check';
import { SMALL, assertOk, run } from './helpers.js';

type Op = { kind: 'exclude'; target: number; by: number; dt: number } | { kind: 'leave'; who: number; dt: number } | { kind: 'send'; who: number; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('exclude' as const), target: fc.nat(20), by: fc.nat(20), dt: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.nat(20), dt: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('send' as const), who: fc.nat(20), dt: fc.integer({ min: 0, max: 1500 }) }),
);

test('random joins, exclusions, leaves and sends: convergence and no violations', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 9 }),
      fc.array(fc.nat(20), { minLength: 9, maxLength: 9 }),
      fc.array(opArb, { minLength: 1, maxLength: 6 }),
      fc.constantFrom(0, 0, 0.05, 0.1),
      fc.integer({ min: 1, max: 1_000_000 }),
      (n, vias, ops, loss, seed) => {
        const names = Array.from({ length: n }, (_, i) => `m${i}`);
        const events: unknown[] = [{ at: 0, do: 'create', peer: names[0] }];
        names.slice(1).forEach((p, i) => events.push({ at: 800 + 200 * i, do: 'join', peer: p, via: names[vias[i]! % (i + 1)] }));
        let t = 800 + 200 * n + 3000;
        const gone = new Set<string>();
        for (const op of ops) {
          t += op.dt;
          const alive = names.filter((x) => !gone.has(x));
          if (op.kind === 'send') events.push({ at: t, do: 'send', peer: alive[op.who % alive.length], text: `s${t}` });
          else if (alive.length > 3) {
            if (op.kind === 'leave') {
              const who = alive[op.who % alive.length]!;
              gone.add(who);
              events.push({ at: t, do: 'leave', peer: who });
            } else {
              const target = alive[op.target % alive.length]!;
              const by = alive.filter((x) => x !== target)[op.by % (alive.length - 1)]!;
              gone.add(target);
              events.push({ at: t, do: 'exclude', peers: [target], by });
            }
          }
        }
        events.push({ at: t + 9000, do: 'sendAll', text: 'final' });
        const { report } = run({ params: SMALL, network: { latencyMs: [5, 40], loss }, events, until: t + 15000 }, seed);
        assertOk(report, `seed ${seed} loss ${loss} events ${JSON.stringify(events)}`);
      },
    ),
    { numRuns: 12, seed: 42 },
  );
});
