// Real peers on loopback in this process, for tests that need the whole peer (startPeer: libp2p,
// engines, store): each in a fresh profile, stopped and removed after the file's tests.
import '../../app/net/shim.js';
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer, type RunningPeer } from '../../app/peer/peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A peer named `name` on 127.0.0.1, without mDNS. */
export async function loopbackPeer(name: string): Promise<RunningPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-loopback-'));
  const p = await startPeer({ profile: dir, name, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => p.stop());
  return p;
}

/** Waits until `ok` answers true, polling every 200 ms; throws naming `what` after `ms`. */
export async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
