/**
 * @module core/engine/tables
 * One exclusion or refresh table as data (003 Tables 1–4): its ID, header encoding and
 * signature check, the TEK' commitment, the entry keys (one per KEK, table, slot,
 * version and revision: single-use, hence the zero nonce), indexing of entries, and
 * reading TEK' out of the entries this member can open.
 *
 * Invariants: an entry counts only if it opens to the TEK' the signed header commits
 * to; a header is relayed only after its signature verified; entries under a KEK any
 * blocked member knew are never made nor read. Entries are unsigned, so takeEntries
 * bounds them before anything changes (a member adds one per slot its ID selects; fetch
 * replies at most relayedEntryCap, and only under the requester's slots, which is all a
 * responder sends, tableMessageFor; ENTRY_CANDIDATES per coordinates not proved junk) and
 * a completer counts a slot covered only by an entry that opens (genuineEntryAt).
 * docs/protocol.md §7, §8.5.
 */
import { ENTRY_AAD, LABEL, MAX_REVISION_JUMP, MAX_TABLE_HASH_STEPS, ZERO_NONCE, headerIds, heldKey, pidOf, reject, unicast, type EngineCore, type TableState } from './context.js';
import { pairwise } from './sealing.js';
import { publishControl } from './control-seal.js';
import { isMember, selects } from './authorization.js';
import { type MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { concat, equalBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { kekSlot, slotName, slotsOf } from '../params.js';
import { advanceRevision, wrapKey } from '../keys.js';
import { MsgType, encodeMessage, encodeTableHeader, type PairwiseEntry, type ReplacedKek, type TableEntry, type TableHeader } from '../wire.js';

/** The commitment binds TEK' to this table, so a forged or wrong TEK' is detected (issue 3 §5). */
export function commitTek(core: EngineCore, header: Pick<TableHeader, 'excluder' | 'newVersion' | 'createdAt'>, tekPrime: Uint8Array): Uint8Array {
  return core.crypto.sha256(concat(LABEL('tek-commitment'), core.groupBytes, fromHex(header.excluder), utf8(`${header.newVersion}:${header.createdAt}`), tekPrime));
}

/** `idHex`: the table ID when the caller has it already (headerId), so it is not hashed twice. */
export function newTableState(core: EngineCore, header: TableHeader, headerBytes: Uint8Array, headerSignature: Uint8Array, now: number, idHex?: string): TableState {
  const id = idHex !== undefined ? fromHex(idHex) : core.crypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16);
  // The two deadlines are read through accessors: a change tells the table map (TableMap.earliest).
  const tables = core.tables;
  let completeAt: number | null = null;
  let fetchAt: number | null = null;
  return {
    id,
    idHex: idHex ?? toHex(id),
    header,
    headerBytes,
    headerSignature,
    entries: [],
    pairwise: [],
    bySlot: new Map(),
    pairwiseMine: null,
    failed: new Set(),
    authored: new Map(),
    relayed: 0,
    publishers: new Set(),
    tekPrime: null,
    signatureChecked: true,
    blocklistApplied: false,
    applied: false,
    undo: null,
    firstSeen: now,
    get completeAt() {
      return completeAt;
    },
    set completeAt(at: number | null) {
      if (at !== completeAt) tables.earliest = undefined;
      completeAt = at;
    },
    completed: false,
    published: false,
    fetched: false,
    get fetchAt() {
      return fetchAt;
    },
    set fetchAt(at: number | null) {
      if (at !== fetchAt) tables.earliest = undefined;
      fetchAt = at;
    },
    fetchTried: new Set(),
  };
}

/** The targets' KEKs at the version and revision this member knows (held, or from heartbeats). */
export function replacedKeks(core: EngineCore, targets: MemberKey[]): ReplacedKek[] {
  const slots = new Set<number>();
  for (const m of targets) for (const s of slotsOf(pidOf(core, m), core.s.params.V)) slots.add(s);
  const out: ReplacedKek[] = [];
  for (const slot of [...slots].sort((a, b) => a - b)) {
    const k = heldKey(core, slot) ?? core.s.slotDir[String(slot)];
    if (k) out.push({ slot, version: k.version, revision: k.revision });
  }
  return out;
}

/**
 * Slots whose KEK may not carry TEK': every slot of the targets AND of every member
 * blocked earlier (the header's full blocklist). The seed (003 [0073]) excludes only
 * the leaver's slots; but a replacement is derived from (old KEK, TEK'), so a member
 * excluded earlier (who knew the old KEK) and one excluded later (who knew TEK') could
 * pool them. A slot any blocked member ever held therefore never carries TEK' again
 * (docs/protocol.md §7.1). Cached per table.
 */
export function unusableSlots(core: EngineCore, h: TableHeader): ReadonlySet<number> {
  const { W, V } = core.s.params;
  // The set is a pure function of the header, (W, V) and the pinned IDs (pidOf): engines that
  // share them share it (a published header reaches every member as one object). Never mutated.
  const pinned = core.pinnedIds;
  const cached = unusableCache.get(h);
  if (cached && cached.W === W && cached.V === V && cached.pinned === pinned) return cached.slots;
  const out = new Set<number>();
  for (const t of h.targets) for (const s of slotsOf(pidOf(core, t), V)) out.add(s);
  for (const t of h.blocklist) for (const s of slotsOf(pidOf(core, t), V)) out.add(s);
  unusableCache.set(h, { W, V, pinned, slots: out });
  return out;
}
const unusableCache = new WeakMap<TableHeader, { W: number; V: number; pinned: EngineCore['pinnedIds']; slots: ReadonlySet<number> }>();

/** TEK' under each of this member's usable KEKs that no entry covers yet; `symbols` limits it to a plan step. */
export function makeEntries(core: EngineCore, t: TableState, symbols: readonly number[] | null): TableEntry[] {
  const unusable = unusableSlots(core, t.header);
  const V = core.s.params.V;
  const entries: TableEntry[] = [];
  const budget = { steps: MAX_TABLE_HASH_STEPS };
  for (const sym of symbols ?? core.selfId.map((_, i) => i)) {
    const value = core.selfId[sym];
    if (value === undefined) continue;
    const slot = kekSlot(sym, value, V);
    if (unusable.has(slot)) continue;
    const k = heldKey(core, slot);
    if (!k || genuineEntryAt(core, t, slot, budget)) continue;
    const e: TableEntry = { slot, kekVersion: k.version, kekRevision: k.revision, sealed: new Uint8Array(0) };
    e.sealed = core.crypto.seal(entryKey(core, t, e, k.key), ZERO_NONCE, t.tekPrime!, ENTRY_AAD);
    entries.push(e);
  }
  return entries;
}

/**
 * Whether an entry under `slot` opens, under this member's KEK, to the committed TEK': the
 * slot is covered, its completion suppressed (003 [0079]). Before review 7 any entry
 * covered it, so a member's junk under a slot it shares kept the genuine entry from being
 * made; one at coordinates this member cannot step to covers nothing here either.
 */
function genuineEntryAt(core: EngineCore, t: TableState, slot: number, budget: { steps: number }): boolean {
  for (const e of t.bySlot.get(slot) ?? []) {
    if (t.failed.has(e)) continue;
    const kek = kekAt(core, slot, e.kekVersion, e.kekRevision, budget);
    if (!kek) continue;
    const pt = core.crypto.open(entryKey(core, t, e, kek), ZERO_NONCE, e.sealed, ENTRY_AAD);
    if (pt && equalBytes(pt, t.tekPrime!)) return true;
    t.failed.add(e);
  }
  return false;
}

/** The wrap key of one entry is unique to (KEK, table, slot, version, revision): a zero nonce is safe. */
export function entryKey(core: EngineCore, t: TableState, e: Pick<TableEntry, 'slot' | 'kekVersion' | 'kekRevision'>, kek: Uint8Array): Uint8Array {
  return wrapKey(core.crypto, kek, concat(t.id, utf8(`${e.slot}:${e.kekVersion}:${e.kekRevision}`)));
}

export function pairwiseEntryKey(core: EngineCore, t: TableState, pairwise: Uint8Array, member: MemberKey): Uint8Array {
  return wrapKey(core.crypto, pairwise, concat(t.id, fromHex(member)));
}

/**
 * Candidates kept per entry coordinates (slot, KEK version, revision), not counting those
 * this member proved junk. The genuine entry at a coordinate is one byte string (every
 * holder seals the same TEK' under the same single-use key), so a junk entry sent first
 * takes one place, not the coordinate; a member adds one entry per slot (takeEntries), so
 * it takes at most one place at each: the genuine entry is kept unless this many members
 * whose IDs select the same slot collude (§8.5).
 */
export const ENTRY_CANDIDATES = 4;

/**
 * Most entries one table takes from fetch replies: twice the most an honest group adds to
 * a table (every member at most one entry per slot its ID selects, W, once; the excluder
 * too): 2·W·(members + 1). The factor 2 covers a responder that knows more members than we
 * do (joins in flight). Entries its members publish are bounded by their slots (W each).
 */
export function relayedEntryCap(core: EngineCore): number {
  let members = 0;
  for (const key in core.s.roster) if (core.s.roster[key]!.state === 'member') members++;
  return 2 * core.s.params.W * (members + 1);
}

export interface TakenEntries {
  entries: TableEntry[];
  pairwise: PairwiseEntry[];
}

/**
 * T1 for the entries of one Table message, before anything changes: throws on a violation,
 * else returns what is new here (§8.5). Published by a member itself (`relayed` false: on
 * the control topic, or by unicast): a current member or the table's excluder, entries only
 * under slots its ID selects (only it holds their KEKs), one per slot per table, pairwise
 * entries only from the excluder (only it made them). Carried in a fetch reply (`relayed`):
 * anyone's entries, at most relayedEntryCap in all. Everywhere: at most ENTRY_CANDIDATES
 * unproved candidates per coordinates (more are dropped), pairwise entries only for members.
 */
export function takeEntries(core: EngineCore, t: TableState, from: MemberKey, relayed: boolean, m: TakenEntries): TakenEntries {
  const p = core.s.params;
  const unusable = unusableSlots(core, t.header);
  const own = !relayed && (m.entries.length > 0 || m.pairwise.length > 0);
  if (own) {
    ensure(from === t.header.excluder || isMember(core, from), 'not-member', 'table entries from a non-member');
    ensure(m.pairwise.length === 0 || from === t.header.excluder, 'not-authorized', 'pairwise entries from a member that did not make the table');
  }
  // Early bounds, so the loop below runs over few entries: a member adds one per own slot (W); a reply at most the cap.
  const cap = relayed ? relayedEntryCap(core) : p.W;
  if (m.entries.length > cap) throw new RemoteProtocolError(relayed ? 'invalid' : 'not-authorized', `${m.entries.length} table entries in one ${relayed ? 'fetch reply' : 'publication'}, more than ${cap}`);
  const entries: TableEntry[] = [];
  // Made on first use (most messages bring a few entries, many none).
  let slots: Set<number> | null = null;
  // Entries taken from this message, by slot; those kept are t.bySlot's. O(message + those slots' entries), no strings built.
  let takingBySlot: Map<number, TableEntry[]> | null = null;
  const authored = own ? t.authored.get(from) : undefined;
  // §8.5 rule 2: a fetch reply carries only what its requester can use (entries under slots
  // its ID selects, its own pairwise entry); anything else is someone else's to fetch.
  const mine = relayed ? slotsOf(core.selfId, p.V) : null;
  for (const e of m.entries) {
    // The detail text is built only for a rejection (this runs for every entry of every publication).
    if (e.slot < 1 || e.slot > p.V * p.W) throw new RemoteProtocolError('invalid', `entry for slot ${e.slot} outside the KEK table`);
    if (mine && !mine.includes(e.slot)) throw new RemoteProtocolError('invalid', `fetch reply with an entry under ${slotName(e.slot, p.V)}, a KEK this member's ID does not select`);
    if (unusable.has(e.slot)) throw new RemoteProtocolError('invalid', `entry under ${slotName(e.slot, p.V)}, a KEK an excluded member knew`);
    if (own) {
      if (!selects(core, from, e.slot)) throw new RemoteProtocolError('not-authorized', `entry under ${slotName(e.slot, p.V)}, a KEK the sender's ID does not select`);
      slots ??= new Set();
      if (slots.has(e.slot)) throw new RemoteProtocolError('invalid', `two entries under ${slotName(e.slot, p.V)} from one member`);
      slots.add(e.slot);
    }
    const taking = takingBySlot?.get(e.slot);
    // Candidates at e's coordinates: kept ones not proved junk, and those taken from this message.
    const kept = candidatesAt(t.bySlot.get(e.slot), e, t.failed);
    if (kept < 0) continue; // the same bytes are kept already
    const taken = candidatesAt(taking, e, null);
    if (taken < 0) continue;
    if (authored?.has(e.slot)) throw new RemoteProtocolError('not-authorized', `a second entry under ${slotName(e.slot, p.V)} from one member`);
    if (kept + taken >= ENTRY_CANDIDATES) continue;
    if (taking) taking.push(e);
    else (takingBySlot ??= new Map()).set(e.slot, [e]);
    entries.push(e);
  }
  if (relayed && entries.length > 0) {
    if (t.relayed + entries.length > cap) throw new RemoteProtocolError('invalid', `fetch reply brings the table to ${t.relayed + entries.length} relayed entries, more than ${cap}`);
  }
  const pairwise: PairwiseEntry[] = [];
  if (m.pairwise.length === 0) return { entries, pairwise };
  const held = new Map(t.pairwise.map((y) => [y.member, y.sealed]));
  const taking = new Set<MemberKey>();
  if (relayed && m.pairwise.some((x) => x.member !== core.self)) throw new RemoteProtocolError('invalid', 'fetch reply with a pairwise entry for another member');
  for (const x of m.pairwise) {
    // Only the member named can read one, and only a member is answered a fetch: others' are kept by nobody.
    if (taking.has(x.member) || (x.member !== core.self && !isMember(core, x.member))) continue;
    const kept = held.get(x.member);
    // The excluder's own entry replaces one a fetch reply brought first (it made them; §8.5).
    if (kept && (relayed || equalBytes(kept, x.sealed))) continue;
    taking.add(x.member);
    pairwise.push(x);
  }
  return { entries, pairwise };
}

/**
 * Entries of `list` at e's coordinates (slot, KEK version, revision) not in `failed`, or -1 when
 * one of them holds e's very bytes (then e brings nothing new).
 */
function candidatesAt(list: readonly TableEntry[] | undefined, e: TableEntry, failed: ReadonlySet<TableEntry> | null): number {
  let n = 0;
  if (!list) return 0;
  for (const x of list) {
    if (x.slot !== e.slot || x.kekVersion !== e.kekVersion || x.kekRevision !== e.kekRevision) continue;
    if (equalBytes(x.sealed, e.sealed)) return -1;
    if (!failed?.has(x)) n++;
  }
  return n;
}

/** Indexes entries takeEntries returned (or this member made: `author` self); `author` null: from a fetch reply. */
export function addEntries(core: EngineCore, t: TableState, taken: TakenEntries, author: MemberKey | null): void {
  for (const e of taken.entries) {
    const list = t.bySlot.get(e.slot);
    if (list) list.push(e);
    else t.bySlot.set(e.slot, [e]);
    t.entries.push(e);
    if (author === null) t.relayed++;
    else {
      const own = t.authored.get(author);
      if (own) own.add(e.slot);
      else t.authored.set(author, new Set([e.slot]));
    }
  }
  if (taken.pairwise.length === 0) return;
  // One index per call, not a search per entry: a reseal carries up to RESEAL_PAIRWISE_MAX of them (§8.2).
  const at = new Map(t.pairwise.map((x, i) => [x.member, i]));
  for (const p of taken.pairwise) {
    const i = at.get(p.member);
    if (i !== undefined) t.pairwise[i] = p;
    else {
      at.set(p.member, t.pairwise.length);
      t.pairwise.push(p);
    }
    if (p.member === core.self) t.pairwiseMine = p;
  }
}

/** A table's signed header alone, by unicast (an exclusion notice to a target, a losing excluder's hand-off to the winner). */
export function unicastHeader(core: EngineCore, to: MemberKey, t: TableState): void {
  unicast(core, to, { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries: [], pairwise: [] });
}

export function publishTable(core: EngineCore, t: TableState, entries: TableEntry[], pairwise: PairwiseEntry[]): void {
  if (!relayable(core, t)) return;
  t.published = true;
  publishControl(core, { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries, pairwise });
}

/**
 * The table as a fetch reply carries it to `requester` (§7.4, §8.5 rule 2): the signed header
 * and only the entries it can use, those under slots its ID selects and its own pairwise
 * entry; entries this member proved junk are not passed on. The reply seals TEK' for the
 * requester anyway; the entries under its slots tell it which of them are covered (completion).
 */
export function tableMessageFor(core: EngineCore, t: TableState, requester: MemberKey): Uint8Array {
  const entries: TableEntry[] = [];
  for (const slot of slotsOf(pidOf(core, requester), core.s.params.V)) for (const e of t.bySlot.get(slot) ?? []) if (!t.failed.has(e)) entries.push(e);
  const pairwise = t.pairwise.filter((x) => x.member === requester);
  return encodeMessage(core.groupBytes, { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries, pairwise });
}

export function headerSignatureOk(core: EngineCore, h: TableHeader, headerBytes: Uint8Array, signature: Uint8Array): boolean {
  return core.crypto.ed25519Verify(fromHex(h.excluder), concat(LABEL('table'), core.groupBytes, headerBytes), signature);
}

/** Before a header is passed on to others, its signature must verify (once per table). */
export function relayable(core: EngineCore, t: TableState): boolean {
  if (!t.signatureChecked) {
    if (!headerSignatureOk(core, t.header, t.headerBytes, t.headerSignature)) {
      reject(core, t.header.excluder, 'bad-signature', 'table header signature does not verify: not relayed', -1);
      return false;
    }
    t.signatureChecked = true;
  }
  return true;
}

/** The header's replaced KEKs are the targets' slots, each once, in order. */
export function checkReplaced(core: EngineCore, h: TableHeader): void {
  const allowed = new Set<number>();
  for (const m of h.targets) for (const s of slotsOf(pidOf(core, m), core.s.params.V)) allowed.add(s);
  let last = 0;
  for (const r of h.replaced) {
    ensure(allowed.has(r.slot) && r.slot > last, 'invalid', 'a table may replace only its targets\' KEKs, each once, in order');
    // T1: deriving a replacement steps the old KEK to the named revision: at most MAX_REVISION_JUMP steps.
    const known = heldKey(core, r.slot) ?? core.s.slotDir[String(r.slot)];
    if (known && known.version === r.version && r.revision - known.revision > MAX_REVISION_JUMP) {
      throw new RemoteProtocolError('invalid', `replaced ${slotName(r.slot, core.s.params.V)} at revision ${r.revision}, more than ${MAX_REVISION_JUMP} steps past ${known.revision}`);
    }
    last = r.slot;
  }
}

/** Encoded header and table ID, memoized per decoded header (published tables reach every member as one object). */
export function headerId(core: EngineCore, h: TableHeader): { headerBytes: Uint8Array; id: string } {
  let v = headerIds.get(h);
  if (!v) {
    const headerBytes = encodeTableHeader(h);
    v = { headerBytes, id: toHex(core.crypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16)) };
    headerIds.set(h, v);
  }
  return v;
}

/** The symbols the excluder's plan asks this member to add, or null if it is not in the plan. */
export function plannedSymbols(core: EngineCore, t: TableState): number[] | null {
  const mine = core.selfPrefix;
  for (const step of t.header.plan) if (equalBytes(step.prefix, mine)) return step.symbols;
  return null;
}

export function readTekPrime(core: EngineCore, t: TableState): Uint8Array | null {
  const unusable = unusableSlots(core, t.header);
  // T1: reading one table costs at most MAX_TABLE_HASH_STEPS revision steps, however its entries spread their KEK revisions.
  const budget = { steps: MAX_TABLE_HASH_STEPS };
  for (const slot of slotsOf(core.selfId, core.s.params.V)) {
    if (unusable.has(slot)) continue;
    for (const e of t.bySlot.get(slot) ?? []) {
      if (t.failed.has(e)) continue;
      const kek = kekAt(core, slot, e.kekVersion, e.kekRevision, budget);
      if (!kek) continue;
      const pt = core.crypto.open(entryKey(core, t, e, kek), ZERO_NONCE, e.sealed, ENTRY_AAD);
      if (pt && equalBytes(commitTek(core, t.header, pt), t.header.tekCommitment)) return pt;
      t.failed.add(e);
      reject(core, core.self, 'decrypt-failed', `table entry under ${slotName(slot, core.s.params.V)} does not open to the committed TEK'`, -1);
    }
  }
  const p = t.pairwiseMine;
  if (p) {
    const pk = pairwise(core, t.header.excluder);
    const pt = pk ? core.crypto.open(pairwiseEntryKey(core, t, pk, core.self), ZERO_NONCE, p.sealed, ENTRY_AAD) : null;
    if (pt && equalBytes(commitTek(core, t.header, pt), t.header.tekCommitment)) return pt;
    t.pairwiseMine = null;
  }
  return null;
}

/** My KEK for `slot` at (version, revision), stepping forward if needed; a KEK replaced recently still counts. */
export function kekAt(core: EngineCore, slot: number, version: number, revision: number, budget: { steps: number }): Uint8Array | null {
  const candidates = [heldKey(core, slot), ...core.retiredKeks.filter((r) => r.key.slot === slot).map((r) => r.key)];
  for (const k of candidates) {
    if (!k || k.version !== version || k.revision > revision || revision - k.revision > Math.min(MAX_REVISION_JUMP, budget.steps)) continue;
    budget.steps -= revision - k.revision;
    return advanceRevision(core.crypto, k.key, k.revision, revision);
  }
  return null;
}
