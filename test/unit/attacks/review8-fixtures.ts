// Shared by the review-8 attack tests: real libp2p nodes on loopback (stopped after the file's
// tests) and a PeerContext around one of them with the groups a test gives.
// A node whose graceful stop has not ended within STOP_GRACE_MS has its connections aborted:
// on a loaded machine one connection's close once never ended, every test of review7-relays
// had passed, and its process stayed up until the suite's runner was killed (7 minutes).
import { after } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection } from '@libp2p/interface';
import { randomBytes } from 'node:crypto';
import { createConclaveNode, type ConclaveLibp2p } from '../../../app/net/node.js';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import type { PeerContext } from '../../../app/peer/peer-context.js';
import type { GroupRuntime } from '../../../app/peer/group.js';

const nodes: ConclaveLibp2p[] = [];
const STOP_GRACE_MS = 5000;
after(async () => {
  await Promise.all(
    nodes.map(async (n) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)));
      const stopped = Promise.resolve(n.stop()).catch(() => {});
      if ((await Promise.race([stopped, late])) === 'late') for (const c of n.getConnections()) c.abort(new Error('test file ended'));
      clearTimeout(timer);
    }),
  );
});

export async function newNode(): Promise<ConclaveLibp2p> {
  const node = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(node);
  return node;
}

/** A PeerContext of `node` running the group runtimes `groups` (by group ID). */
export function contextOf(node: ConclaveLibp2p, groups: Map<string, GroupRuntime>): PeerContext {
  return {
    node,
    groups,
    selfKey: memberKeyOfPeer(node.peerId)!,
    selfPeerId: node.peerId.toString(),
    stopped: () => false,
    log: () => {},
    emit: () => {},
  } as unknown as PeerContext;
}

/** Polls `cond` every 20 ms until it holds; throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** An identify-push message (identify.proto: listenAddrs = 2, protocols = 3), length-prefixed, unsigned. */
export function identifyPush(listenAddrs: string[], protocols: string[] = []): Uint8Array {
  const body: number[] = [];
  for (const a of listenAddrs) {
    const bytes = multiaddr(a).bytes;
    body.push(0x12, ...varint(bytes.length), ...bytes);
  }
  for (const p of protocols) {
    const bytes = new TextEncoder().encode(p);
    body.push(0x1a, ...varint(bytes.length), ...bytes);
  }
  return Uint8Array.from([...varint(body.length), ...body]);
}

/**
 * One identify-push, given at most PUSH_TIMEOUT_MS: a push the victim refuses (rate-limited)
 * may never be read, and a sink left waiting on it hung this file on a loaded machine (a CI run
 * of 5dfc3e5 timed out here after 10 minutes). The stream is aborted then; callers ignore the error.
 */
const PUSH_TIMEOUT_MS = 3000;
export async function push(conn: Connection, listenAddrs: string[]): Promise<void> {
  const stream = await conn.newStream('/ipfs/id/push/1.0.0', { signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      stream.sink([identifyPush(listenAddrs)]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('identify push timed out')), PUSH_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    stream.abort(err as Error);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
