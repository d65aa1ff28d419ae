// Property tests over random scenarios (fast-check): whatever the interleaving of
// joins, exclusions, leaves and sends, the group converges and the oracle finds no
// backward, forward or missed violation.
import { test } from 'node:test';
import fc from 'fast-check';
import { SMALL, assertOk, run, saveFailure } from './helpers.js';

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
        const scenario = { params: SMALL, network: { latencyMs: [5, 40], loss }, events, until: t + 15000 };
        const { report } = run(scenario, seed);
        if (!report.ok) saveFailure('lifecycle', scenario, seed);
        assertOk(report, `seed ${seed} loss ${loss} events ${JSON.stringify(events)}`);
      },
    ),
    { numRuns: 12, seed: 42 },
  );
});

type Chaos =
  | { kind: 'join'; via: number }
  | { kind: 'exclude'; target: number; by: number }
  | { kind: 'leave'; who: number }
  | { kind: 'crash'; who: number; downMs: number }
  | { kind: 'partition'; cut: number; healMs: number };

const chaosArb: fc.Arbitrary<Chaos> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), via: fc.nat(30) }),
  fc.record({ kind: fc.constant('exclude' as const), target: fc.nat(30), by: fc.nat(30) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.nat(30) }),
  fc.record({ kind: fc.constant('crash' as const), who: fc.nat(30), downMs: fc.integer({ min: 500, max: 6000 }) }),
  fc.record({ kind: fc.constant('partition' as const), cut: fc.integer({ min: 1, max: 5 }), healMs: fc.integer({ min: 1000, max: 8000 }) }),
);

test('random interleavings of joins, exclusions, leaves, crashes, restarts, partitions and heals converge after the last heal', () => {
  fc.assert(
    fc.property(fc.array(chaosArb, { minLength: 2, maxLength: 7 }), fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 7, maxLength: 7 }), fc.integer({ min: 1, max: 1_000_000 }), (ops, gaps, seed) => {
      const names = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
      const events: unknown[] = [{ at: 0, do: 'create', peer: 'm0' }];
      names.slice(1).forEach((p, i) => events.push({ at: 600 + 200 * i, do: 'join', peer: p, via: 'm0' }));
      let t = 5000;
      let extra = 0;
      const members = [...names];
      const down = new Set<string>();
      ops.forEach((op, i) => {
        t += gaps[i]!;
        const alive = members.filter((m) => !down.has(m));
        if (alive.length < 4) return;
        switch (op.kind) {
          case 'join': {
            const p = `n${extra++}`;
            events.push({ at: t, do: 'join', peer: p, via: alive[op.via % alive.length] });
            members.push(p);
            t += 2000; // a newcomer acts only once it is a member
            break;
          }
          case 'exclude': {
            const target = alive[op.target % alive.length]!;
            const by = alive.filter((x) => x !== target)[op.by % (alive.length - 1)]!;
            events.push({ at: t, do: 'exclude', peers: [target], by });
            members.splice(members.indexOf(target), 1);
            break;
          }
          case 'leave': {
            const who = alive[op.who % alive.length]!;
            events.push({ at: t, do: 'leave', peer: who });
            members.splice(members.indexOf(who), 1);
            break;
          }
          case 'crash': {
            const who = alive[op.who % alive.length]!;
            events.push({ at: t, do: 'crash', peer: who }, { at: t + op.downMs, do: 'restart', peer: who });
            down.add(who);
            t += op.downMs;
            down.delete(who);
            break;
          }
          case 'partition': {
            const cut = op.cut % (members.length - 1) + 1;
            events.push({ at: t, do: 'partition', groups: [members.slice(0, cut), members.slice(cut)] }, { at: t + op.healMs, do: 'heal' });
            t += op.healMs;
            break;
          }
        }
      });
      events.push({ at: t + 14000, do: 'sendAll', text: 'settled' });
      (events as { at: number }[]).sort((a, b) => a.at - b.at);
      const scenario = { params: SMALL, events, until: t + 20000 };
      const { report } = run(scenario, seed);
      if (!report.ok) saveFailure('chaos', scenario, seed);
      assertOk(report, `seed ${seed}`);
    }),
    { numRuns: 10, seed: 7 },
  );
});
