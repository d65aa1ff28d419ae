/**
 * @module bench/schemes/conclave
 * Conclave's own rows, measured on the real engine (app/core) driven by the
 * deterministic simulator (app/sim) and its in-memory network, real crypto
 * (the @noble provider). One scenario per group size N:
 *
 *   t=0 a settled group of N members is built directly (the simulator's `bootstrap`:
 *   every member admitted, every key at version 1, revision 0, each KEK owned by
 *   the lowest-keyed member holding it; app/sim/bootstrap.ts), so that groups of
 *   thousands can be measured without simulating thousands of joins first;
 *   3 s to settle, then a quiet 5 s (heartbeats only: steady-state heartbeat
 *   bytes); then ONE operation and a window of WINDOW_MS: refresh (the TEK
 *   holder's periodic new TEK version, 003 [0057]), leave (`a` excludes one
 *   member), join (one newcomer through `a`), or k = 4 / 16 simultaneous
 *   exclusions, each by a different member. Each operation gets its own run
 *   (a fresh group), in its own process with a time limit (bench/conclave-worker.ts).
 *
 * Accounting: every GroupEngine call is wrapped (prototype methods) to charge its
 * CPU time (`process.cpuUsage`) to the calling engine and to the window its `now`
 * falls in, and every transmit is recorded with its message type (byte 2 of the
 * wire header). An operation's bytes and messages are the non-heartbeat transmits
 * of its window (a publish counts once). CPU of an engine for the operation: all
 * its engine calls in the window except the processing of heartbeats, and its
 * timer work beyond what it spent per second in the quiet stretch (heartbeat
 * emission goes on regardless); initiator CPU is the initiating engine's, receiver
 * CPU the median of the other engines'. A leave's excluder and receivers are measured instead by
 * the definition the sampled method shares (issue 17 item 1, timeReplay), in a fresh process
 * (bench/conclave-worker.ts leave-replay): copies restored from snapshots taken just before the
 * exclusion (the excluder's draw the simulation's randomness) run the exclusion warm
 * (warmExclusion), then take the control messages each received and run their timers beside a
 * copy that saw no exclusion (afterExclusion); medians of repeated runs. The receiver is the
 * median of every completer and REPLAY_RECEIVERS other members.
 * Convergence is the simulator's: virtual ms from the operation until every live
 * member holds the same TEK and blocklist.
 */
import { GroupEngine, admitEveryone, type EngineDeps } from '../../app/core/engine.js';
import type { CryptoProvider, Rng } from '../../app/core/crypto-provider.js';
import type { GroupParams, MemberKey } from '../../app/core/types.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { SeededRandom } from '../../app/sim/random.js';
import { SIM_GROUP, identitySeed } from '../../app/sim/peers.js';
import { ControlOpener } from '../../app/sim/sealed-control.js';
import { fromHex, toHex } from '../../app/core/bytes.js';
import { MsgType } from '../../app/core/wire.js';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation, type SimReport } from '../../app/sim/simulation.js';
import type { ConvergenceRow, RekeyOp, RekeyRow, RoleCost, SecurityMessages } from '../types.js';
import { cpuMsSince, median } from '../measure.js';

export const WINDOW_MS = 10_000;
export const LATENCY_MS: [number, number] = [5, 40];
const QUIET_MS = 5_000;
const WARMUP_N = 512;
/** Chat messages sent in the quiet stretch, so that the receipt of a data packet is measured too. */
const QUIET_SENDS = 4;

/** Ed25519 operations through the provider, counted per engine call by the wrappers below. */
export const ed25519Counts = { verify: 0, sign: 0 };

/** The given provider with its Ed25519 verify and sign counted (same results, same bytes). */
export function countingCrypto(base: CryptoProvider): CryptoProvider {
  return {
    ...base,
    name: `${base.name}+counted`,
    ed25519Verify(publicKey, message, signature) {
      ed25519Counts.verify++;
      return base.ed25519Verify(publicKey, message, signature);
    },
    ed25519Sign(seed, message) {
      ed25519Counts.sign++;
      return base.ed25519Sign(seed, message);
    },
  };
}
/** The engines' provider in every Conclave bench run, simulated or sampled: node:crypto as in production, Ed25519 counted. */
export const benchCrypto = countingCrypto(nodeCrypto);

export interface Sent {
  at: number;
  from: string;
  kind: 'publish' | 'unicast';
  to: string | null;
  type: number;
  bytes: number;
}

/** Per-engine CPU and transmits, collected while the wrappers are installed. */
type CpuKind = 'heartbeat' | 'tick' | 'other';
/** One engine call: when (virtual ms), its CPU, what it was (a message type name or the method), its Ed25519 work, the bytes it received. */
interface Call {
  at: number;
  ms: number;
  kind: CpuKind;
  what: string;
  /** A receive (`what` is then the message type's name). */
  received: boolean;
  verifies: number;
  signs: number;
  bytesIn: number;
}

export class Recorder {
  cpu = new Map<string, Call[]>();
  /** While set, engine calls are not recorded (the timed copies of the initiator, outside the simulation). */
  paused = false;
  sent: Sent[] = [];
  /** The member whose transmits are kept with their bytes (the excluder: its table, for its replay). */
  watch: MemberKey | null = null;
  watchedSent: { at: number; bytes: Uint8Array }[] = [];
  /** While set, every member's control receipts (heartbeats left out) are kept with their bytes (the leave's replay). */
  keepReceipts = false;
  receipts = new Map<MemberKey, Receipt[]>();
  /** When each engine last changed its TEK (virtual ms): convergence to the millisecond. */
  tekChangedAt = new Map<string, number>();
  private lastNow = new Map<GroupEngine, number>();

  charge(engine: GroupEngine, call: Call): void {
    if (this.paused) return;
    this.lastNow.set(engine, call.at);
    const list = this.cpu.get(engine.self) ?? [];
    list.push(call);
    this.cpu.set(engine.self, list);
  }

  transmit(engine: GroupEngine, t: { kind: 'publish' | 'unicast'; bytes: Uint8Array; to?: string }): void {
    if (engine.self === this.watch) this.watchedSent.push({ at: this.lastNow.get(engine) ?? 0, bytes: t.bytes });
    this.sent.push({
      at: this.lastNow.get(engine) ?? 0,
      from: engine.self,
      kind: t.kind,
      to: t.kind === 'unicast' ? (t.to ?? null) : null,
      type: this.typeOf(engine, t.bytes),
      bytes: t.bytes.length,
    });
  }

  /** Control messages travel sealed (docs/protocol.md §14): their inner type, opened with the TEKs the engines held. */
  private readonly opener = new ControlOpener(nodeCrypto, fromHex(SIM_GROUP));
  typeOf(engine: GroupEngine, bytes: Uint8Array): number {
    if (bytes[2] !== MsgType.SealedControl) return bytes[2] ?? 0;
    for (const k of engine.exportKeyMaterial()) this.opener.add(k);
    return this.opener.typeOf(bytes) ?? MsgType.SealedControl;
  }

  cpuIn(member: string, from: number, to: number, kinds: CpuKind[] = ['heartbeat', 'tick', 'other']): number {
    return (this.cpu.get(member) ?? []).filter((c) => c.at >= from && c.at < to && kinds.includes(c.kind)).reduce((s, c) => s + c.ms, 0);
  }

  /**
   * CPU an operation cost `member` in [at, at + WINDOW_MS): everything but the
   * processing of heartbeats, minus the timer work (heartbeat emission) the
   * member spends anyway, as measured in the quiet stretch and scaled to the window.
   */
  opCpu(member: string, at: number, quietFrom: number): number {
    const other = this.cpuIn(member, at, at + WINDOW_MS, ['other']);
    const ticks = this.cpuIn(member, at, at + WINDOW_MS, ['tick']);
    const baseline = (this.cpuIn(member, quietFrom, quietFrom + QUIET_MS, ['tick']) * WINDOW_MS) / QUIET_MS;
    return other + Math.max(0, ticks - baseline);
  }

  /**
   * The same over every member at once: the timer work is compared with the group's
   * baseline, not member by member. A member's ticks in the window vary around its
   * baseline (a garbage-collection pause lands on one tick or another); clipping each
   * member's difference at zero (opCpu) keeps every upward swing and drops every
   * downward one, which summed over 256 members added 10–37 ms (N = 64: 6–31 ms) that
   * no operation caused (three runs each, docs/performance.md). One receiver's figure
   * keeps opCpu (a median is little affected by it).
   */
  groupOpCpu(at: number, quietFrom: number): number {
    let other = 0;
    let ticks = 0;
    let baseline = 0;
    for (const member of this.cpu.keys()) {
      other += this.cpuIn(member, at, at + WINDOW_MS, ['other']);
      ticks += this.cpuIn(member, at, at + WINDOW_MS, ['tick']);
      baseline += (this.cpuIn(member, quietFrom, quietFrom + QUIET_MS, ['tick']) * WINDOW_MS) / QUIET_MS;
    }
    return other + Math.max(0, ticks - baseline);
  }

  /** Ed25519 work and bytes received by `member` for the operation in [at, at + WINDOW_MS) (heartbeats left out). */
  opCounts(member: string, at: number): { verifies: number; signs: number; bytesIn: number } {
    const calls = (this.cpu.get(member) ?? []).filter((c) => c.at >= at && c.at < at + WINDOW_MS && c.kind !== 'heartbeat');
    return {
      verifies: calls.reduce((s, c) => s + c.verifies, 0),
      signs: calls.reduce((s, c) => s + c.signs, 0),
      bytesIn: calls.reduce((s, c) => s + c.bytesIn, 0),
    };
  }

  sentIn(from: number, to: number): Sent[] {
    return this.sent.filter((s) => s.at >= from && s.at < to);
  }
}

type AnyFn = (...args: never[]) => unknown;

/** Installs the CPU/transmit wrappers on GroupEngine; returns the uninstaller. */
export function instrument(rec: Recorder): () => void {
  const proto = GroupEngine.prototype as unknown as Record<string, AnyFn>;
  const saved: [string, AnyFn][] = [];
  const nowArg: Record<string, number> = { receive: 3, tick: 0, exclude: 1, leave: 0, send: 1, addContacts: 1 };
  for (const [name, index] of Object.entries(nowArg)) {
    const original = proto[name] as AnyFn;
    saved.push([name, original]);
    proto[name] = function (this: GroupEngine, ...args: never[]) {
      const verifies = ed25519Counts.verify;
      const signs = ed25519Counts.sign;
      const start = process.cpuUsage();
      try {
        return original.apply(this, args);
      } finally {
        const d = process.cpuUsage(start);
        const bytes = name === 'receive' ? (args[2] as unknown as Uint8Array) : null;
        const type = bytes ? rec.typeOf(this, bytes) : 0;
        const kind: CpuKind = name === 'tick' ? 'tick' : type === MsgType.Heartbeat ? 'heartbeat' : 'other';
        if (bytes && kind === 'other' && rec.keepReceipts && !rec.paused && args[1] === ('control' as never)) {
          const list = rec.receipts.get(this.self) ?? [];
          list.push({ from: args[0] as unknown as MemberKey, bytes, at: args[3] as unknown as number });
          rec.receipts.set(this.self, list);
        }
        rec.charge(this, {
          at: args[index] as unknown as number,
          ms: (d.user + d.system) / 1000,
          kind,
          what: bytes ? (TYPE_NAMES.get(type) ?? 'unknown') : name,
          received: bytes !== null,
          verifies: ed25519Counts.verify - verifies,
          signs: ed25519Counts.sign - signs,
          bytesIn: bytes && kind !== 'heartbeat' ? bytes.length : 0,
        });
      }
    };
  }
  // A newcomer's engine is made by GroupEngine.join (it sends the JoinRequest): charged to the new engine.
  const statics = GroupEngine as unknown as Record<string, AnyFn>;
  const join = statics.join as AnyFn;
  statics.join = function (...args: never[]) {
    const verifies = ed25519Counts.verify;
    const signs = ed25519Counts.sign;
    const start = process.cpuUsage();
    const e = join.apply(GroupEngine, args) as GroupEngine;
    const d = process.cpuUsage(start);
    const at = (args[2] as unknown as { now: number }).now;
    rec.charge(e, { at, ms: (d.user + d.system) / 1000, kind: 'other', what: 'join', received: false, verifies: ed25519Counts.verify - verifies, signs: ed25519Counts.sign - signs, bytesIn: 0 });
    return e;
  };
  const pollEvent = proto.pollEvent as AnyFn;
  saved.push(['pollEvent', pollEvent]);
  proto.pollEvent = function (this: GroupEngine) {
    const ev = pollEvent.apply(this, []) as { type: string; slot?: { kind: string }; at?: number } | undefined;
    if (ev?.type === 'key-changed' && ev.slot?.kind === 'tek' && ev.at !== undefined) rec.tekChangedAt.set(this.self, ev.at);
    return ev;
  };
  const poll = proto.pollTransmit as AnyFn;
  saved.push(['pollTransmit', poll]);
  proto.pollTransmit = function (this: GroupEngine) {
    const t = poll.apply(this, []) as { kind: 'publish' | 'unicast'; bytes: Uint8Array; to?: string } | undefined;
    if (t) rec.transmit(this, t);
    return t;
  };
  return () => {
    for (const [name, fn] of saved) proto[name] = fn;
    statics.join = join;
  };
}

export type ConclaveOp = 'join' | 'leave' | 'refresh' | 'k4' | 'k16';
export const CONCLAVE_OPS: ConclaveOp[] = ['join', 'leave', 'refresh', 'k4', 'k16'];

export interface ConclaveOpResult {
  n: number;
  op: ConclaveOp;
  row: RekeyRow | null;
  convergence: ConvergenceRow | null;
  heartbeat: { n: number; sentPerMemberPerMin: number; receivedPerMemberPerMin: number };
  wallSeconds: number;
  /** The operation window's transmits by message type name: count and bytes (heartbeats included). */
  byType: Record<string, { count: number; bytes: number }>;
  report: { ok: boolean; converged: boolean; errors: string[]; violations: string[] };
  /** The security checks' cost in this run (docs/performance.md, "Security checks"). */
  security: {
    /** Every receive of the run by every member, by message type: count, CPU summed, Ed25519 verifies summed. */
    receives: SecurityMessages;
    initiator: RoleCost | null;
    /** The median other member (CPU, verifies and signs each the median). */
    receiver: RoleCost;
    newcomer: RoleCost | null;
  };
  /** What the results must say about this run's method (e.g. a replay that could not be the same exclusion). */
  notes: string[];
}

const TYPE_NAMES = new Map<number, string>(Object.entries(MsgType).map(([k, v]) => [v, k]));

export function byType(sent: Sent[]): Record<string, { count: number; bytes: number }> {
  const out: Record<string, { count: number; bytes: number }> = {};
  for (const s of sent) {
    const k = `${TYPE_NAMES.get(s.type) ?? `type${s.type}`} ${s.kind}`;
    const b = (out[k] ??= { count: 0, bytes: 0 });
    b.count++;
    b.bytes += s.bytes;
  }
  return out;
}

interface Plan {
  opAt: number;
  quietFrom: number;
  until: number;
}

/** Untimed exclude() calls before the timed ones: the optimizing compiler has finished with the exclusion code after 40–50 calls (N = 256 and 1,024 alike; docs/performance.md, "One method"). */
export const EXCLUDER_WARMUP = 60;
/** Timed exclude() calls after the warm-up; their median is the figure. */
export const EXCLUDER_TIMED = 15;

/**
 * The excluder's exclude() call, warm, median of repeated runs: THE definition both methods use
 * (issue 17 item 1; this file's simulated runs and bench/schemes/conclave-large.ts's sampled ones).
 * Each run is on a fresh copy of the excluder (`copy(i)`, made and indexed outside the timed
 * region, as a running engine keeps its roster index up to date); EXCLUDER_WARMUP untimed
 * runs, then EXCLUDER_TIMED timed ones. Returns the median CPU and Ed25519 work of one call
 * (the copy's provider must be `benchCrypto` for the Ed25519 counts).
 */
export function warmExclusion(copy: (i: number) => GroupEngine, target: MemberKey, now: number): RoleCost {
  const runs: RoleCost[] = [];
  for (let i = 0; i < EXCLUDER_WARMUP + EXCLUDER_TIMED; i++) {
    const e = copy(i);
    e.buildRosterIndex();
    const verifies = ed25519Counts.verify;
    const signs = ed25519Counts.sign;
    const start = process.cpuUsage();
    e.exclude([target], now);
    const d = process.cpuUsage(start);
    if (i >= EXCLUDER_WARMUP) runs.push({ ms: (d.user + d.system) / 1000, verifies: ed25519Counts.verify - verifies, signs: ed25519Counts.sign - signs });
  }
  return { ms: median(runs.map((r) => r.ms)), verifies: median(runs.map((r) => r.verifies)), signs: median(runs.map((r) => r.signs)) };
}

/** One control message a member received: who sent it, its bytes, when (virtual ms). */
export interface Receipt {
  from: MemberKey;
  bytes: Uint8Array;
  at: number;
}

/** Timer work is compared over the stretch before a copy that hears no heartbeats would start failover (003 [0059]). */
export function timerSpanOf(p: GroupParams): number {
  return p.failoverIntervals * p.heartbeatMs;
}

/** Drives `e` from `from` to `until` as a running peer is driven: each receipt at its time, its timers at its own deadlines. CPU of each kind. */
function drive(e: GroupEngine, receipts: Receipt[], from: number, until: number): { receiveMs: number; tickMs: number } {
  let receiveMs = 0;
  let tickMs = 0;
  let last = from;
  let r = 0;
  for (;;) {
    const due = e.nextDeadline();
    const next = receipts[r];
    if (next && (due === undefined || next.at <= due || due > until)) {
      const start = process.cpuUsage();
      e.receive(next.from, 'control', next.bytes, next.at);
      receiveMs += cpuMsSince(start);
      r++;
      continue;
    }
    if (due === undefined || due > until) break;
    last = Math.max(last + 1, due);
    const start = process.cpuUsage();
    e.tick(last);
    tickMs += cpuMsSince(start);
  }
  return { receiveMs, tickMs };
}

/**
 * What an exclusion costs a member after the exclusion itself (THE definition both methods
 * use): `withOp` (a copy that took part in the exclusion) receives the operation's messages
 * and runs its timers up to `from + spanMs`; `without` (a copy of the same member that saw
 * no exclusion) runs its timers over the same stretch. Returns the receipts' CPU and the timer
 * work the exclusion added (heartbeat emission and housekeeping go on in both and cancel),
 * scaled to the simulated runs' window (WINDOW_MS).
 */
export function afterExclusion(withOp: GroupEngine, without: GroupEngine, receipts: Receipt[], from: number, spanMs: number): { receiveMs: number; timerMs: number } {
  const a = drive(withOp, receipts, from, from + spanMs);
  const b = drive(without, [], from, from + spanMs);
  return { receiveMs: a.receiveMs, timerMs: (Math.max(0, a.tickMs - b.tickMs) * WINDOW_MS) / spanMs };
}

/** Untimed runs of the excluder's receipts and timers before the timed ones (its exclude() calls are warmed by warmExclusion). */
export const AFTER_WARMUP = 5;

/** The excluder's cost by the one definition: its exclude() call (warmExclusion), then its receipts and timer work (afterExclusion), each the median of repeated runs. */
export interface ExcluderCost {
  exclusion: RoleCost;
  receiveMs: number;
  timerMs: number;
}

/** The randomness the excluder draws from its exclusion on, in the simulation and in every copy: each copy makes the simulation's table, so the completions the excluder received fit it. */
const exclusionRng = (seed: number) => new SeededRandom(`exclusion:${seed}`).asRng();

/** Receivers timed by the one definition in the leave's replay: every completer and this many plain members (as the sampled method). */
export const REPLAY_RECEIVERS = 24;

/** A receipt as it travels to the replay process (bytes in hex). */
interface WireReceipt {
  from: MemberKey;
  bytes: string;
  at: number;
}

/** One member's copy in the replay: its snapshot just before the exclusion and the control messages it received from the exclusion on. */
interface ReplayMember {
  name: string;
  snapshot: string;
  receipts: WireReceipt[];
  /** It published a completion in the simulation (the sampled method counts a completer's receipts only). */
  completer: boolean;
}

/**
 * Everything the leave's replay needs, taken from the simulation (issue 17 item 1): the
 * excluder's and a sample of receivers' snapshots just before the exclusion, what each
 * received after it, the table the simulated excluder published (the byte-for-byte check)
 * and the seed its randomness is drawn from (exclusionRng). Plain JSON: the replay runs in a
 * fresh process (bench/conclave-worker.ts `leave-replay`), not beside the simulation's N
 * engines and its recorded calls, so that exclude() is timed in the same kind of process,
 * with a heap of the same size, as the sampled method's.
 */
export interface ReplayInput {
  seed: number;
  at: number;
  target: MemberKey;
  excluder: ReplayMember;
  table: string | null;
  receivers: ReplayMember[];
}

/** The replay's figures: the excluder by the one definition (null when its copies' table is not the simulation's), each sampled receiver's CPU, and notes for the results. */
export interface ReplayResult {
  excluder: ExcluderCost | null;
  receivers: number[];
  notes: string[];
}

/** The replay input of a leave: the snapshots were taken just before the exclusion; the receipts are the recorder's. */
function replayInput(rec: Recorder, sim: Simulation, seed: number, at: number, target: MemberKey, snapshots: Map<string, Uint8Array>): ReplayInput {
  const wire = (key: MemberKey) => (rec.receipts.get(key) ?? []).filter((r) => r.at >= at).map((r) => ({ from: r.from, bytes: toHex(r.bytes), at: r.at }));
  const completers = new Set(rec.sentIn(at, at + WINDOW_MS).filter((s) => s.type === MsgType.Table && s.from !== sim.keyOf('a')).map((s) => s.from));
  const member = (name: string): ReplayMember => {
    const key = sim.keyOf(name);
    return { name, snapshot: toHex(snapshots.get(name) ?? new Uint8Array()), receipts: wire(key), completer: completers.has(key) };
  };
  const others = [...snapshots.keys()].filter((name) => name !== 'a' && sim.keyOf(name) !== target);
  const stride = Math.max(1, Math.floor(others.length / REPLAY_RECEIVERS));
  const chosen = others.filter((name, i) => completers.has(sim.keyOf(name)) || (i % stride === 0 && i / stride < REPLAY_RECEIVERS));
  return { seed, at, target, excluder: member('a'), table: toHex(rec.watchedSent.find((t) => t.at === at)?.bytes ?? new Uint8Array()) || null, receivers: chosen.map(member) };
}

/**
 * The leave's replay (run by bench/conclave-worker.ts in a fresh process): the excluder by the
 * one definition on copies restored from its snapshot, which draw the simulation's randomness
 * (warmExclusion, then afterExclusion with the completions it received), and each sampled
 * receiver driven as the sampled method drives its own (afterExclusion beside a copy that saw
 * no exclusion; a completer's receipts only), one untimed pass before the timed one.
 * The excluder is null, with a note, when a copy's table is not the simulation's (the replay
 * would not be the same exclusion).
 */
export function timeReplay(input: ReplayInput): ReplayResult {
  const { seed, at, target } = input;
  const notes: string[] = [];
  const restore = (m: ReplayMember, rng: Rng) => GroupEngine.restore({ crypto: benchCrypto, rng, admission: admitEveryone }, { seed: identitySeed(seed, m.name), name: m.name }, fromHex(m.snapshot), at);
  const receiptsOf = (m: ReplayMember): Receipt[] => m.receipts.map((r) => ({ from: r.from, bytes: fromHex(r.bytes), at: r.at }));
  const x = input.excluder;
  const exclusion = warmExclusion((i) => restore(x, new SeededRandom(`warm-up:${i}`).asRng()), target, at);
  const after: { receiveMs: number; timerMs: number }[] = [];
  for (let k = 0; k < AFTER_WARMUP + EXCLUDER_TIMED; k++) {
    const copy = restore(x, exclusionRng(seed));
    copy.buildRosterIndex();
    copy.exclude([target], at);
    const first = copy.pollTransmit();
    if (!input.table || !first || toHex(first.bytes) !== input.table) {
      notes.push(`the excluder's copies did not make the simulation's table byte for byte (${input.table ? 'a different table' : 'no table recorded'}), so its replay was not the same exclusion: its figure is the simulation's own (its exclude() call and everything else it did in the window, one sample)`);
      after.length = 0;
      break;
    }
    for (let t = copy.pollTransmit(); t; t = copy.pollTransmit());
    const d = afterExclusion(copy, restore(x, new SeededRandom(`control:${k}`).asRng()), receiptsOf(x), at, timerSpanOf(copy.params));
    if (k >= AFTER_WARMUP) after.push(d);
  }
  const excluder = after.length > 0 ? { exclusion, receiveMs: median(after.map((d) => d.receiveMs)), timerMs: median(after.map((d) => d.timerMs)) } : null;
  let receivers: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    receivers = input.receivers.map((m, i) => {
      const copy = restore(m, new SeededRandom(`receiver:${i}`).asRng());
      const d = afterExclusion(copy, restore(m, new SeededRandom(`control:${i}`).asRng()), receiptsOf(m), at, timerSpanOf(copy.params));
      return m.completer ? d.receiveMs : d.receiveMs + d.timerMs;
    });
  }
  return { excluder, receivers, notes };
}

/** The members that start the operation (see planFor). */
function initiatorsOf(n: number, op: ConclaveOp): string[] {
  if (op === 'k4' || op === 'k16') return Array.from({ length: op === 'k4' ? 4 : 16 }, (_, i) => `m${1 + i}`);
  return ['a'];
}

/** One scenario per operation, so that each is measured on a freshly built, settled group. */
export function planFor(n: number, op: ConclaveOp): { scenario: unknown; plan: Plan } {
  const quietFrom = 3_000;
  const opAt = quietFrom + QUIET_MS;
  const p: Plan = { opAt, quietFrom, until: opAt + WINDOW_MS };
  const m = (i: number) => `m${i}`;
  const events: unknown[] = [
    { at: 0, do: 'create', peer: 'a' },
    { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 },
    // A few chat messages in the quiet stretch: what receiving a data packet costs.
    ...Array.from({ length: QUIET_SENDS }, (_, i) => ({ at: quietFrom + 1_000 + 500 * i, do: 'send', peer: i % 2 ? 'm1' : 'a', text: `quiet ${i}` })),
  ];
  // k simultaneous exclusions: excluders from the front of the roster, targets from the back.
  const simultaneous = (k: number) => {
    for (let i = 0; i < k; i++) events.push({ at: opAt, do: 'exclude', peers: [m(n - 2 - i)], by: m(1 + i) });
  };
  if (op === 'leave') events.push({ at: opAt, do: 'exclude', peers: [m(n - 2)], by: 'a' });
  if (op === 'join') events.push({ at: opAt, do: 'join', peer: 'newcomer', via: 'a' });
  if (op === 'k4') simultaneous(4);
  if (op === 'k16') simultaneous(16);
  return {
    plan: p,
    scenario: {
      // The first version refresh fires refreshVersionMs after the TEK's creation at t=0.
      params: op === 'refresh' ? { refreshVersionMs: opAt } : {},
      network: { latencyMs: LATENCY_MS, loss: 0 },
      events,
      until: p.until,
    },
  };
}

/**
 * Bytes/messages/CPU of the operation started at `at` by `initiator` (null: the first engine
 * to publish a Table). `excluder`: the leave's excluder by the one definition (timeReplay),
 * whose exclude() call replaces the one made in the simulation; `replayedReceivers`: the leave's
 * sampled receivers by the same (their median is the receiver figure).
 */
function opRow(rec: Recorder, n: number, op: RekeyOp, at: number, quietFrom: number, initiator: string | null, joiner: string | null, keysPerMember: number, excluder: ExcluderCost | null, replayedReceivers: number[] = []): RekeyRow {
  const exclusion = excluder?.exclusion ?? null;
  const sent = rec.sentIn(at, at + WINDOW_MS).filter((s) => s.type !== MsgType.Heartbeat);
  const who = initiator ?? sent.find((s) => s.type === MsgType.Table)?.from ?? sent[0]?.from ?? '';
  const toExisting = sent.filter((s) => s.from !== joiner && (s.kind === 'publish' || s.to !== joiner));
  // One receiving member: the median over every other member (a max over thousands of
  // members would report whichever one a garbage-collection pause happened to land on).
  const others: number[] = [];
  // The initiator's exclude() call in the simulation is replaced by the one timed warm (timeReplay).
  const groupCpuMs = rec.groupOpCpu(at, quietFrom) + (exclusion ? exclusion.ms - simulatedExclude(rec, who, at) : 0);
  let groupBytesIn = 0;
  for (const member of rec.cpu.keys()) {
    const ms = rec.opCpu(member, at, quietFrom);
    groupBytesIn += rec.opCounts(member, at).bytesIn;
    if (member === who || member === joiner) continue;
    others.push(ms);
  }
  // A leave's receiver: the median of the receivers replayed by the one definition (timeReplay), else of every other member here.
  const receiverMs = replayedReceivers.length > 0 ? median(replayedReceivers) : others.length > 0 ? median(others) : 0;
  // The excluder by the one definition (timeReplay); any other initiator from the simulation itself.
  const initiatorMs = excluder ? excluder.exclusion.ms + excluder.receiveMs + excluder.timerMs : rec.opCpu(who, at, quietFrom);
  return {
    scheme: 'conclave',
    op,
    n,
    bytes: sent.reduce((s, x) => s + x.bytes, 0),
    bytesToExisting: toExisting.reduce((s, x) => s + x.bytes, 0),
    messages: sent.length,
    initiatorMs,
    receiverMs,
    keysPerMember,
    groupCpuMs,
    groupBytesIn,
    method: 'simulated',
  };
}

/** CPU of the exclude() call the member made in the simulation at `at`. */
function simulatedExclude(rec: Recorder, member: string, at: number): number {
  return (rec.cpu.get(member) ?? []).filter((c) => c.at === at && c.what === 'exclude').reduce((s, c) => s + c.ms, 0);
}

/** Every receive from `from` on, by message type, over every member. */
function receivesByType(rec: Recorder, from: number, to: number): SecurityMessages {
  const out: SecurityMessages = {};
  for (const calls of rec.cpu.values()) {
    for (const c of calls) {
      if (c.at < from || c.at >= to || !c.received) continue;
      const b = (out[c.what] ??= { count: 0, cpuMs: 0, verifies: 0 });
      b.count++;
      b.cpuMs += c.ms;
      b.verifies += c.verifies;
    }
  }
  return out;
}

function roleCost(rec: Recorder, member: string, at: number, quietFrom: number): RoleCost {
  const c = rec.opCounts(member, at);
  return { ms: rec.opCpu(member, at, quietFrom), verifies: c.verifies, signs: c.signs };
}

/**
 * One operation at size N (see the header). `replay` times a leave's excluder and sampled
 * receivers from what the simulation recorded (timeReplay, in this process by default;
 * bench/conclave-worker.ts passes one that runs it in a fresh process).
 */
export function measureConclaveOp(n: number, op: ConclaveOp, seed = 1, replay: (input: ReplayInput) => ReplayResult = timeReplay): ConclaveOpResult {
  // One untimed warm-up run of the same operation on a small group (512 members from
  // N = 1,024, else up to 64), so that the
  // measured run is not charged for compiling the code (the MLS and LKH rows get a
  // warm-up run too, bench/measure.ts).
  new Simulation(parseScenario(planFor(n >= 1024 ? WARMUP_N : Math.min(n, 64), op).scenario), { seed: seed + 1, crypto: benchCrypto }).run();
  const { scenario, plan: p } = planFor(n, op);
  const rec = new Recorder();
  const uninstall = instrument(rec);
  const started = performance.now();
  let sim: Simulation;
  let report: SimReport;
  // A leave's members just before the exclusion (the replay's copies are restored from them).
  let snapshots: Map<string, Uint8Array> | null = null;
  // The excluder draws its randomness from exclusionRng from the exclusion on (timeReplay).
  let excluderRng: Rng | null = null;
  const decorateDeps = (name: string, deps: EngineDeps): EngineDeps => (op === 'leave' && name === 'a' ? { ...deps, rng: (k) => (excluderRng ?? deps.rng)(k) } : deps);
  try {
    sim = new Simulation(parseScenario(scenario), { seed, crypto: benchCrypto, decorateDeps });
    // The initiators' roster index is kept up to date by a running engine as members join;
    // the bootstrapped engines build it before the operation, outside the measured window.
    sim.runUntil(p.opAt - 1);
    for (const name of initiatorsOf(n, op)) sim.engineOf(name)?.buildRosterIndex();
    if (op === 'leave') {
      snapshots = new Map<string, Uint8Array>();
      for (const name of sim.peers.keys()) {
        const e = sim.engineOf(name);
        if (e) snapshots.set(name, e.snapshot());
      }
      rec.watch = sim.keyOf('a');
      rec.keepReceipts = true;
      excluderRng = exclusionRng(seed);
    }
    report = sim.runUntil(p.until);
  } finally {
    uninstall();
  }
  // The simulation's wall time (bench/run.ts predicts the next size from it); the excluder's replay is outside it.
  const wallSeconds = (performance.now() - started) / 1000;
  const replayed = snapshots ? replay(replayInput(rec, sim, seed, p.opAt, sim.keyOf(`m${n - 2}`), snapshots)) : null;
  snapshots = null;
  const excluder = replayed?.excluder ?? null;
  const keysPerMember = median(report.members.filter((m) => m.state === 'member').map((m) => m.keysHeld));
  const a = sim.keyOf('a');
  let row: RekeyRow | null = null;
  const newcomer = op === 'join' ? sim.keyOf('newcomer') : null;
  if (op === 'join') row = opRow(rec, n, 'join', p.opAt, p.quietFrom, a, newcomer, keysPerMember, null);
  if (op === 'leave') row = opRow(rec, n, 'leave', p.opAt, p.quietFrom, a, null, keysPerMember, excluder, replayed?.receivers);
  if (op === 'refresh') row = opRow(rec, n, 'refresh', p.opAt, p.quietFrom, null, null, keysPerMember, null);
  // Security checks: the initiator's and the median receiver's Ed25519 work, every receive by type.
  const initiator = op === 'join' || op === 'leave' ? a : null;
  const others = [...rec.cpu.keys()].filter((k) => k !== initiator && k !== newcomer).map((k) => roleCost(rec, k, p.opAt, p.quietFrom));
  let initiatorCost = initiator ? roleCost(rec, initiator, p.opAt, p.quietFrom) : null;
  if (initiatorCost && excluder) initiatorCost = { ms: row?.initiatorMs ?? initiatorCost.ms, verifies: initiatorCost.verifies, signs: initiatorCost.signs };
  const security = {
    receives: receivesByType(rec, p.quietFrom, p.until),
    initiator: initiatorCost,
    receiver: { ms: row && replayed && replayed.receivers.length > 0 ? row.receiverMs : median(others.map((o) => o.ms)), verifies: median(others.map((o) => o.verifies)), signs: median(others.map((o) => o.signs)) },
    newcomer: newcomer ? roleCost(rec, newcomer, p.opAt, p.quietFrom) : null,
  };
  let convergence: ConvergenceRow | null = null;
  if (op === 'leave' || op === 'k4' || op === 'k16') {
    // Converged (the simulator's check: same TEK and blocklist everywhere); the time is
    // the last TEK change of any live member, to the millisecond.
    const started = report.stats.operations.filter((o) => o.op.startsWith('exclude') && o.at === p.opAt);
    const live = report.members.filter((m) => m.state === 'member').map((m) => m.key);
    const lastChange = Math.max(p.opAt, ...live.map((k) => rec.tekChangedAt.get(k) ?? p.opAt));
    const ms = started.length === 0 || started.some((o) => o.convergeMs === null) ? null : lastChange - p.opAt;
    convergence = { n, k: op === 'leave' ? 1 : op === 'k4' ? 4 : 16, ms };
  }
  const quiet = rec.sentIn(p.quietFrom, p.quietFrom + QUIET_MS).filter((s) => s.type === MsgType.Heartbeat);
  const hbBytes = quiet.reduce((s, x) => s + x.bytes, 0);
  const minutes = QUIET_MS / 60_000;
  const v = report.violations;
  return {
    n,
    op,
    row,
    convergence,
    heartbeat: { n, sentPerMemberPerMin: hbBytes / n / minutes, receivedPerMemberPerMin: hbBytes / minutes },
    wallSeconds,
    byType: byType(rec.sentIn(p.opAt, p.opAt + WINDOW_MS)),
    report: {
      ok: report.ok,
      converged: report.converged,
      errors: report.errors.slice(0, 5),
      violations: [...v.backward, ...v.forward, ...v.missed].slice(0, 5),
    },
    security,
    notes: replayed?.notes ?? [],
  };
}
