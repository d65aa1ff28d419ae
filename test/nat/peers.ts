/**
 * Peers in the NAT testbed's namespaces, and what the NAT tests ask of them:
 * a headless `conclave peer` started inside a namespace whose control API the
 * test reaches through a Unix socket (testbed.exposeApi).
 */
import { ApiClient, startTestPeer, until, type TestPeer } from '../integration/harness.js';
import type { NatTestbed } from './testbed.js';

export interface NetInfo {
  addresses: string[];
  connections: { peerId: string; address: string; kind: string }[];
}

/** A peer in namespace `ns` listening on every interface there. */
export async function peerIn(bed: NatTestbed, ns: string, name: string, extra: Partial<Parameters<typeof startTestPeer>[0]> = {}, args: string[] = []): Promise<TestPeer> {
  const peer = await startTestPeer({ name, listen: ['/ip4/0.0.0.0/tcp/0'], wrapper: ['ip', 'netns', 'exec', ns], ownSession: true, extraArgs: args, ...extra });
  const ready = peer.spawned.lines.find((l) => l.event === 'ready')!;
  const sock = await bed.exposeApi(ns, String(ready.api));
  peer.api = await ApiClient.connectUnix(sock, String(ready.api), String(ready.token));
  return peer;
}

export async function has(peer: TestPeer, group: string, text: string): Promise<boolean> {
  const h = await peer.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 });
  return h.some((m) => m.text === text);
}

export async function tekVersion(peer: TestPeer, group: string): Promise<number | null> {
  const t = await peer.api.call<{ tek: { version: number } | null }>('keys.table', { group });
  return t.tek?.version ?? null;
}

export async function waitMember(peer: TestPeer, group: string, timeoutMs = 60_000): Promise<void> {
  await until(`${peer.name} to become a member`, async () => (await peer.api.call<{ group: string; state: string }[]>('group.list')).some((g) => g.group === group && g.state === 'member'), timeoutMs);
}

/** The kind (`lan`, `direct`, `relayed`) of `peer`'s connections to `other`. */
export async function pathKinds(peer: TestPeer, other: TestPeer): Promise<string[]> {
  const info = await peer.api.call<NetInfo>('net.info');
  return info.connections.filter((c) => c.peerId === other.peerId).map((c) => c.kind);
}

export async function holdsReservation(peer: TestPeer): Promise<boolean> {
  return (await peer.api.call<NetInfo>('net.info')).addresses.some((a) => a.includes('/p2p-circuit'));
}

/** Both send a line, until each has read the other's: resolves with the time it took. */
export async function chatBothWays(a: TestPeer, b: TestPeer, group: string, tag: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await until(`${a.name} and ${b.name} read each other (${tag})`, async () => {
    const stamp = `${tag} ${Date.now() - start}`;
    await a.api.call('chat.send', { group, text: `${a.name} ${stamp}` });
    await b.api.call('chat.send', { group, text: `${b.name} ${stamp}` });
    const [ha, hb] = await Promise.all([
      a.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 }),
      b.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 }),
    ]);
    return ha.some((m) => m.text.startsWith(`${b.name} ${tag} `)) && hb.some((m) => m.text.startsWith(`${a.name} ${tag} `));
  }, timeoutMs, 1000);
  return Date.now() - start;
}
