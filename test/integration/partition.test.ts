/**
 * Issue 19 "Done when" (partition), with the numbers: four real peers;
 * erin runs in a network namespace this test creates, joined to the host by a
 * veth pair, the others on the host. The partition is real: iptables in erin's
 * namespace drops every packet in and out of the veth for 60 s (no connection
 * is closed, none can be opened: what a pulled cable does), while the three
 * others send 5,000 chat messages (every peer keeps its default 10,000 encrypted
 * messages per group, `keepTraffic`, enough for the whole gap). The cut lasts until the last send. After
 * the heal, erin must hold every acknowledged message within 15 s
 * (CONCLAVE_IT_PARTITION_MS widens it on a loaded machine; the time is printed,
 * CONCLAVE_IT_PARTITION_MESSAGES scales the count down).
 * Skipped when namespaces cannot be created (not root, no iproute2/iptables).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, cleanup, ROOT, startTestPeer, until, waitMember, type TestPeer } from './harness.js';
import { canBuildTestbed } from '../nat/testbed.js';

const tag = `${process.pid % 100000}`;
const ns = `cvP${tag}`;
const vethHost = `cvph${tag}`;
const vethNs = `cvpn${tag}`;
const net = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;
const hostIp = `${net}.1`;
const nsIp = `${net}.2`;
const socketPath = join(tmpdir(), `conclave-partition-${tag}.sock`);
let created = false;
let forwarder: ChildProcess | null = null;

const TOTAL = Number(process.env.CONCLAVE_IT_PARTITION_MESSAGES ?? 5000);
/** A larger count than the default keepTraffic (10,000) needs every peer to keep more. */
const KEEP = TOTAL + 1000 > 10_000 ? ['--keep-messages', String(TOTAL + 1000)] : [];
const CUT_MS = Number(process.env.CONCLAVE_IT_PARTITION_CUT_MS ?? 60_000);
const DEADLINE_MS = Number(process.env.CONCLAVE_IT_PARTITION_MS ?? 15_000);

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function iptables(...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, 'iptables', ...args], { stdio: 'ignore' });
}

function setUp(): boolean {
  try {
    ip('netns', 'add', ns);
    created = true;
    ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
    ip('link', 'set', vethNs, 'netns', ns);
    ip('addr', 'add', `${hostIp}/24`, 'dev', vethHost);
    ip('link', 'set', vethHost, 'up');
    ip('-n', ns, 'addr', 'add', `${nsIp}/24`, 'dev', vethNs);
    ip('-n', ns, 'link', 'set', vethNs, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return true;
  } catch {
    return false;
  }
}

const cut = (): void => {
  iptables('-A', 'INPUT', '-i', vethNs, '-j', 'DROP');
  iptables('-A', 'OUTPUT', '-o', vethNs, '-j', 'DROP');
};
const heal = (): void => {
  iptables('-F', 'INPUT');
  iptables('-F', 'OUTPUT');
};

after(async () => {
  await cleanup();
  if (forwarder && forwarder.exitCode === null) forwarder.kill('SIGKILL');
  rmSync(socketPath, { force: true });
  if (created) {
    try {
      ip('link', 'del', vethHost);
    } catch {
      // gone with the namespace
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
});

/** The API of a peer inside the namespace, through a Unix socket (test/nat/unix-forward.mjs). */
async function apiInNamespace(peer: TestPeer): Promise<ApiClient> {
  const ready = peer.spawned.lines.find((l) => l.event === 'ready')!;
  const port = new URL(String(ready.api)).port;
  rmSync(socketPath, { force: true });
  forwarder = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'test/nat/unix-forward.mjs'), socketPath, port], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    forwarder!.stdout!.once('data', () => resolve());
    forwarder!.once('exit', () => reject(new Error('API forwarder exited')));
  });
  return ApiClient.connectUnix(socketPath, String(ready.api), String(ready.token));
}

test('partition: a member cut off for 60 s while the others send 5,000 messages gets every one within 15 s of the heal', { timeout: 420_000 }, async (t) => {
  if (!canBuildTestbed() || !setUp()) {
    t.skip('needs root, iproute2 and iptables to create a network namespace');
    return;
  }
  const listen = ['/ip4/127.0.0.1/tcp/0', `/ip4/${hostIp}/tcp/0`];
  const alice = await startTestPeer({ name: 'alice', create: 'partition', listen, extraArgs: KEEP });
  const group = alice.group!;
  const invites = await Promise.all([0, 1, 2].map(() => alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
  const bob = await startTestPeer({ name: 'bob', join: invites[0]!.invite, listen, extraArgs: KEEP });
  const carol = await startTestPeer({ name: 'carol', join: invites[1]!.invite, listen, extraArgs: KEEP });
  const erin = await startTestPeer({ name: 'erin', join: invites[2]!.invite, listen: [`/ip4/${nsIp}/tcp/0`], wrapper: ['ip', 'netns', 'exec', ns], extraArgs: KEEP });
  erin.api = await apiInNamespace(erin);
  const peers = [alice, bob, carol, erin];
  for (const p of peers) await waitMember(p, group, 60_000);
  for (const p of peers) await until(`${p.name} to know 4 members`, async () => (await p.api.call<{ state: string }[]>('group.members', { group })).filter((m) => m.state === 'member').length === 4, 60_000);
  await alice.api.call('chat.send', { group, text: 'before the cut' });
  await until('erin to hear alice before the cut', async () => (await erin.api.call<{ text: string }[]>('chat.history', { group, limit: 10 })).some((m) => m.text === 'before the cut'), 30_000);

  cut();
  const cutAt = Date.now();
  const senders = [alice, bob, carol];
  const acked: string[] = [];
  await Promise.all(
    senders.map(async (p, k) => {
      for (let i = k; i < TOTAL; i += senders.length) {
        const text = `${p.name} ${i}`;
        await p.api.call('chat.send', { group, text });
        acked.push(text);
      }
    }),
  );
  const sentIn = Date.now() - cutAt;
  await new Promise((r) => setTimeout(r, Math.max(0, CUT_MS - sentIn))); // the cut lasts at least CUT_MS, and until the last send
  const during = new Set((await erin.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 })).map((m) => m.text));
  assert.equal(acked.filter((x) => during.has(x)).length, 0, 'nothing reached erin during the cut');

  heal();
  const healAt = Date.now();
  // Counted from erin's own `chat.message` events (a message is shown once it is on disk), so
  // that watching costs erin nothing; her history is checked once at the end.
  const wanted = new Set(acked);
  const shown = new Set<string>();
  let read = erin.api.events.length;
  let noted = 0;
  let firstConnection: number | null = null;
  const rounds: string[] = [];
  const progress: string[] = [];
  const lacking = (): number => {
    for (; read < erin.api.events.length; read++) {
      const e = erin.api.events[read]!;
      if (e.method === 'chat.message' && typeof e.params.text === 'string' && wanted.has(e.params.text)) shown.add(e.params.text);
      else if (e.method === 'net.connection' && e.params.open === true && firstConnection === null) firstConnection = Date.now() - healAt;
      else if (e.method === 'chat.catchUp') rounds.push(`${Date.now() - healAt}: ${String(e.params.received)}/${String(e.params.total)}`);
    }
    const l = wanted.size - shown.size;
    if (l === 0 || Date.now() - noted >= 1000) {
      noted = Date.now();
      progress.push(`${noted - healAt} ms: ${l}`);
    }
    return l;
  };
  try {
    await until('erin to hold every message sent during the cut', () => lacking() === 0, DEADLINE_MS, 100);
  } catch (err) {
    console.log(`erin lacks ${lacking()} of ${acked.length}; her first connection ${firstConnection ?? 'none'} ms after the heal; catch-up progress (ms: received/total) ${rounds.join(', ')}; lacking after the heal: ${progress.join(', ')}`);
    throw err;
  }
  const heldIn = Date.now() - healAt;
  const held = new Set((await erin.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 })).map((m) => m.text));
  assert.deepEqual(acked.filter((x) => !held.has(x)), [], 'erin\'s history holds every message sent during the cut');
  console.log(`# erin, cut off for ${healAt - cutAt} ms while ${acked.length} messages were sent (in ${sentIn} ms), held every one ${heldIn} ms after the heal (first connection after ${firstConnection ?? 'none'} ms; lacking: ${progress.join(', ')})`);
});
