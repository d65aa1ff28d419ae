/**
 * @module bench/catchup
 * Catch-up after being offline (issue 19): how long a member that missed `missed`
 * chat messages takes to hold every one of them once it is back, and at what
 * rate. Three headless peers (bin/conclave.js `peer`, each in a session of its
 * own, as in bench/network.ts) on loopback TCP, driven through their API:
 *
 * 1. p0 creates the group, p1 and p2 join; all three are members.
 * 2. p2 stops (cleanly); p0 and p1 send `missed` messages between them, each as
 *    fast as `chat.send` answers.
 * 3. p2 starts again on its profile. catchupMs = from its `ready` line (the
 *    process up, the API answering) until it has shown every one of the
 *    `missed` messages (its `chat.message` events, sent once a message is on
 *    disk; watched every 100 ms in this process, so that watching costs p2
 *    nothing — polling a history of 5,000 every 100 ms took p2's CPU; its
 *    history is read every 3 s for messages shown before the client
 *    subscribed), then checked once in its `chat.history`; the time to start the process is
 *    reported apart (startMs). catchupMsgsPerSec = missed / catchupMs.
 *
 * Every peer keeps `max(2000, missed)` encrypted messages (`--keep-messages`),
 * so the whole gap can be served: with the default keepTraffic of 2,000 a
 * member that missed more than that gets only what its peers still keep
 * (docs/architecture.md "Reconciliation").
 */
import { cleanup, startTestPeer, until, waitMember, type PeerSpec, type TestPeer } from '../test/integration/harness.js';

export interface CatchUpResult {
  missed: number;
  catchupMs: number;
  catchupMsgsPerSec: number;
  startMs: number;
  sendMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureCatchUp(missed: number, log: (s: string) => void = () => {}): Promise<CatchUpResult> {
  const onSignal = (): void => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const extraArgs = ['--keep-messages', String(Math.max(2000, missed))];
  const start = (spec: PeerSpec): Promise<TestPeer> => startTestPeer({ ...spec, ownSession: true, extraArgs });
  try {
    const p0 = await start({ name: 'p0', create: 'catch-up bench' });
    const group = p0.group as string;
    const invites = await Promise.all([0, 1].map(() => p0.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
    const p1 = await start({ name: 'p1', join: invites[0]!.invite });
    const p2 = await start({ name: 'p2', join: invites[1]!.invite });
    for (const p of [p0, p1, p2]) await waitMember(p, group, 90_000);
    await p0.api.call('chat.send', { group, text: 'before' });
    await until('p2 to hear p0', async () => (await p2.api.call<{ text: string }[]>('chat.history', { group, limit: 10 })).some((m) => m.text === 'before'), 30_000);

    p2.api.close();
    p2.spawned.proc.kill('SIGTERM');
    await p2.spawned.exit;
    await sleep(1000);
    const s0 = Date.now();
    const texts: string[] = [];
    await Promise.all(
      [p0, p1].map(async (p, k) => {
        for (let i = k; i < missed; i += 2) {
          const text = `missed ${i}`;
          await p.api.call('chat.send', { group, text });
          texts.push(text);
        }
      }),
    );
    const sendMs = Date.now() - s0;
    log(`catch-up: p2 offline while ${missed} messages were sent (${sendMs} ms)`);

    const r0 = Date.now();
    const back = await start({ name: 'p2', profile: p2.profile });
    const t0 = Date.now();
    const startMs = t0 - r0;
    const wanted = new Set(texts);
    const shown = new Set<string>();
    let read = 0;
    let lastHistory = Date.now();
    await until(
      `p2 to catch up on ${missed} messages`,
      async () => {
        for (; read < back.api.events.length; read++) {
          const e = back.api.events[read]!;
          if (e.method === 'chat.message' && typeof e.params.text === 'string' && wanted.has(e.params.text)) shown.add(e.params.text);
        }
        if (shown.size < missed && Date.now() - lastHistory >= 3000) {
          // Messages shown before this client subscribed sent their events to no one: the history, rarely.
          lastHistory = Date.now();
          for (const m of await back.api.call<{ text: string }[]>('chat.history', { group, limit: missed + 100 })) if (wanted.has(m.text)) shown.add(m.text);
        }
        return shown.size === missed;
      },
      180_000,
      100,
    );
    const catchupMs = Date.now() - t0;
    const held = (await back.api.call<{ text: string }[]>('chat.history', { group, limit: missed + 100 })).filter((m) => wanted.has(m.text)).length;
    if (held !== missed) throw new Error(`p2 showed all ${missed} messages but its history holds ${held}`);
    log(`catch-up: ${missed} messages in ${catchupMs} ms after the restarted peer was ready (start ${startMs} ms)`);
    for (const p of [p0, p1, back]) p.api.close();
    return { missed, catchupMs, catchupMsgsPerSec: Math.round((missed * 1000) / Math.max(1, catchupMs)), startMs, sendMs };
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
