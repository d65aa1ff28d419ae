/**
 * @module core/engine/control-seal
 * Control messages sealed under the TEK (issue 15 §4; docs/protocol.md §3, §14): every
 * Heartbeat, Revision, MemberAdmitted, Table and Leave goes out on the control topic
 * as a SealedControl whose clear header names only the TEK it is sealed under
 * (version, creators tag, revision) and a nonce; the inner type and body are
 * AEAD-sealed under controlKey(TEK at that revision), the clear header as associated
 * data. An outsider who knows the group ID but holds no current TEK reads no
 * display name, blocklist, target, owned key or message type.
 *
 * Which TEK seals: a Table under the TEK it replaces (its base), so members one
 * rekey behind still read it (003 [0073], [0079]: further behind, they fetch); a reseal
 * after concurrent tables under the TEK those tables replaced (§8.2);
 * every other message under the sender's current TEK at its current revision. A table
 * whose base raced also goes under up to SIBLING_COPIES of the base's siblings
 * (siblingsOfBase).
 * Opening: the receiver finds the kept TEK the header names (current, or superseded
 * and still inside the grace window, 003 [0071]) and steps a copy of it forward to the
 * header's revision, at most MAX_REVISION_JUMP steps and never backward (003 [0056]);
 * opening changes no state (the room that takes the inner message does that).
 *
 * Invariants: no randomness but the injected RNG (the nonce); derived keys are cached
 * per (version, tag, revision) and dropped with the TEK they came from; a buffer that
 * opened under a key is re-opened by another engine only if that engine derives the
 * same key (the cache proves nothing it could not compute itself).
 */
import { toHex, equalBytes } from '../bytes.js';
import { controlKey, creatorsTag } from '../keys.js';
import { MsgType, controlAad, decodeControlInner, encodeControlInner, encodeMessage, type ControlMessage, type SealedControlMessage, type TableHeader } from '../wire.js';
import { sameCreators, sortedKeys } from '../state.js';
import { findTekRecord, tekAtRevision } from './tek-records.js';
import { MAX_REVISION_JUMP, tableCreators, tableThatMade, type EngineCore, type TableState } from './context.js';

const MAX_CONTROL_KEYS = 32;

/**
 * Seals `m` under the TEK its rule names and publishes it on the control topic; a table
 * built on a base that raced also under the base's siblings this member holds (see
 * siblingsOfBase). Without a TEK, nothing is sent: no member could read it.
 */
export function publishControl(core: EngineCore, m: ControlMessage): void {
  const under = sealingTek(core, m);
  if (!under) return;
  const inner = encodeControlInner(m);
  publishSealed(core, inner, under);
  if (m.type === MsgType.Table && inner.length <= SIBLING_COPY_MAX_BYTES) for (const sibling of siblingsOfBase(core, m.header, under)) publishSealed(core, inner, sibling);
}

/** A table goes out under at most this many siblings of its base besides its own TEK, and only while it is at most SIBLING_COPY_MAX_BYTES (§8.2). */
export const SIBLING_COPIES = 3;
export const SIBLING_COPY_MAX_BYTES = 16 * 1024;

type SealingTek = { version: number; creators: string[]; revision: number; key: Uint8Array };

function publishSealed(core: EngineCore, inner: Uint8Array, under: SealingTek): void {
  const env: SealedControlMessage = {
    type: MsgType.SealedControl,
    tekVersion: under.version,
    tekTag: creatorsTag(core.crypto, under.creators),
    revision: under.revision,
    nonce: core.rng(24),
    ciphertext: new Uint8Array(0),
  };
  const key = controlKeyAt(core, env, under.key);
  env.ciphertext = core.crypto.seal(key, env.nonce, inner, controlAad(core.groupBytes, env));
  core.outbox.push({ kind: 'publish', topic: 'control', bytes: encodeMessage(core.groupBytes, env) });
}

/**
 * A Table: its base TEK, if still kept (else the current TEK: any holder of that is a member);
 * anything else: the current TEK. A table built on the winner of concurrent tables (a reseal,
 * §8.2) goes under the TEK those tables replaced, if still kept: members still on a losing
 * sibling, or not yet on the winner, read it in the same hop (every target knew that TEK too,
 * as every target of a plain exclusion knows its base; the entries are what they cannot read).
 */
function sealingTek(core: EngineCore, m: ControlMessage): SealingTek | null {
  if (m.type === MsgType.Table) {
    const base = m.header.base;
    const baseTable = tableThatMade(core, base.version, base.creators);
    const raced = baseTable && [...core.tables.values()].some((o) => o !== baseTable && o.header.newVersion === base.version && o.header.base.version === baseTable.header.base.version);
    const under = raced ? [baseTable.header.base, base] : [base];
    for (const u of under) {
      const rec = core.s.tekRecords.find((r) => r.version === u.version && sameCreators(r.creators, sortedKeys(u.creators)));
      if (rec) return rec;
    }
  }
  return core.s.tek;
}

/**
 * Races in a row (§8.2): creators reseal at once, each on its own view of an earlier race,
 * and members reach a winner by jumping over a base or by fetch, so not every member holds
 * the TEK a reseal is sealed under (the one its base replaced). Such a member refused it as
 * stale and waited 2–4 heartbeats for a fetch or a reseal of its own (a 32-member four-way
 * heal: 1.6–2.0 s on two seeds of eight; four exclusions 20 ms apart in 64: up to 3.2 s).
 * So a table whose base raced goes out under the base's siblings this member holds too,
 * those on another base first (a double race), at most SIBLING_COPIES: each member is on one
 * of them and reads it in the same hop. A copy goes under a sibling only if every member the
 * table blocks that may hold the sibling (its table did not block it) may hold the primary
 * TEK too: a member excluded in the race could hold a sibling made before its exclusion was
 * known and read, through the copy, a header it could not read otherwise (review 14); so a
 * copy shows nobody blocked a header it could not already read, and no entry opens for
 * them. The group's first TEK, under which the reseal of its first race goes, blocked
 * nobody: every member blocked since may hold it. Copies only of tables up to
 * SIBLING_COPY_MAX_BYTES: in a large group a reseal is tens of kilobytes and a late member
 * fetches (k = 16 at N = 1,024: 3.6× the bytes for 11 ms).
 */
function siblingsOfBase(core: EngineCore, header: TableHeader, primary: SealingTek): SealingTek[] {
  const base = header.base;
  const made = (o: TableState) => tableCreators(o.header);
  const baseTable = tableThatMade(core, base.version, base.creators);
  // Who may hold a TEK among the members this table blocks: those its own table did not block.
  // The group's first TEK (version 1) was made by no table and against no blocklist: any member blocked since may hold it.
  const primaryTable = tableThatMade(core, primary.version, primary.creators);
  const primaryBlocked = primaryTable ? primaryTable.header.blocklist : primary.version === 1 ? [] : null;
  if (!baseTable || !primaryBlocked) return [];
  const readPrimary = new Set(header.blocklist.filter((b) => !primaryBlocked.includes(b)));
  const sameBase = (o: TableState) => o.header.base.version === baseTable.header.base.version && sameCreators(sortedKeys(o.header.base.creators), sortedKeys(baseTable.header.base.creators));
  const siblings = [...core.tables.values()].filter((o) => o !== baseTable && o.header.newVersion === base.version).sort((a, b) => Number(sameBase(a)) - Number(sameBase(b)));
  const out: SealingTek[] = [];
  for (const o of siblings) {
    const rec = core.s.tekRecords.find((r) => r.version === base.version && sameCreators(r.creators, made(o)));
    if (!rec || (rec.version === primary.version && sameCreators(rec.creators, primary.creators)) || out.includes(rec)) continue;
    // No member this table blocks may read it under the sibling unless it could under the primary seal (review 14).
    if (header.blocklist.some((b) => !o.header.blocklist.includes(b) && !readPrimary.has(b))) continue;
    out.push(rec);
    if (out.length === SIBLING_COPIES) break;
  }
  return out;
}

export type Opened =
  | { kind: 'opened'; message: ControlMessage }
  /** This member keeps no TEK of that version and tag. */
  | { kind: 'unknown' }
  /** The TEK is kept, but not that (earlier) revision any more. */
  | { kind: 'too-old' }
  | { kind: 'failed'; detail: string };

/** Opened buffers: published bytes reach every member as one buffer (the simulator, gossip's cache). */
const openedCache = new WeakMap<Uint8Array, { key: Uint8Array; opened: Opened & { kind: 'opened' } }>();

/**
 * Most revision steps a SealedControl or a Data packet from a sender that is not a current
 * member may cost (a leaver's last Table or Leave is sealed at most a few steps past ours; a
 * newcomer whose admission is news here speaks a step or two past it): an unopenable message
 * from a departed member or a stranger costs ~0.4 ms, not 10,000 hashes (S1, D1; review 29).
 */
export const NON_MEMBER_REVISION_JUMP = 256;

/**
 * Opens a SealedControl with the TEK its header names, stepping at most `maxJump` revisions;
 * reads state, changes none. Throws RemoteProtocolError('decode') on a bad inner body.
 */
export function openControl(core: EngineCore, env: SealedControlMessage, bytes: Uint8Array, maxJump = MAX_REVISION_JUMP): Opened {
  const rec = findTekRecord(core, env.tekVersion, env.tekTag);
  if (!rec) return { kind: 'unknown' };
  const id = controlKeyId(env);
  let key = core.controlKeys.get(id);
  if (!key) {
    if (env.revision - rec.revision > maxJump) return { kind: 'failed', detail: `revision ${env.revision} is more than ${maxJump} steps past the ${rec.revision} this member holds` };
    const tek = tekAtRevision(core, rec, env.revision);
    if (tek === 'too-old') return { kind: 'too-old' };
    if (tek === 'failed') return { kind: 'failed', detail: `revision ${env.revision} is too far past the ${rec.revision} this member holds` };
    key = controlKeyAt(core, env, tek);
  }
  // A cached key is as good as a derived one: every expiry of a kept TEK or revision drops the cache.
  const hit = openedCache.get(bytes);
  if (hit && equalBytes(hit.key, key)) return hit.opened;
  const plain = core.crypto.open(key, env.nonce, env.ciphertext, controlAad(core.groupBytes, env));
  if (!plain) return { kind: 'failed', detail: `does not open under TEK v${env.tekVersion} revision ${env.revision}` };
  const opened = { kind: 'opened', message: decodeControlInner(plain) } as const;
  openedCache.set(bytes, { key, opened });
  return opened;
}

/** Control key ids by header: a published header is decoded once and read by every member (wire.ts memo). */
const keyIds = new WeakMap<SealedControlMessage, string>();

/** `version:tag:revision`, the controlKeys index of the key a header names. */
function controlKeyId(env: SealedControlMessage): string {
  let id = keyIds.get(env);
  if (id === undefined) {
    id = `${env.tekVersion}:${toHex(env.tekTag)}:${env.revision}`;
    keyIds.set(env, id);
  }
  return id;
}

function controlKeyAt(core: EngineCore, env: SealedControlMessage, tek: Uint8Array): Uint8Array {
  const id = controlKeyId(env);
  let key = core.controlKeys.get(id);
  if (!key) {
    if (core.controlKeys.size >= MAX_CONTROL_KEYS) {
      for (const k of core.controlKeys.values()) k.fill(0);
      core.controlKeys.clear();
    }
    key = controlKey(core.crypto, tek);
    core.controlKeys.set(id, key);
  }
  return key;
}
