/**
 * @module sim/report
 * What a run records and reports (docs/simulator.md "Report"): traffic counters,
 * the operations (scenario events that change membership or the network) with the
 * control traffic each caused and the time until the group agreed again, the
 * messages and who read them, convergence, the oracle's violations, errors.
 *
 * - Traffic: every control publication is logged (time, sender, bytes) for the
 *   oracle; every data publication with the sender's blocklist at that moment and
 *   the scenario text it carries (a sent message the engine held until its TEK
 *   covered its blocklist is matched to the publication that releases it).
 * - Convergence (`agreement`): every live member holds the same TEK version (same
 *   creators), the same blocklist, and the same revision, unless a revision step
 *   was made within the last maximum latency (still in flight). Checked at most
 *   every 100 ms of virtual time, and at the end.
 *
 * Invariants: recording never changes what the engines see or when; the report is
 * a function of the run (plus `wallMs`, the only machine-dependent figure).
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { EngineEvent, GroupParams, MemberKey } from '../core/types.js';
import { idToString, slotRef } from '../core/params.js';
import type { RecordedControl, RecordedData } from './oracle.js';
import { secrecyViolations, type Violations } from './oracle.js';
import type { SimNetwork } from './network.js';
import type { SimPeer } from './peers.js';
import type { Scenario, ATTACK_KINDS, ATTACK_ROLES } from './scenario.js';

type AttackKind = (typeof ATTACK_KINDS)[number];
type AttackRole = (typeof ATTACK_ROLES)[number];

export interface Operation {
  op: string;
  at: number;
  controlMessages: number;
  controlBytes: number;
  convergedAt: number | null;
  convergeMs: number | null;
}

/** One attack's outcome (app/sim/attacks.ts; docs/simulator.md "Attack report"). */
export interface AttackReport {
  label: string;
  kind: AttackKind;
  role: AttackRole;
  attacker: string;
  at: number;
  /** Members a crafted message reached, and those that rejected it. */
  reached: number;
  rejected: number;
  /** Members whose state the attack changed (what changed), and exceptions out of `receive`. */
  changed: string[];
  threw: string[];
  /** Every member reached rejected it; none changed or threw. */
  refused: boolean;
  /** No attack check of the oracle names this attack. */
  unharmed: boolean;
  harm: string[];
}

export interface AttackViolations {
  attackerRead: string[];
  unauthorizedExclusion: string[];
  unreadable: string[];
}

export interface SimReport {
  ok: boolean;
  converged: boolean;
  seed: number;
  until: number;
  members: {
    name: string;
    id: string;
    key: string;
    state: 'member' | 'excluded' | 'left' | 'crashed' | 'joining';
    tek: { version: number; revision: number; fingerprint: string; origin: unknown } | null;
    keysHeld: number;
    ownerOf: string[];
    rejected: { reason: string; count: number; examples: string[] }[];
  }[];
  messages: { from: string; at: number; text: string; readBy: string[] }[];
  /** The secrecy checks; with attacks in the scenario, also the attack checks. */
  violations: Violations & Partial<AttackViolations>;
  /** Present only when the scenario has attack events. */
  attacks?: AttackReport[];
  stats: {
    controlMessages: number;
    controlBytes: number;
    dataMessages: number;
    unicastMessages: number;
    unicastBytes: number;
    deliveries: number;
    operations: Operation[];
    panelRounds: number;
    panelRecoveries: number;
    wallMs?: number;
  };
  errors: string[];
}

/** A data publication, with the scenario message it carries (msgId empty if none). */
export interface SentData extends RecordedData {
  text: string;
  readBy: Set<string>;
  msgId: string;
}

/** What the recorder reads of the run it records. */
export interface RecordedRun {
  readonly scenario: Scenario;
  readonly params: GroupParams;
  readonly crypto: CryptoProvider;
  readonly seed: number;
  readonly groupBytes: Uint8Array;
  readonly peers: ReadonlyMap<string, SimPeer>;
  readonly network: SimNetwork;
  nameOf(key: MemberKey): string | undefined;
}

export class Recorder {
  readonly control: RecordedControl[] = [];
  readonly data: SentData[] = [];
  readonly operations: Operation[] = [];
  /** Times of events that disturb the group (membership, crash, network): the `missed` check skips around them. */
  readonly disturbances: number[] = [];
  readonly errors: string[] = [];
  readonly stats = { controlMessages: 0, controlBytes: 0, dataMessages: 0, unicastMessages: 0, unicastBytes: 0, deliveries: 0, panelRounds: 0, panelRecoveries: 0 };
  private lastRevisionStepAt = -Infinity;
  private lastConvergenceCheck = -Infinity;
  private readonly panelRoundsSeen = new Set<string>();
  private readonly panelRecoveriesSeen = new Set<string>();
  private pendingSend: { msgId: string; text: string } | null = null;
  private readonly heldSends = new Map<string, { msgId: string; text: string }[]>();

  constructor(private readonly run: RecordedRun) {}

  // ------------------------------------------------------------ traffic

  startOperation(op: string, now: number): void {
    this.operations.push({ op, at: now, controlMessages: 0, controlBytes: 0, convergedAt: null, convergeMs: null });
  }

  /** The last operation is a `joinMany` still adding joins. */
  inJoinMany(): boolean {
    return this.operations.length > 0 && this.operations[this.operations.length - 1]!.op.startsWith('joinMany');
  }

  disturb(now: number): void {
    this.disturbances.push(now);
  }

  /** A control publication by an engine: counted, and logged for the oracle. */
  controlPublished(now: number, from: string, bytes: Uint8Array): void {
    this.stats.controlMessages++;
    this.stats.controlBytes += bytes.length;
    const op = this.operations[this.operations.length - 1];
    if (op) {
      op.controlMessages++;
      op.controlBytes += bytes.length;
    }
    this.logControl(now, from, bytes);
  }

  /** Control bytes no honest engine published (an attacker's): logged for the oracle, not counted. */
  logControl(now: number, from: string, bytes: Uint8Array): void {
    this.control.push({ at: now, from, bytes });
  }

  unicastSent(bytes: Uint8Array): void {
    this.stats.unicastMessages++;
    this.stats.unicastBytes += bytes.length;
  }

  /** The ID the next scenario message from `from` carries in its payload. */
  nextMsgId(from: string): string {
    // A count of sends, not of packets published: messages sent while the engine holds its data
    // publish nothing, and all got one id, so only the first counted as read (review 22).
    return `${from}#${this.sendCount++}`;
  }
  private sendCount = 0;

  /** A scenario message is being sent: data published until `endSend` carries it. */
  beginSend(msgId: string, text: string): void {
    this.pendingSend = { msgId, text };
  }

  /** If the engine held the message (its TEK did not yet cover its blocklist), it goes out later. */
  endSend(from: string): void {
    const s = this.pendingSend;
    this.pendingSend = null;
    if (!s || this.data.some((d) => d.msgId === s.msgId)) return;
    const list = this.heldSends.get(from) ?? [];
    list.push(s);
    this.heldSends.set(from, list);
  }

  dataPublished(now: number, from: string, bytes: Uint8Array, blocklist: readonly MemberKey[]): void {
    this.stats.dataMessages++;
    const send = this.pendingSend ?? this.heldSends.get(from)?.shift();
    this.data.push({ index: this.data.length, at: now, from, bytes, senderBlocked: new Set(blocklist), text: send?.text ?? '', readBy: new Set(), msgId: send?.msgId ?? '' });
  }

  /** A member decrypted a data payload. */
  read(by: string, payload: Uint8Array): void {
    try {
      const { id } = JSON.parse(new TextDecoder().decode(payload)) as { id: string };
      this.data.find((d) => d.msgId === id)?.readBy.add(by);
    } catch {
      this.errors.push(`${by} decrypted a payload that is not a simulator message`);
    }
  }

  revisionStepped(now: number): void {
    this.lastRevisionStepAt = now;
  }

  /** Every member logs the same panel round or recovery: each counts once. */
  panelLog(entry: Extract<EngineEvent, { type: 'log' }>['entry']): void {
    if (entry.kind === 'panel-round') {
      const round = /TEK v(\d+) from panel round (\d+)/.exec(entry.text);
      if (round) this.panelRoundsSeen.add(`${round[1]}:${round[2]}`);
      this.stats.panelRounds = this.panelRoundsSeen.size;
    }
    if (entry.kind === 'panel-recovery') {
      this.panelRecoveriesSeen.add(entry.text);
      this.stats.panelRecoveries = this.panelRecoveriesSeen.size;
    }
  }

  // ------------------------------------------------------------ convergence

  private liveMembers(): SimPeer[] {
    return [...this.run.peers.values()].filter((p) => p.engine && !p.crashed && p.engine.state() === 'member');
  }

  /** Agreement of every live member (see the header). */
  agreement(now: number): boolean {
    const live = this.liveMembers();
    if (live.length === 0) return true;
    const inFlight = now - this.lastRevisionStepAt <= this.run.network.maxLatency;
    let ref: string | null = null;
    for (const p of live) {
      const sig = p.engine!.convergenceSignature(!inFlight);
      if (ref === null) ref = sig;
      else if (sig !== ref) return false;
    }
    return true;
  }

  checkConvergence(now: number, force: boolean): void {
    if (!force && now - this.lastConvergenceCheck < 100) return;
    this.lastConvergenceCheck = now;
    const open = this.operations.filter((o) => o.convergedAt === null);
    if (open.length === 0) return;
    if (this.agreement(now)) {
      for (const o of open) {
        o.convergedAt = now;
        o.convergeMs = now - o.at;
      }
    }
  }

  // ------------------------------------------------------------ report

  /** The settle window of the `missed` check (docs/simulator.md). */
  settleMs(): number {
    const { scenario, params } = this.run;
    if (scenario.settleMs !== undefined) return scenario.settleMs;
    return 2 * params.fetchAfterMs + (params.failoverIntervals + 3) * params.heartbeatMs + 8 * this.run.network.maxLatency;
  }

  report(now: number): SimReport {
    const run = this.run;
    const violations = secrecyViolations({
      crypto: run.crypto,
      groupBytes: run.groupBytes,
      peers: [...run.peers.values()],
      control: this.control,
      data: this.data,
      reachable: (a, b) => run.network.reachable(a, b),
      settleMs: this.settleMs(),
      settled: (t) => this.settledAt(t),
    });
    // A message its author's engine still holds a settle window after it was sent never went out:
    // lost, though no member can be said to have missed it (review 20: held for good, unseen).
    for (const p of run.peers.values()) {
      if (!p.engine || p.crashed || p.engine.state() !== 'member') continue;
      for (const at of p.engine.heldSince()) if (now - at > this.settleMs()) violations.missed.push(`${p.name} still holds a message it sent at ${Math.round(at)}: never published`);
    }
    const converged = this.agreement(now);
    const members = [...run.peers.values()].filter((p) => p.engine || p.state !== 'none').map((p) => this.memberReport(p));
    const ok = converged && violations.backward.length === 0 && violations.forward.length === 0 && violations.missed.length === 0 && this.errors.length === 0;
    return {
      ok,
      converged,
      seed: run.seed,
      until: run.scenario.until,
      members,
      messages: this.data.filter((d) => d.msgId).map((d) => ({ from: d.from, at: Math.round(d.at), text: d.text, readBy: [...d.readBy].sort() })),
      violations,
      stats: { ...this.stats, operations: this.operations },
      errors: this.errors,
    };
  }

  /** A message sent at `t` counts for `missed` only when the group was settled around it. */
  settledAt(t: number): boolean {
    const settle = this.settleMs();
    return this.disturbances.every((x) => t - x >= settle || x - t >= settle) && t + settle <= this.run.scenario.until;
  }

  private memberReport(p: SimPeer): SimReport['members'][number] {
    const name = (k: MemberKey) => this.run.nameOf(k) ?? k;
    const e = p.engine;
    const state = p.crashed ? 'crashed' : p.state === 'excluded' || p.state === 'left' ? p.state : e?.state() === 'member' ? 'member' : e?.state() === 'excluded' ? 'excluded' : 'joining';
    const t = e?.tekInfo() ?? null;
    // The held keys as the key table lists them (TEK, then KEKs by slot), without building the whole table.
    const held = e && e.state() === 'member' ? e.heldOwners() : null;
    const V = this.run.params.V;
    const ownerOf = held ? held.filter((k) => k.owner === p.key).map((k) => slotRef(k.slot, V)).map((s) => (s.kind === 'tek' ? 'TEK' : `KEK(${s.symbol},${s.value})`)) : [];
    const byReason = new Map<string, { count: number; examples: string[] }>();
    for (const r of p.rejected) {
      const b = byReason.get(r.reason) ?? { count: 0, examples: [] };
      b.count++;
      if (b.examples.length < 3) b.examples.push(`t=${Math.round(r.at)} from ${r.from}: ${r.detail}`);
      byReason.set(r.reason, b);
    }
    const origin = t ? (t.origin.kind === 'single' ? { kind: 'single', creator: name(t.origin.creator) } : t.origin.kind === 'panel' ? { kind: 'panel', round: t.origin.round, members: t.origin.members.map(name) } : { kind: 'merge', creators: t.origin.creators.map(name) }) : null;
    return {
      name: p.name,
      id: e ? idToString(e.selfId) : '',
      key: p.key,
      state: state as SimReport['members'][number]['state'],
      tek: t ? { version: t.version, revision: t.revision, fingerprint: t.fingerprint, origin } : null,
      keysHeld: held ? held.length : 0,
      ownerOf,
      rejected: [...byReason.entries()].map(([reason, b]) => ({ reason, ...b })),
    };
  }
}
