/**
 * @module bench/reference
 * Measures the two reference schemes (LKH, pairwise) at one group size: bytes and
 * messages from the encoded messages themselves, CPU at the initiator and at the
 * receiver with the most work, each the median of several runs on a fresh copy
 * of the same state.
 */
import type { CryptoProvider, Rng } from '../app/core/crypto-provider.js';
import { cpuMedian } from './measure.js';
import { LkhServer, receiveRekey } from './schemes/lkh.js';
import { PairwiseMember, openGroupKey } from './schemes/pairwise.js';
import type { RekeyOp, RekeyRow } from './types.js';

const sum = (messages: Uint8Array[]) => messages.reduce((s, m) => s + m.length, 0);

/** How many of `held`'s keys a rekey message re-wraps: the receiver's work. */
function pathOverlap(server: LkhServer, a: number, b: number): number {
  const pa = new Set(server.path(server.leaf(a)));
  return server.path(server.leaf(b)).filter((x) => pa.has(x)).length;
}

export function measureLkh(crypto: CryptoProvider, rng: Rng, n: number, repeats = 7): RekeyRow[] {
  const base = new LkhServer(crypto, rng, n);
  const rows: RekeyRow[] = [];
  const row = (op: RekeyOp, multicast: Uint8Array, unicast: Uint8Array | null, initiatorMs: number, receiverMs: number): RekeyRow => ({
    scheme: 'lkh',
    op,
    n,
    bytes: multicast.length + (unicast?.length ?? 0),
    bytesToExisting: multicast.length,
    messages: unicast ? 2 : 1,
    initiatorMs,
    receiverMs,
    // A member of an n-member tree holds its individual key and ⌈log2 n⌉ tree keys.
    keysPerMember: Math.ceil(Math.log2(n)) + 1,
  });

  // join: on a tree whose free slot n−2 has an occupied sibling (slot n−1), so the
  // joiner's whole path is shared with existing members (a join that does not grow
  // the tree); the receiver is that sibling, which re-keys d nodes.
  {
    const tree = new LkhServer(crypto, rng, n, n + 1, n - 2);
    const probe = tree.clone().join();
    const receiver = probe.slot ^ 1;
    if (pathOverlap(tree, receiver, probe.slot) < 2) throw new Error('lkh bench: joiner has no sibling');
    const held = tree.memberKeys(receiver);
    const initiatorMs = cpuMedian(() => tree.clone(), (s) => s.join(), repeats);
    const receiverMs = cpuMedian(() => undefined, () => receiveRekey(crypto, tree.publicKey, held, probe.multicast), repeats);
    rows.push(row('join', probe.multicast, probe.unicast, initiatorMs, receiverMs));
  }
  // leave: slot n−1 leaves; its sibling decrypts the whole path.
  {
    const leaver = n - 1;
    const receiver = (leaver ^ 1) < n ? leaver ^ 1 : leaver - 1;
    const held = base.memberKeys(receiver);
    const message = base.clone().leave(leaver);
    const initiatorMs = cpuMedian(() => base.clone(), (s) => s.leave(leaver), repeats);
    const receiverMs = cpuMedian(() => undefined, () => receiveRekey(crypto, base.publicKey, held, message), repeats);
    rows.push(row('leave', message, null, initiatorMs, receiverMs));
  }
  // refresh: every member opens one wrap.
  {
    const held = base.memberKeys(0);
    const message = base.clone().refresh();
    const initiatorMs = cpuMedian(() => base.clone(), (s) => s.refresh(), repeats);
    const receiverMs = cpuMedian(() => undefined, () => receiveRekey(crypto, base.publicKey, held, message), repeats);
    rows.push(row('refresh', message, null, initiatorMs, receiverMs));
  }
  return rows;
}

export function measurePairwise(crypto: CryptoProvider, rng: Rng, n: number, repeats = 7): RekeyRow[] {
  // Member 0 initiates. Channel keys to the other members stand in for the X25519
  // agreements made when they joined (not part of the measured operation).
  const channels: (Uint8Array | undefined)[] = [undefined];
  for (let i = 1; i < n; i++) channels.push(rng(32));
  const fresh = () => new PairwiseMember(crypto, rng, 0, [...channels]);
  const receiverChannel = channels[1] as Uint8Array;
  const joinerSecret = rng(32);
  const joinerPublic = crypto.x25519PublicKey(joinerSecret);
  const rows: RekeyRow[] = [];
  const ops: [RekeyOp, (m: PairwiseMember) => Uint8Array[]][] = [
    ['join', (m) => m.join(joinerPublic)],
    ['leave', (m) => m.leave(n - 1)],
    ['refresh', (m) => m.refresh()],
  ];
  for (const [op, run] of ops) {
    const messages = run(fresh());
    const toReceiver = messages[0] as Uint8Array;
    const initiatorMs = cpuMedian(fresh, run, repeats);
    const receiverMs = cpuMedian(() => undefined, () => openGroupKey(crypto, receiverChannel, toReceiver), repeats);
    // For a join, the last message goes to the joiner; the others to existing members.
    const toExisting = op === 'join' ? messages.slice(0, -1) : messages;
    rows.push({
      scheme: 'pairwise',
      op,
      n,
      bytes: sum(messages),
      bytesToExisting: sum(toExisting),
      messages: messages.length,
      initiatorMs,
      receiverMs,
      keysPerMember: fresh().keysPerMember(),
    });
  }
  return rows;
}
