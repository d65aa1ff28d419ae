/**
 * @module sim/adversary
 * The attacker's crafting kit (issue 14 §5; STYLE §15 "a hostile twin"): every
 * message of app/core/wire.ts built as a peer with nothing but the group ID and
 * an Ed25519 seed of its own would build it, or, for an insider, with the keys it
 * once held. It uses the wire encoders and the crypto provider only: the sealing,
 * signing and commitment rules are re-derived here from docs/protocol.md, never
 * called through the engine (whose private methods are not reachable anyway).
 *
 * - Pairwise keys: X25519 of the two identities' Ed25519 keys, HKDF with the group ID
 *   and both keys in sorted order ("conclave/v1/pairwise"), as the engine computes
 *   them; a grant or fetch reply seals a key under it with AAD
 *   "conclave/v1/seal/<purpose>" ‖ group ‖ recipient ‖ "slot:version:revision:creators".
 * - Tables: the header is signed with "conclave/v1/table" ‖ group ‖ header bytes; TEK'
 *   is committed with "conclave/v1/tek-commitment"; a pairwise entry seals TEK' under
 *   wrapKey(pairwise, tableId ‖ member).
 * - Every key the attacker makes is kept in `made`, so the oracle can try it on the
 *   traffic (an attacker reads whatever it made the group use).
 * - Control messages go out sealed (docs/protocol.md §14) under the TEK the attacker
 *   holds (`hold`: an insider's current TEK, a removed member's last one); an attacker
 *   that holds none seals under a TEK of its own making, named as the TEK it claims.
 *
 * Invariants: deterministic (nonces and keys come from the attacker's seeded stream);
 * nothing here touches an engine.
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { GroupParams, MemberKey } from '../core/types.js';
import { concat, fromHex, toHex, utf8 } from '../core/bytes.js';
import { KEY_BYTES, pairwiseKey, wrapKey } from '../core/keys.js';
import { sealControlWith, type TekKnown } from './sealed-control.js';
import {
  MsgType,
  decodeMessage,
  encodeMessage,
  encodeTableHeader,
  type Certificate,
  type ControlMessage,
  type KeyInfo,
  type Message,
  type PairwiseEntry,
  type RosterEntry,
  type SealedKey,
  type TableHeader,
} from '../core/wire.js';
import type { KnownKey } from './oracle.js';
import type { SeededRandom } from './random.js';

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);
const ZERO_NONCE = new Uint8Array(24);
/** The reason text of the JoinRefused that makes a member rejoin (the engine's constant; it travels on the wire). */
export const NOT_A_MEMBER = 'not a member of this group';

export type SealPurpose = 'grant' | 'fetch';

export class Attacker {
  readonly key: MemberKey;
  /** Keys this attacker made (and so knows): the oracle tries them on the traffic. */
  readonly made: KnownKey[] = [];
  private readonly xSecret: Uint8Array;
  /** The TEK control messages are sealed under (null: one of the attacker's own making). */
  private sealing: TekKnown | null = null;

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly group: Uint8Array,
    private readonly seed: Uint8Array,
    private readonly rng: SeededRandom,
  ) {
    this.key = toHex(crypto.ed25519PublicKey(seed));
    this.xSecret = crypto.x25519SecretFromEd25519Seed(seed);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.nextU32() & 0xff;
    return out;
  }

  /** A fresh key the attacker will try to make the group use. */
  newKey(slot: number, version: number, creators: MemberKey[]): Uint8Array {
    const key = this.bytes(KEY_BYTES);
    this.made.push({ slot, version, creators: [...creators].sort(), revision: 0, key });
    return key;
  }

  encode(m: Message): Uint8Array {
    return encodeMessage(this.group, m);
  }

  /** Seals control messages under `tek` from now on (null: under a TEK of the attacker's own). */
  hold(tek: TekKnown | null): void {
    this.sealing = tek;
  }

  /** `m` sealed as a member seals it; `claim` names the TEK to make up when none is held. */
  control(m: ControlMessage, claim: { version: number; creators: MemberKey[]; revision?: number } = { version: 1, creators: [this.key] }): Uint8Array {
    let tek = this.sealing;
    if (!tek) {
      const creators = [...claim.creators].sort();
      const made = this.made.find((k) => k.slot === 0 && k.version === claim.version && k.creators.join() === creators.join());
      tek = { slot: 0, version: claim.version, creators, revision: 0, key: made?.key ?? this.newKey(0, claim.version, creators) };
      // Named at the revision it claims (a made-up key steps like any other).
      if (claim.revision) tek = { ...tek, revision: claim.revision };
    }
    return sealControlWith(this.crypto, this.group, tek, this.bytes(24), m);
  }

  pairwise(peer: MemberKey): Uint8Array | null {
    const pub = this.crypto.x25519PublicFromEd25519(fromHex(peer));
    const shared = pub ? this.crypto.x25519(this.xSecret, pub) : null;
    if (!shared) return null;
    const [a, b] = [this.key, peer].sort() as [string, string];
    return pairwiseKey(this.crypto, shared, concat(this.group, fromHex(a), fromHex(b)));
  }

  private sealAad(purpose: SealPurpose, recipient: MemberKey, info: KeyInfo): Uint8Array {
    return concat(LABEL(`seal/${purpose}`), this.group, fromHex(recipient), utf8(`${info.slot}:${info.version}:${info.revision}:${info.creators.join(',')}`));
  }

  /** `key` sealed for `peer` as an owner seals a grant or a fetch reply. */
  sealFor(peer: MemberKey, purpose: SealPurpose, info: KeyInfo, key: Uint8Array, owner: MemberKey = this.key): SealedKey {
    const nonce = this.bytes(24);
    return { info, basedOn: null, owner, nonce, sealed: this.crypto.seal(this.pairwise(peer) ?? new Uint8Array(32), nonce, key, this.sealAad(purpose, peer, info)) };
  }

  /** Opens a key some member sealed for this attacker (what a grant to it gives away). */
  openFrom(from: MemberKey, purpose: SealPurpose, s: SealedKey): KnownKey | null {
    const pk = this.pairwise(from);
    const key = pk ? this.crypto.open(pk, s.nonce, s.sealed, this.sealAad(purpose, this.key, s.info)) : null;
    return key && key.length === KEY_BYTES ? { slot: s.info.slot, version: s.info.version, creators: [...s.info.creators].sort(), revision: s.info.revision, key } : null;
  }

  /** Every key in a unicast sent to this attacker that it can open. */
  keysIn(from: MemberKey, bytes: Uint8Array): KnownKey[] {
    let m: Message;
    try {
      m = decodeMessage(this.group, 'unicast', bytes);
    } catch {
      return [];
    }
    const sealed: [SealPurpose, SealedKey][] =
      m.type === MsgType.KeyGrant || m.type === MsgType.Admit ? m.grants.map((g) => ['grant', g]) : m.type === MsgType.FetchReply && m.key ? [['fetch', m.key]] : [];
    return sealed.map(([p, s]) => this.openFrom(from, p, s)).filter((k): k is KnownKey => k !== null);
  }

  certify(member: MemberKey, admittedAt: number): Certificate {
    const body = concat(LABEL('admission'), this.group, fromHex(this.key), fromHex(member), utf8(String(admittedAt)));
    return { admitter: this.key, member, admittedAt, signature: this.crypto.ed25519Sign(this.seed, body) };
  }

  // ------------------------------------------------------------ one builder per message

  heartbeat(sentAt: number, keys: KeyInfo[], blocklistCount = 0, rosterCount = 1): Uint8Array {
    return this.control({ type: MsgType.Heartbeat, sentAt, keys, history: [], blocklistCount, rosterCount }, keys.find((k) => k.slot === 0));
  }

  revision(keys: KeyInfo[]): Uint8Array {
    return this.control({ type: MsgType.Revision, keys }, keys.find((k) => k.slot === 0));
  }

  /** An announcement with a forged (all-zero) admitter signature. */
  memberAdmitted(members: RosterEntry[], revisions: KeyInfo[] = []): Uint8Array {
    return this.control({ type: MsgType.MemberAdmitted, members, revisions, signature: new Uint8Array(64) });
  }

  joinRefused(reason: string): Uint8Array {
    return this.encode({ type: MsgType.JoinRefused, reason });
  }

  keyRequest(slots: number[], certificate: Certificate): Uint8Array {
    return this.encode({ type: MsgType.KeyRequest, slots, certificate });
  }

  keyGrant(grants: SealedKey[]): Uint8Array {
    return this.encode({ type: MsgType.KeyGrant, grants });
  }

  fetchReply(key: SealedKey | null, table: Uint8Array | null = null): Uint8Array {
    return this.encode({ type: MsgType.FetchReply, table, key });
  }

  /** A FetchReply nested `depth` levels deep (each level's table field holds the next). */
  nestedFetchReply(depth: number): Uint8Array {
    let inner: Uint8Array | null = null;
    for (let i = 0; i < depth; i++) inner = this.fetchReply(null, inner);
    return inner ?? this.fetchReply(null);
  }

  panel(body: Uint8Array): Uint8Array {
    return this.encode({ type: MsgType.Panel, body });
  }

  admit(o: { victim: MemberKey; params: GroupParams; roster: RosterEntry[]; grants: SealedKey[]; admittedAt: number }): Uint8Array {
    return this.encode({ type: MsgType.Admit, groupName: 'attacker', params: o.params, roster: o.roster, blocklist: [], owners: [], grants: o.grants, certificate: this.certify(o.victim, o.admittedAt) });
  }

  /** A data packet with this attacker's participant ID under a TEK version and tag nobody holds. */
  data(senderId: number[], tekVersion: number, sentAt: number): Uint8Array {
    return this.encode({ type: MsgType.Data, senderId: Uint8Array.from(senderId), tekVersion, tekTag: this.bytes(8), revision: 0, sentAt, nonce: this.bytes(24), ciphertext: this.bytes(48) });
  }

  /**
   * An exclusion or refresh table made and signed by this attacker: TEK' of its own,
   * committed as the engine commits it, sealed pairwise for each of `recipients`, so
   * that everything a victim checks is consistent; only the authority is missing.
   */
  table(o: {
    kind: 'exclude' | 'refresh';
    targets: MemberKey[];
    base: { version: number; creators: MemberKey[] };
    blocklist: MemberKey[];
    recipients: MemberKey[];
    createdAt: number;
    signature: 'valid' | 'invalid';
  }): Uint8Array {
    const newVersion = o.base.version + 1;
    const tekPrime = this.newKey(0, newVersion, [this.key]);
    const header: TableHeader = {
      kind: o.kind,
      excluder: this.key,
      targets: [...o.targets].sort(),
      base: { version: o.base.version, creators: [...o.base.creators].sort() },
      newVersion,
      createdAt: o.createdAt,
      blocklist: [...new Set([...o.blocklist, ...o.targets])].sort(),
      tekCommitment: this.crypto.sha256(concat(LABEL('tek-commitment'), this.group, fromHex(this.key), utf8(`${newVersion}:${o.createdAt}`), tekPrime)),
      panel: null,
      replaced: [],
      plan: [],
    };
    const headerBytes = encodeTableHeader(header);
    const headerSignature = o.signature === 'valid' ? this.crypto.ed25519Sign(this.seed, concat(LABEL('table'), this.group, headerBytes)) : new Uint8Array(64);
    const id = this.crypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16);
    const pairwise: PairwiseEntry[] = [];
    for (const m of o.recipients) {
      const pk = this.pairwise(m);
      if (pk) pairwise.push({ member: m, sealed: this.crypto.seal(wrapKey(this.crypto, pk, concat(id, fromHex(m))), ZERO_NONCE, tekPrime, LABEL('table-entry')) });
    }
    return this.control({ type: MsgType.Table, header, headerSignature, entries: [], pairwise }, header.base);
  }
}
