/**
 * Issue 19 "Done when", scaled to this machine: six real peers on loopback, a
 * burst of at least 1,000 chat messages (every peer sending as fast as
 * `chat.send` answers), one member killed with kill -9 at the start of the burst
 * and restarted on its profile a few seconds later, a second member killed with
 * kill -9 in the middle of the burst and restarted (it then sends the rest of its
 * share), one exclusion in the middle.
 * Every acknowledged message of every remaining member must be in every
 * remaining member's history shortly after the burst (reconciliation,
 * app/peer/catch-up.ts). The deadline is 10 s as the issue asks; on a loaded
 * machine set CONCLAVE_IT_RECONCILE_MS to widen it (the time taken is printed).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, history, startTestPeer, until, waitMember, type TestPeer } from './harness.js';

after(cleanup);

const PER_SENDER = 250;
const DEADLINE_MS = Number(process.env.CONCLAVE_IT_RECONCILE_MS ?? 10_000);

test('reconciliation: burst of 1,000+ messages, two members killed (kill -9) and restarted, one exclusion: nothing acknowledged is lost', { timeout: 420_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'chaos' });
  const group = alice.group!;
  const names = ['bob', 'carol', 'dave', 'erin', 'frank'];
  const invites = await Promise.all(names.map(() => alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
  const others = await Promise.all(names.map((name, i) => startTestPeer({ name, join: invites[i]!.invite })));
  const peers = [alice, ...others];
  for (const p of peers) await waitMember(p, group);
  for (const p of peers) await until(`${p.name} to know 6 members`, async () => (await p.api.call<{ state: string }[]>('group.members', { group })).filter((m) => m.state === 'member').length === 6, 60_000);
  const [, bob, carol, dave, erin, frank] = peers as [TestPeer, TestPeer, TestPeer, TestPeer, TestPeer, TestPeer];

  const acked = new Map<string, string[]>(peers.map((p) => [p.name, []]));
  let total = 0;
  let excluded = false;
  // carol: killed with kill -9 in the middle of the burst; a send in flight then never answers.
  let carolKilled: () => void = () => {};
  const carolDown = new Promise<false>((resolve) => (carolKilled = () => resolve(false)));
  const send = async (p: TestPeer, text: string): Promise<boolean> => {
    try {
      const call = p.api.call('chat.send', { group, text });
      if (p === carol && !(await Promise.race([call.then(() => true), carolDown]))) return false;
      await call;
      acked.get(p.name)!.push(text);
      total++;
      return true;
    } catch {
      return false;
    }
  };

  // erin: a few sends in flight, then kill -9 at the start of the burst.
  const erinSends = Array.from({ length: 10 }, (_, i) => void send(erin, `erin before ${i}`));
  void erinSends;
  const killAt = new Promise<void>((resolve) =>
    setTimeout(() => {
      erin.api.close();
      erin.spawned.proc.kill('SIGKILL');
      resolve();
    }, 150),
  );

  let carolAt = -1;
  const burst = async (p: TestPeer): Promise<void> => {
    for (let i = 0; i < PER_SENDER; i++) {
      if (!(await send(p, `${p.name} ${i}`))) return; // excluded, or killed
      if (carolAt < 0 && total >= (PER_SENDER * 4) / 3) {
        carolAt = total;
        carolKilled();
        carol.api.close();
        carol.spawned.proc.kill('SIGKILL');
      }
      if (!excluded && total >= (PER_SENDER * 4) / 2) {
        excluded = true;
        void bob.api.call('group.exclude', { group, peers: [frank.peerId] }).catch(() => {});
      }
    }
  };
  const carolRestart = (async (): Promise<TestPeer> => {
    await carolDown;
    await carol.spawned.exit;
    await new Promise((r) => setTimeout(r, 2000));
    const back = await startTestPeer({ name: 'carol', profile: carol.profile });
    const sent = acked.get('carol')!.length;
    for (let i = sent; i < PER_SENDER; i++) await send(back, `carol after ${i}`);
    return back;
  })();
  const restart = (async (): Promise<TestPeer> => {
    await killAt;
    await erin.spawned.exit;
    await new Promise((r) => setTimeout(r, 3000));
    const back = await startTestPeer({ name: 'erin', profile: erin.profile });
    for (let i = 0; i < 20; i++) await send(back, `erin after ${i}`);
    return back;
  })();
  await Promise.all([burst(alice), burst(bob), burst(carol), burst(dave), burst(frank)]);
  const erinBack = await restart;
  const carolBack = await carolRestart;
  const burstEnd = Date.now();

  const remaining = [alice, bob, carolBack, dave, erinBack];
  const expected = remaining.flatMap((p) => acked.get(p.name)!);
  assert.ok(expected.length >= 1000, `burst of ${expected.length} acknowledged messages`);
  const lacking = async (p: TestPeer): Promise<string[]> => {
    const have = new Set((await history(p, group)).map((m) => m.text));
    return expected.filter((t) => !have.has(t));
  };
  try {
    await until('every acknowledged message everywhere', async () => (await Promise.all(remaining.map(lacking))).every((l) => l.length === 0), DEADLINE_MS, 500);
  } catch (err) {
    for (const p of remaining) {
      const l = await lacking(p);
      console.log(`${p.name} lacks ${l.length}: ${l.slice(0, 8).join(', ')}`);
      if (l.length === 0) continue;
      // What a lagging member saw: its reconciliation entries and refusals (key panel) and its last log lines.
      const table = await p.api.call<{ log: { at: number; kind: string; text: string }[]; rejections: { at: number; reason: string; detail?: string }[] }>('keys.table', { group }).catch(() => null);
      for (const e of table?.log.filter((x) => x.at >= burstEnd - 120_000).slice(-30) ?? []) console.log(`  ${p.name} log +${e.at - burstEnd} ms ${e.kind}: ${e.text}`);
      for (const r of table?.rejections.slice(-10) ?? []) console.log(`  ${p.name} refused +${r.at - burstEnd} ms ${r.reason}: ${r.detail ?? ''}`);
      for (const line of p.spawned.stderr.slice(-20)) console.log(`  ${p.name} stderr: ${line}`);
    }
    const late = await until('every acknowledged message everywhere, late', async () => (await Promise.all(remaining.map(lacking))).every((l) => l.length === 0), 30_000, 500).then(() => `${Date.now() - burstEnd} ms`, () => 'not within 40 s');
    console.log(`# every acknowledged message everywhere: ${late} after the burst`);
    throw err;
  }
  console.log(`# reconciled ${expected.length} messages (erin killed at the start and carol in the middle (after ${carolAt}), both restarted, frank excluded) ${Date.now() - burstEnd} ms after the burst`);
  const frankGone = await until('frank excluded everywhere', async () => (await alice.api.call<{ peerId: string; state: string }[]>('group.members', { group })).find((m) => m.peerId === frank.peerId)?.state !== 'member', 60_000);
  assert.ok(frankGone);
  for (const p of remaining) {
    const ids = (await history(p, group)).map((m) => `${m.sender}:${m.id}`);
    assert.equal(new Set(ids).size, ids.length, `${p.name}: no duplicates`);
  }
});
