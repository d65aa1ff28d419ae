/**
 * @module sim/oracle
 * The secrecy oracle (docs/simulator.md "Oracle"). It is independent of the
 * engine's decryption path: it decodes the recorded traffic with the wire codec,
 * and tries keys with the key derivations directly, as an attacker would.
 *
 * Control messages travel sealed (docs/protocol.md §14); the oracle opens them with
 * every TEK any peer ever held (`ControlOpener`), so each adversary reads every table
 * as if control traffic were in clear: the key tree's secrecy is checked without
 * credit for the sealing.
 *
 * Adversaries: every peer that was excluded or left (with every key it ever held),
 * the coalition of all of them pooled, and an outside eavesdropper (no keys). Each
 * reads every control and data message sent after it was removed, and learns what
 * it can to a fixed point: TEK' under a KEK it knows, a replacement KEK under an
 * old KEK and a TEK' it knows, revision steps forward of anything it knows.
 *
 * `secrecyViolations` turns what they learn into the report's violations:
 * forward (a removed peer reads what was sent after its exclusion took effect),
 * backward (a peer reads what was sent before its admission), missed (a settled
 * member did not read what it should have).
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import { MsgType, dataAad, decodeMessage, encodeTableHeader as encodeHeader, type Message, type TableEntry, type TableHeader } from '../core/wire.js';
import { advanceRevision, creatorsTag, dataKey, replaceKey, wrapKey } from '../core/keys.js';
import { concat, equalBytes, toHex, utf8 } from '../core/bytes.js';
import type { MemberKey } from '../core/types.js';
import type { SimPeer } from './peers.js';
import { ControlOpener, steppedTo } from './sealed-control.js';

export interface KnownKey {
  slot: number;
  version: number;
  creators: MemberKey[];
  revision: number;
  key: Uint8Array;
}

export interface RecordedControl {
  at: number;
  from: string;
  bytes: Uint8Array;
}

export interface RecordedData {
  index: number;
  at: number;
  from: string;
  bytes: Uint8Array;
  /** Members the sender had on its blocklist when it sent this (causal exclusion effect). */
  senderBlocked: Set<MemberKey>;
}

/** What one adversary can do with what it knows. */
export class Adversary {
  private keys = new Map<string, KnownKey>(); // slot:version:tag → lowest revision known
  private tableCache = new Map<string, { header: TableHeader; id: Uint8Array; entries: TableEntry[] }>();
  readonly learnedTeks: { version: number; creators: MemberKey[] }[] = [];

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly group: Uint8Array,
    initial: KnownKey[],
  ) {
    for (const k of initial) this.add(k, false);
  }

  private id(slot: number, version: number, creators: readonly string[]): string {
    return `${slot}:${version}:${[...creators].sort().join(',')}`;
  }

  /**
   * Per (slot, version, creators) one entry per line of keys, at its lowest revision: a key
   * one revision step joins to a known one adds nothing (or lowers it); any other is a line
   * of its own (review 15: keeping only the first key of those coordinates hid the group's v1
   * from a creator that had held another v1 before a bootstrap).
   */
  private add(k: KnownKey, learned: boolean): boolean {
    const base = this.id(k.slot, k.version, k.creators);
    let fresh = true;
    for (let n = 0; ; n++) {
      const id = n === 0 ? base : `${base}#${n}`;
      const cur = this.keys.get(id);
      if (cur) fresh = false;
      if (cur && !steppedTo(this.crypto, cur, k) && !steppedTo(this.crypto, k, cur)) continue;
      if (cur && cur.revision <= k.revision) return false;
      this.keys.set(id, { ...k, creators: [...k.creators].sort() });
      if (learned && k.slot === 0 && fresh) this.learnedTeks.push({ version: k.version, creators: [...k.creators].sort() });
      return true;
    }
  }

  private keyAt(slot: number, version: number, creators: readonly string[] | null, revision: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const k of this.keys.values()) {
      if (k.slot !== slot || k.version !== version || k.revision > revision) continue;
      if (creators && this.id(slot, version, creators) !== this.id(k.slot, k.version, k.creators)) continue;
      if (revision - k.revision > 10_000) continue;
      out.push(advanceRevision(this.crypto, k.key, k.revision, revision));
    }
    return out;
  }

  /** Feeds the control messages sent after removal (opened by `opener`); learns to a fixed point. */
  absorbControl(messages: RecordedControl[], opener: ControlOpener): void {
    for (const m of messages) {
      const msg = opener.open(m.bytes);
      if (msg?.type !== MsgType.Table) continue;
      const headerBytesId = tableId(this.crypto, msg.header);
      const key = toHex(headerBytesId);
      let t = this.tableCache.get(key);
      if (!t) {
        t = { header: msg.header, id: headerBytesId, entries: [] };
        this.tableCache.set(key, t);
      }
      t.entries.push(...msg.entries);
    }
    let progress = true;
    while (progress) {
      progress = false;
      for (const t of this.tableCache.values()) if (this.tryTable(t)) progress = true;
    }
  }

  private tryTable(t: { header: TableHeader; id: Uint8Array; entries: TableEntry[] }): boolean {
    let learned = false;
    const newCreators = t.header.panel ? [...t.header.panel.members].sort() : [t.header.excluder];
    let tekPrime = this.keyAt(0, t.header.newVersion, newCreators, 0)[0] ?? null;
    for (const e of t.entries) {
      if (tekPrime) break;
      for (const kek of this.keyAt(e.slot, e.kekVersion, null, e.kekRevision)) {
        const wrap = wrapKey(this.crypto, kek, concat(t.id, utf8(`${e.slot}:${e.kekVersion}:${e.kekRevision}`)));
        const pt = this.crypto.open(wrap, new Uint8Array(24), e.sealed, utf8('conclave/v1/table-entry'));
        if (pt) {
          tekPrime = pt;
          if (this.add({ slot: 0, version: t.header.newVersion, creators: newCreators, revision: 0, key: pt }, true)) learned = true;
          break;
        }
      }
    }
    if (!tekPrime) return learned;
    // Replacement KEKs are derived from the old KEK and TEK' (docs/protocol.md §7.1).
    for (const r of t.header.replaced) {
      for (const old of this.keyAt(r.slot, r.version, null, r.revision)) {
        const key = replaceKey(this.crypto, old, tekPrime, t.id);
        if (this.add({ slot: r.slot, version: r.version + 1, creators: [t.header.excluder], revision: 0, key }, true)) learned = true;
      }
    }
    return learned;
  }

  /** Tries to read one data packet with every TEK known. */
  canRead(d: RecordedData): boolean {
    let msg: Message;
    try {
      msg = decodeMessage(this.group, 'data', d.bytes);
    } catch {
      return false;
    }
    if (msg.type !== MsgType.Data) return false;
    for (const k of this.keys.values()) {
      if (k.slot !== 0 || k.version !== msg.tekVersion || k.revision > msg.revision) continue;
      if (!equalBytes(creatorsTag(this.crypto, k.creators), msg.tekTag)) continue;
      const key = advanceRevision(this.crypto, k.key, k.revision, msg.revision);
      if (this.crypto.open(dataKey(this.crypto, key), msg.nonce, msg.ciphertext, dataAad(this.group, msg))) return true;
    }
    return false;
  }
}

function tableId(crypto: CryptoProvider, header: TableHeader): Uint8Array {
  // Same derivation as the engine's table ID, recomputed here from the public header.
  return crypto.sha256(concat(utf8('conclave/v1/table-id'), encodeHeader(header))).slice(0, 16);
}

export interface Violations {
  backward: string[];
  forward: string[];
  missed: string[];
}

/** What the secrecy checks read of a finished run. */
export interface SecrecyInput {
  crypto: CryptoProvider;
  groupBytes: Uint8Array;
  peers: readonly SimPeer[];
  control: readonly RecordedControl[];
  data: readonly (RecordedData & { text: string; readBy: Set<string>; msgId: string })[];
  reachable(a: string, b: string): boolean;
  settleMs: number;
  /** No disturbance within the settle window around `t`, and `t` not within it of the end. */
  settled(t: number): boolean;
}

/** The forward, backward and missed checks of docs/simulator.md "The secrecy oracle". */
export function secrecyViolations(run: SecrecyInput): Violations {
  const v: Violations = { backward: [], forward: [], missed: [] };
  const removed = run.peers.filter((p) => p.removedAt !== null);
  const opener = allSeeing(run.crypto, run.groupBytes, run.peers);
  const created = tekCreations(run.control, opener);
  const check = (label: string, members: SimPeer[], keys: KnownKey[]) => {
    const since = Math.min(...members.map((m) => m.removedAt!));
    const adv = new Adversary(run.crypto, run.groupBytes, keys);
    adv.absorbControl(run.control.filter((c) => c.at >= since), opener);
    const memberKeys = members.map((m) => m.key);
    for (const d of run.data) {
      if (d.at < since) continue;
      const after = memberKeys.every((k) => d.senderBlocked.has(k));
      if (after && adv.canRead(d)) v.forward.push(`${label} read "${d.text}" sent by ${d.from} at ${Math.round(d.at)} after its exclusion`);
    }
    for (const tk of adv.learnedTeks) {
      const bl = created.get(`${tk.version}:${tk.creators.join(',')}`);
      if (bl && memberKeys.every((k) => bl.has(k))) v.forward.push(`${label} learned TEK v${tk.version} created after its exclusion`);
    }
  };
  for (const p of removed) check(p.name, [p], [...p.everKeys.values()]);
  if (removed.length > 1) check(`coalition(${removed.map((p) => p.name).join('+')})`, removed, removed.flatMap((p) => [...p.everKeys.values()]));
  // The outside eavesdropper: no keys, all traffic.
  const eve = new Adversary(run.crypto, run.groupBytes, []);
  eve.absorbControl([...run.control], opener);
  for (const d of run.data) if (eve.canRead(d)) v.forward.push(`eavesdropper read "${d.text}"`);

  // Backward secrecy: nobody reads what was sent before its admission.
  for (const p of run.peers) {
    if (p.admittedAt === null) continue;
    const adv = new Adversary(run.crypto, run.groupBytes, [...p.everKeys.values()]);
    for (const d of run.data) if (d.at < p.admittedAt && d.from !== p.name && adv.canRead(d)) v.backward.push(`${p.name} (admitted at ${Math.round(p.admittedAt)}) can read "${d.text}" sent at ${Math.round(d.at)}`);
  }

  // Missed: a settled member that should have read a message did not.
  for (const d of run.data) {
    if (!d.msgId || !run.settled(d.at)) continue;
    for (const p of run.peers) {
      if (p.name === d.from || p.crashed || p.state !== 'member' || p.joinedAt === null || p.joinedAt > d.at - run.settleMs) continue;
      if (p.engine?.state() !== 'member') continue;
      if (!run.reachable(d.from, p.name)) continue;
      if (!d.readBy.has(p.name)) v.missed.push(`${p.name} did not read "${d.text}" from ${d.from} at ${Math.round(d.at)}`);
    }
  }
  return v;
}

/** Opens control traffic with every TEK any peer ever held: the oracle's view, not an attacker's. */
export function allSeeing(crypto: CryptoProvider, group: Uint8Array, peers: Iterable<SimPeer>): ControlOpener {
  const opener = new ControlOpener(crypto, group);
  for (const p of peers) for (const k of p.everKeys.values()) opener.add(k);
  return opener;
}

/** TEK (version, creators) → the blocklist its table was created against (from the opened headers). */
function tekCreations(control: readonly RecordedControl[], opener: ControlOpener): Map<string, Set<MemberKey>> {
  const out = new Map<string, Set<MemberKey>>();
  for (const c of control) {
    try {
      const m = opener.open(c.bytes);
      if (m?.type !== MsgType.Table) continue;
      const creators = m.header.panel ? [...m.header.panel.members].sort() : [m.header.excluder];
      const id = `${m.header.newVersion}:${creators.join(',')}`;
      if (!out.has(id)) out.set(id, new Set(m.header.blocklist));
    } catch {
      /* not a table */
    }
  }
  return out;
}
