// Review 44 (MEDIUM): a member behind a NAT (reachable only through a relay, its public IPv4 known
// from a fellow member's observation) answered the hole-punch protocol for anyone the stream gate let
// through, and each throwaway identity over a relay has a stream budget of its own. Each answer told a
// stranger the member's public IPv4 address, which the relay hides, and made the member dial
// whatever public host and port the stranger named, 32 at once per identity. Now only a current
// member of one of the peer's groups is answered (peer/reachability passes `mayServe`), and at most
// MAX_SERVED_PUNCHES answered punches dial at once.
// Nothing leaves loopback: the victim's transportManager.dial is a recorder that hangs like an
// unanswered SYN (the real one would connect to 198.51.100.23:25).
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createConclaveNode, type ConclaveLibp2p } from '../../app/net/node.js';
import { HolePuncher, MAX_SERVED_PUNCHES, PROTOCOL_PUNCH } from '../../app/net/punch.js';
import { request } from '../../app/net/unicast.js';
import { Transport } from '../../app/peer/transport.js';
import type { PeerContext } from '../../app/peer/peer-context.js';
import type { GroupRuntime } from '../../app/peer/group.js';

const nodes: ConclaveLibp2p[] = [];
after(async () => {
  for (const n of nodes) for (const c of n.getConnections()) c.abort(new Error('end'));
  await Promise.all(nodes.map((n) => Promise.resolve(n.stop()).catch(() => {})));
});
const node = async (extra: { relayServer?: boolean } = {}) => {
  const n = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, ...extra });
  nodes.push(n);
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LIMITS = { maxFrameBytes: 256, maxFrames: 1, timeoutMs: 10_000 };

async function attack(mayServe: (peer: { toString(): string }) => boolean) {
  const relay = await node({ relayServer: true });
  const relayAddr = relay.getMultiaddrs()[0]!.toString();
  const victim = await node();
  // The victim as a peer composes it: the Transport's stream gate (peer guard) and the hole puncher.
  const ctx = { node: victim, groups: new Map<string, GroupRuntime>(), log: () => {}, stopped: () => false, selfPeerId: victim.peerId.toString() } as unknown as PeerContext;
  new Transport(ctx, async () => false);
  const PUBLIC_IP = '203.0.113.7'; // what a member observed of the victim's NAT (Reachability.publicIp)
  await new HolePuncher(victim, () => PUBLIC_IP, () => {}, mayServe).serve();
  await victim.dial(multiaddr(relayAddr));
  await victim.services.nat.transportManager.listen([multiaddr(`${relayAddr}/p2p-circuit`)]);
  const circuit = victim.getMultiaddrs().map((a) => a.toString()).find((a) => a.includes('/p2p-circuit'));
  assert.ok(circuit, 'victim reserved on the relay');

  // Record the victim's dials instead of sending SYNs; each hangs until its 5 s punch timeout.
  const dialled: string[] = [];
  let pending = 0;
  let maxPending = 0;
  const tm = victim.services.nat.transportManager as unknown as { dial(ma: Multiaddr, o: { signal: AbortSignal; localPort?: number }): Promise<never> };
  tm.dial = (ma, o) => {
    dialled.push(`${ma.toString()} from local port ${o.localPort}`);
    pending++;
    maxPending = Math.max(maxPending, pending);
    return new Promise((_, reject) => o.signal.addEventListener('abort', () => { pending--; reject(new Error('timeout')); }));
  };

  const IDENTITIES = 4;
  const answers: string[] = [];
  for (let k = 0; k < IDENTITIES; k++) {
    const stranger = await node();
    await stranger.dial(multiaddr(circuit!)); // a relayed connection: the stranger never sees the victim's IP
    const conns = stranger.getConnections(victim.peerId);
    assert.ok(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit')), 'only relayed');
    const frame = new TextEncoder().encode(JSON.stringify({ ip: '198.51.100.23', port: 25 }));
    const replies = await Promise.all(Array.from({ length: 32 }, () => request(stranger, victim.peerId, PROTOCOL_PUNCH, frame, { maxFrameBytes: 256, maxFrames: 1, timeoutMs: 10_000 })));
    for (const r of replies) if (r?.[0]) answers.push(new TextDecoder().decode(r[0]));
  }
  await sleep(200);
  return { answers, dialled, maxPending, PUBLIC_IP };
}

test('a stranger over a relay gets no punch: neither the public address nor a dial', { timeout: 120_000 }, async () => {
  const r = await attack(() => false);
  assert.deepEqual(r.answers, [], 'nothing answered');
  assert.deepEqual(r.dialled, [], 'nothing dialled');
});

test('punches asked by members dial at most MAX_SERVED_PUNCHES at once', { timeout: 120_000 }, async () => {
  const r = await attack(() => true);
  assert.ok(r.answers.length > 0 && JSON.parse(r.answers[0]!).ip === r.PUBLIC_IP, 'a member is answered with the public endpoint');
  assert.ok(r.dialled.length > 0 && r.maxPending <= MAX_SERVED_PUNCHES, `${r.maxPending} dials pending at once`);
});

// Review 45 (MEDIUM), on review 44's punch cap (46808ee: at most MAX_SERVED_PUNCHES answered punches
// dialling at once). The cap was global, not per asker: one member reaching the victim through a
// relay asked 4 punches towards an endpoint that never answers (each holding a slot for 5 s) and
// could repeat every 5 s: every other member's punch was refused meanwhile (reachability backs off
// up to 60 s). Now one answered punch per asker at a time.
// Nothing leaves loopback: the victim's transportManager.dial is a recorder that hangs like an unanswered SYN.
test('review 45: one member holding every served-punch slot cannot refuse every other member its punch', { timeout: 60_000 }, async () => {
  const relay = await node({ relayServer: true });
  const relayAddr = relay.getMultiaddrs()[0]!.toString();
  const victim = await node();
  const ctx = { node: victim, groups: new Map<string, GroupRuntime>(), log: () => {}, stopped: () => false, selfPeerId: victim.peerId.toString() } as unknown as PeerContext;
  new Transport(ctx, async () => false);
  // Both requesters are current members (mayServe true for them), as reachability's isMemberAnywhere.
  const members = new Set<string>();
  await new HolePuncher(victim, () => '203.0.113.7', () => {}, (p) => members.has(p.toString())).serve();
  await victim.dial(multiaddr(relayAddr));
  await victim.services.nat.transportManager.listen([multiaddr(`${relayAddr}/p2p-circuit`)]);
  const circuit = victim.getMultiaddrs().map((a) => a.toString()).find((a) => a.includes('/p2p-circuit'))!;
  assert.ok(circuit);
  const tm = victim.services.nat.transportManager as unknown as { dial(ma: Multiaddr, o: { signal: AbortSignal; localPort?: number }): Promise<never> };
  const dialled: string[] = [];
  tm.dial = (ma, o) => {
    dialled.push(ma.toString());
    return new Promise((_, reject) => o.signal.addEventListener('abort', () => reject(new Error('timeout'))));
  };

  const insider = await node();
  const honest = await node();
  members.add(insider.peerId.toString());
  members.add(honest.peerId.toString());
  await insider.dial(multiaddr(circuit));
  await honest.dial(multiaddr(circuit));

  // The insider: MAX_SERVED_PUNCHES requests towards a public endpoint nobody answers.
  const blackhole = new TextEncoder().encode(JSON.stringify({ ip: '198.51.100.9', port: 9 }));
  const mine = await Promise.all(Array.from({ length: MAX_SERVED_PUNCHES }, () => request(insider, victim.peerId, PROTOCOL_PUNCH, blackhole, LIMITS)));
  assert.equal(mine.filter((r) => r?.[0]).length, 1, 'the insider is answered once while its punch dials');
  assert.ok(MAX_SERVED_PUNCHES > 1);

  // An honest member's punch (its real endpoint) within the next 5 s.
  const honestAsk = new TextEncoder().encode(JSON.stringify({ ip: '198.51.100.77', port: 40_000 }));
  const answers: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await request(honest, victim.peerId, PROTOCOL_PUNCH, honestAsk, LIMITS);
    answers.push(Boolean(r?.[0]));
    await new Promise((res) => setTimeout(res, 1000));
  }
  // Control: once the insider's slots time out (5 s), the same honest request is answered.
  await new Promise((res) => setTimeout(res, 3500));
  const later = await request(honest, victim.peerId, PROTOCOL_PUNCH, honestAsk, LIMITS);
  assert.ok(later?.[0], 'control: answered once the insider stops');
  assert.ok(answers.some(Boolean), `the honest member's punches were all refused (${JSON.stringify(answers)}); victim dialled only ${JSON.stringify(dialled)}`);
});
