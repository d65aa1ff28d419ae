/**
 * @module core/engine/sealing
 * Pairwise secrecy and admission certificates: the X25519 key shared with each
 * identity (from the Ed25519 keys, through HKDF), sealing a held key for one member,
 * opening a key sealed for us, and signing / verifying "A admitted B at T".
 *
 * Invariants: a sealed key's AAD binds purpose, group, recipient and the key's
 * (slot, version, revision, creators), so a sealed key cannot be replayed as another
 * key or to another member. A certificate verifies only under its admitter's key.
 * Seeds: 001 (secure unicast to a keyed member), 003 [0064]. docs/protocol.md §5.
 */
import { LABEL, info, type EngineCore } from './context.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { concat, equalBytes, fromHex, utf8 } from '../bytes.js';
import { KEY_BYTES, pairwiseKey } from '../keys.js';
import { type Certificate, type KeyInfo, type SealedKey } from '../wire.js';
import { type HeldKey } from '../state.js';

export function certify(core: EngineCore, member: MemberKey, admittedAt: number): Certificate {
  const body = certBody(core, core.self, member, admittedAt);
  return { admitter: core.self, member, admittedAt, signature: core.crypto.ed25519Sign(core.seed, body) };
}

export function certBody(core: EngineCore, admitter: MemberKey, member: MemberKey, admittedAt: number): Uint8Array {
  return concat(LABEL('admission'), core.groupBytes, fromHex(admitter), fromHex(member), utf8(String(admittedAt)));
}

export function verifyCertificate(core: EngineCore, c: Certificate, member: MemberKey): void {
  ensure(c.member === member, 'invalid', 'certificate names another member');
  const admitter = core.s.roster[c.admitter];
  // A7: the admitter was a member when it signed: a current member, or one that left (its own
  // signed Leave, L1) after the admission time; an excluded admitter certifies nothing.
  const leftAfter = admitter?.state === 'left' && admitter.leaveProof !== undefined && c.admittedAt <= admitter.leaveProof.sentAt;
  ensure(c.admitter === core.self || (admitter && admitter.state === 'member') || leftAfter || core.s.state !== 'member', 'not-member', 'certificate from a non-member');
  ensure(leftAfter || !core.s.blocklist.includes(c.admitter), 'blocked', 'certificate from an excluded member');
  ensure(core.crypto.ed25519Verify(fromHex(c.admitter), certBody(core, c.admitter, member, c.admittedAt), c.signature), 'bad-signature', 'admission certificate signature does not verify');
}

export function seal(core: EngineCore, member: MemberKey, pk: Uint8Array, held: HeldKey, purpose: string): SealedKey {
  const nonce = core.rng(24);
  const keyInfo = info(core, held);
  const aad = sealAad(core, purpose, member, keyInfo);
  return {
    info: keyInfo,
    basedOn: held.basedOn,
    owner: held.owner ?? core.self,
    nonce,
    sealed: core.crypto.seal(pk, nonce, held.key, aad),
  };
}

/** What an admitter signs to announce a batch of newcomers (M1): group, then each member key and admission time. */
export function announceBody(core: EngineCore, members: readonly { key: MemberKey; admittedAt: number }[]): Uint8Array {
  const known = announceBodies.get(members);
  if (known && equalBytes(known.group, core.groupBytes)) return known.body;
  const body = concat(LABEL('announce'), core.groupBytes, ...members.map((e) => concat(fromHex(e.key), utf8(`:${e.admittedAt};`))));
  announceBodies.set(members, { group: core.groupBytes, body });
  return body;
}

/**
 * Signed announcement bodies by member list: a published MemberAdmitted is decoded once and
 * read by every member (wire.ts memo), so the same bytes are not rebuilt per member. A pure
 * function of (group, list); the list of a decoded message is never changed, and the body is
 * only read (signed or verified).
 */
const announceBodies = new WeakMap<readonly { key: MemberKey; admittedAt: number }[], { group: Uint8Array; body: Uint8Array }>();

/** What a member signs to leave: group, its key and the time (L1). */
export function leaveBody(core: EngineCore, member: MemberKey, sentAt: number): Uint8Array {
  return concat(LABEL('leave'), core.groupBytes, fromHex(member), utf8(String(sentAt)));
}

export function sealAad(core: EngineCore, purpose: string, member: MemberKey, info: KeyInfo): Uint8Array {
  return concat(LABEL(`seal/${purpose}`), core.groupBytes, fromHex(member), utf8(`${info.slot}:${info.version}:${info.revision}:${info.creators.join(',')}`));
}

export function openSealed(core: EngineCore, from: MemberKey, s: SealedKey, purpose: string): Uint8Array {
  const pk = pairwise(core, from);
  ensure(pk, 'invalid', 'sender has no usable X25519 key');
  const key = core.crypto.open(pk, s.nonce, s.sealed, sealAad(core, purpose, core.self, s.info));
  ensure(key && key.length === KEY_BYTES, 'decrypt-failed', 'sealed key does not open');
  return key;
}

/** Pairwise key with another identity: X25519 of the Ed25519 keys, through HKDF. Cached. */
export function pairwise(core: EngineCore, member: MemberKey): Uint8Array | null {
  if (core.pairwiseCache.has(member)) return core.pairwiseCache.get(member)!;
  let out: Uint8Array | null = null;
  const pub = core.crypto.x25519PublicFromEd25519(fromHex(member));
  if (pub) {
    const shared = core.crypto.x25519(core.xSecret, pub);
    if (shared) {
      const [a, b] = [core.self, member].sort() as [string, string];
      out = pairwiseKey(core.crypto, shared, concat(core.groupBytes, fromHex(a), fromHex(b)));
    }
  }
  core.pairwiseCache.set(member, out);
  return out;
}
