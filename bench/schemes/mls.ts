/**
 * @module bench/schemes/mls
 * MLS (RFC 9420) through `ts-mls`, ciphersuite
 * MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, handshake messages as
 * PrivateMessage (the library's default).
 *
 * How the tree is built (a *realistic* tree, not the fresh one a batch add leaves):
 * 1. Member 0 ("alice", the initiator) creates the group and adds N−1 members in
 *    commits of up to 1,000 adds; member 1 ("bob", the measured receiver) joins
 *    from the first Welcome (tree validation, as a real joiner does).
 * 2. Every member at an odd leaf (1, 3, 5, …) then commits an empty commit with
 *    an UpdatePath. That fills every parent node of the tree, so each copath
 *    resolution is one node, as in a group where members have been updating.
 *    Alice and Bob process every one of these commits. The committers other than
 *    Bob are materialised from the shared epoch state with only their *own* leaf
 *    keys installed (what a Welcome gives them, less the path secret its commit
 *    overwrites at once); no member ever uses another member's private key.
 * Then, on that tree, each operation is performed by Alice from the same
 * immutable state several times (ts-mls states are immutable), and its commit is
 * processed by Bob, who shares the lowest common ancestor with Alice and so
 * derives the most path keys of any receiver.
 */
import {
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processMessage,
  acceptAll,
  nobleCryptoProvider,
} from 'ts-mls';
import type { CiphersuiteImpl, ClientState, KeyPackage, MLSMessage, PrivateKeyPackage, Proposal } from 'ts-mls';
import { cpuMedianAsync } from '../measure.js';
import type { RekeyRow } from '../types.js';

export const MLS_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
const ADD_BATCH = 1000;

interface Member {
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
}

export interface MlsGroup {
  n: number;
  alice: ClientState;
  bob: ClientState;
  cs: CiphersuiteImpl;
  /** Wall-clock seconds spent building the realistic tree. */
  buildSeconds: number;
  fillCommits: number;
}

let suite: CiphersuiteImpl | undefined;
async function cipherSuite(): Promise<CiphersuiteImpl> {
  suite ??= await getCiphersuiteImpl(getCiphersuiteFromName(MLS_SUITE), nobleCryptoProvider);
  return suite;
}

async function newMember(name: string, cs: CiphersuiteImpl): Promise<Member> {
  const credential = { credentialType: 'basic' as const, identity: new TextEncoder().encode(name) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], cs);
}

function wireBytes(message: MLSMessage): Uint8Array {
  return encodeMlsMessage(message);
}

/** Processes an encoded handshake message as a member would (decode + process). */
async function receive(state: ClientState, bytes: Uint8Array, cs: CiphersuiteImpl): Promise<ClientState> {
  const decoded = decodeMlsMessage(bytes, 0)?.[0];
  if (decoded === undefined) throw new Error('mls: undecodable message');
  if (decoded.wireformat !== 'mls_private_message' && decoded.wireformat !== 'mls_public_message') {
    throw new Error(`mls: unexpected ${decoded.wireformat}`);
  }
  const result = await processMessage(decoded, state, emptyPskIndex, acceptAll, cs);
  if (result.kind !== 'newState') throw new Error('mls: commit did not produce a new state');
  return result.newState;
}

export type FillMode = 'full' | 'targeted';

/**
 * Leaves that commit to fill the tree. `full`: every odd leaf (fills every parent
 * node). `targeted`: for each level ≥ 1, the leftmost leaf of each copath subtree
 * of leaf 0 (the initiator) and of leaf n−1 (the member removed by the leave), so
 * every node the measured operations encrypt to or blank is filled, with
 * O(log n) commits instead of n/2.
 */
export function fillCommitters(n: number, mode: FillMode): number[] {
  if (mode === 'full') {
    const odd: number[] = [];
    for (let leaf = 1; leaf < n; leaf += 2) odd.push(leaf);
    return odd;
  }
  const set = new Set<number>([1]);
  for (let j = 1; 2 ** j < 2 * n; j++) {
    for (const leaf of [0, n - 1]) {
      const start = ((leaf >> j) ^ 1) << j;
      if (start < n && start !== leaf) set.add(start);
    }
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Builds a group of n members and fills its tree with update commits (see the
 * module header). Each committer acts on the current epoch state with its own
 * leaf keys; Alice and Bob are then materialised on the final epoch with their
 * own current leaf keys, which is all a member needs to process the commits we
 * measure (Alice's path starts at the parent of leaves 0 and 1, so Bob decrypts
 * at his leaf).
 */
export async function buildMlsGroup(n: number, mode: FillMode, deadline: number): Promise<MlsGroup | { stoppedAt: string }> {
  const started = performance.now();
  const cs = await cipherSuite();
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 256 === 0 && Date.now() > deadline) return { stoppedAt: `generating key packages (${i} of ${n}): time budget spent` };
    members.push(await newMember(`member-${i}`, cs));
  }
  const a = members[0] as Member;
  const b = members[1] as Member;
  const created = await createGroup(new TextEncoder().encode(`bench-${n}`), a.publicPackage, a.privatePackage, [], cs);
  // Adds go in commits of at most ADD_BATCH: one commit of ~10,000 adds overflows
  // the call stack of ts-mls's encoder. Bob joins from the first batch's Welcome.
  let epoch: ClientState = created;
  let bobJoined: ClientState | undefined;
  for (let from = 1; from < n; from += ADD_BATCH) {
    const adds: Proposal[] = members.slice(from, from + ADD_BATCH).map((m) => ({ proposalType: 'add', add: { keyPackage: m.publicPackage } }));
    const added = await createCommit({ state: epoch, cipherSuite: cs }, { extraProposals: adds, ratchetTreeExtension: from === 1 });
    if (from === 1) {
      if (added.welcome === undefined) throw new Error('mls: no welcome for the batch add');
      bobJoined = await joinGroup(added.welcome, b.publicPackage, b.privatePackage, emptyPskIndex, cs);
    }
    epoch = added.newState;
  }
  if (bobJoined === undefined) throw new Error('mls: bob did not join');
  const afterAdds = epoch;
  const leafKeys = new Map<number, Uint8Array>([[1, b.privatePackage.hpkePrivateKey]]);
  const as = (leaf: number, base: ClientState): ClientState => {
    const m = members[leaf] as Member;
    const leafKey = leafKeys.get(leaf) ?? m.privatePackage.hpkePrivateKey;
    return { ...base, privatePath: { leafIndex: leaf, privateKeys: { [leaf * 2]: leafKey } }, signaturePrivateKey: m.privatePackage.signaturePrivateKey };
  };
  let fillCommits = 0;
  for (const leaf of fillCommitters(n, mode)) {
    if (Date.now() > deadline) return { stoppedAt: `${mode} tree fill, commit ${fillCommits + 1} (leaf ${leaf} of ${n}): time budget spent` };
    const update = await createCommit({ state: as(leaf, epoch), cipherSuite: cs });
    const newLeafKey = update.newState.privatePath.privateKeys[leaf * 2];
    if (newLeafKey === undefined) throw new Error('mls: committer lost its leaf key');
    leafKeys.set(leaf, newLeafKey);
    epoch = update.newState;
    fillCommits++;
  }
  const alice = fillCommits > 0 ? as(0, epoch) : afterAdds;
  const bob = fillCommits > 0 ? as(1, epoch) : bobJoined;
  return { n, alice, bob, cs, buildSeconds: (performance.now() - started) / 1000, fillCommits };
}

/** Blank parent nodes in a state's ratchet tree (0 for a fully filled tree). */
export function blankParents(state: ClientState): number {
  let blanks = 0;
  state.ratchetTree.forEach((node, i) => {
    if (i % 2 === 1 && node === undefined) blanks++;
  });
  return blanks;
}

/** Private keys a member stores: its signature key plus the HPKE keys of its leaf and path. */
function privateKeysHeld(state: ClientState): number {
  return Object.keys(state.privatePath.privateKeys).length + 1;
}

interface OpResult {
  row: RekeyRow;
  welcomeBytes: number;
}

async function measureOp(
  group: MlsGroup,
  op: 'join' | 'leave' | 'refresh',
  proposals: Proposal[],
  repeats: number,
): Promise<OpResult> {
  const { alice, bob, cs } = group;
  const makeCommit = () =>
    createCommit({ state: alice, cipherSuite: cs }, { extraProposals: proposals, ratchetTreeExtension: op === 'join' });
  const one = await makeCommit();
  const commitBytes = wireBytes(one.commit);
  const welcomeBytes = one.welcome ? encodeMlsMessage({ welcome: one.welcome, wireformat: 'mls_welcome', version: 'mls10' }).length : 0;
  const initiatorMs = await cpuMedianAsync(
    () => undefined,
    async () => {
      const r = await makeCommit();
      wireBytes(r.commit);
      if (r.welcome) encodeMlsMessage({ welcome: r.welcome, wireformat: 'mls_welcome', version: 'mls10' });
    },
    repeats,
  );
  const bobAfter = await receive(bob, commitBytes, cs);
  const receiverMs = await cpuMedianAsync(() => undefined, () => receive(bob, commitBytes, cs), repeats);
  return {
    welcomeBytes,
    row: {
      scheme: 'mls',
      op,
      n: group.n,
      bytes: commitBytes.length + welcomeBytes,
      bytesToExisting: commitBytes.length,
      messages: welcomeBytes > 0 ? 2 : 1,
      initiatorMs,
      receiverMs,
      keysPerMember: privateKeysHeld(bobAfter),
    },
  };
}

export interface MlsSizeResult {
  rows: RekeyRow[];
  /** Operations that could not be measured at this size, and why. */
  failures: string[];
  buildSeconds: number;
  fillCommits: number;
  blankParents: number;
  welcomeBytes: number;
}

/** Join (add + commit + Welcome with the ratchet tree), leave (remove + commit) and refresh (empty commit with path). */
export async function measureMls(n: number, mode: FillMode, deadline: number, repeats = 3): Promise<MlsSizeResult | { stoppedAt: string }> {
  const group = await buildMlsGroup(n, mode, deadline);
  if ('stoppedAt' in group) return group;
  const joiner = await newMember('joiner', group.cs);
  const failures: string[] = [];
  const attempt = async (op: 'join' | 'leave' | 'refresh', proposals: Proposal[]): Promise<OpResult | null> => {
    if (Date.now() > deadline) {
      failures.push(`${op}: not measured (time budget spent)`);
      return null;
    }
    try {
      return await measureOp(group, op, proposals, repeats);
    } catch (err) {
      failures.push(`${op}: ts-mls threw ${(err as Error).name}: ${(err as Error).message}`);
      return null;
    }
  };
  const leave = await attempt('leave', [{ proposalType: 'remove', remove: { removed: n - 1 } }]);
  const refresh = await attempt('refresh', []);
  const join = await attempt('join', [{ proposalType: 'add', add: { keyPackage: joiner.publicPackage } }]);
  // An add-only commit carries no path, so Bob's key count after it says nothing
  // about what he holds: use the count after a commit with a path (leaf + path + signature).
  if (join && refresh) join.row.keysPerMember = refresh.row.keysPerMember;
  return {
    failures,
    rows: [join?.row, leave?.row, refresh?.row].filter((r): r is RekeyRow => r !== undefined),
    buildSeconds: group.buildSeconds,
    fillCommits: group.fillCommits,
    blankParents: blankParents(group.alice),
    welcomeBytes: join?.welcomeBytes ?? 0,
  };
}
