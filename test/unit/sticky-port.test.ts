// The default listen address keeps the profile's port across starts, and takes a new one, saved in
// its place, when that port is taken (app/peer/peer.ts `nodeOnStickyPort`; the group-level effect:
// test/integration/sticky-port). An explicit listen address is used as given and saves nothing.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer, type RunningPeer } from '../../app/peer/peer.js';
import { Profile } from '../../app/store/profile.js';

const portOf = (p: RunningPeer): number => Number(/\/tcp\/(\d+)/.exec(p.addresses()[0] ?? '')?.[1]);
const savedPort = (dir: string): number | undefined => {
  const profile = Profile.open(dir);
  try {
    return profile.identity('x').listenPort;
  } finally {
    profile.close();
  }
};
const occupy = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer().listen(port, '0.0.0.0', () => resolve(srv));
    srv.on('error', reject);
  });

test('the default listen port is kept across starts, and replaced when taken', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-sticky-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const start = () => startPeer({ profile: dir, name: 'p', mdns: false });
  const first = await start();
  const port = portOf(first);
  assert.ok(port > 0);
  await first.stop();
  assert.equal(savedPort(dir), port, 'the port is saved in the profile');
  const second = await start();
  assert.equal(portOf(second), port, 'the next start listens on the same port');
  await second.stop();
  const squatter = await occupy(port);
  let third: RunningPeer;
  try {
    third = await start();
  } finally {
    await new Promise((r) => squatter.close(r));
  }
  const moved = portOf(third);
  assert.ok(moved > 0 && moved !== port, 'the port was taken: another one');
  await third.stop();
  assert.equal(savedPort(dir), moved, 'and that one is saved for the next start');
  const explicit = await startPeer({ profile: dir, name: 'p', mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'] });
  await explicit.stop();
  assert.equal(savedPort(dir), moved, 'an explicit listen address saves nothing');
});
