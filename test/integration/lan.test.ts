/**
 * Issue 5 "done when" (LAN): inside two network namespaces this test creates and
 * joins with a veth pair (mDNS binds 0.0.0.0:5353, so never on the host's own
 * network), two peers whose invite carries NO addresses find each other by mDNS
 * (001: the nearest members first) and chat. Skipped when namespaces cannot be
 * created (not root, no iproute2).
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanup, ROOT, startTestPeer, until } from './harness.js';
import { parseInvite } from '../../app/peer/invite.js';

const tag = `${process.pid % 100000}`;
const nsA = `cvA${tag}`;
const nsB = `cvB${tag}`;
const vethA = `cva${tag}`;
const vethB = `cvb${tag}`;
let created = false;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function setUp(): boolean {
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    created = true;
    ip('link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB);
    ip('link', 'set', vethA, 'netns', nsA);
    ip('link', 'set', vethB, 'netns', nsB);
    for (const [ns, dev, addr] of [[nsA, vethA, '10.213.7.1/24'], [nsB, vethB, '10.213.7.2/24']] as const) {
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'multicast', 'on');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
    }
    return true;
  } catch {
    return false;
  }
}

after(async () => {
  await cleanup();
  if (created) {
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }
});

function drive(ns: string, url: string, token: string, group: string, send: string, expect: string): Promise<{ ok: boolean; kinds?: string[]; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(ROOT, 'test/integration/lan-driver.ts'), url, token, group, send, expect], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ok: boolean });
      } catch {
        resolve({ ok: false, error: `driver printed ${out.slice(0, 200)}` });
      }
    });
  });
}

test('LAN: an invite with no addresses is enough; mDNS finds the inviter', { timeout: 150_000 }, async (t) => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !setUp()) {
    t.skip('needs root and iproute2 to create network namespaces');
    return;
  }
  const listen = ['/ip4/0.0.0.0/tcp/0'];
  const alice = await startTestPeer({ name: 'alice', create: 'lan party', listen, mdns: true, wrapper: ['ip', 'netns', 'exec', nsA], inviteAddresses: 'none' });
  assert.deepEqual(parseInvite(alice.invite!, Date.now()).addrs, [], 'the invite carries no addresses');
  const aliceReady = alice.spawned.lines.find((l) => l.event === 'ready')!;
  const bob = await startTestPeer({ name: 'bob', join: alice.invite!, listen, mdns: true, wrapper: ['ip', 'netns', 'exec', nsB] });
  const bobReady = bob.spawned.lines.find((l) => l.event === 'ready')!;
  await until('bob to be admitted', () => bob.spawned.lines.find((l) => l.event === 'joined'), 60_000);
  const [a, b] = await Promise.all([
    drive(nsA, String(aliceReady.api), String(aliceReady.token), alice.group!, 'hello from alice', 'hello from bob'),
    drive(nsB, String(bobReady.api), String(bobReady.token), alice.group!, 'hello from bob', 'hello from alice'),
  ]);
  assert.ok(a.ok, `alice: ${a.error ?? ''}`);
  assert.ok(b.ok, `bob: ${b.error ?? ''}`);
  assert.ok(b.kinds?.includes('lan'), 'bob reached alice over the LAN');
});
