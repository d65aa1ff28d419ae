/**
 * @module fractional/panel-hook
 * `FractionalPanel`: the engine's `PanelHook` (app/core/types.ts) on top of
 * `PanelSession`. It feeds the flat key table's new TEK versions (003 [0057],
 * [0072]: a periodic version refresh, an exclusion's TEK′) from fractional-key
 * rounds (004 §III) when at least 4 members are present (004 §V), and keeps the
 * panel alive through recovery (004 §IV). Issue 4 §7; docs/fractional.md
 * "Integration with the flat table" states every rule below with its seed.
 *
 * Invariants:
 * - the panel is the `panelSize` longest-standing current members (by
 *   `admittedAt`, ties by key order) that this member does not suspect, never
 *   fewer than 4; only the first of that list (the group initiator of 004 §II)
 *   forms a panel, and its `form` frame carries the list, so every member runs
 *   the same ordered list even when their suspicions differ;
 * - a `form` is taken only from one of the `panelSize` longest-standing members, dated at
 *   most 2 minutes ahead, and, while a panel runs here, only from that panel's initiator
 *   (review 31: any member re-formed the panel at will);
 * - only the first remaining member (the recovery initiator of 004 §IV step
 *   710) decides a replacement; the others follow its `recover` order;
 * - a key is handed out at most once here, and never if one of `excluded`, or a
 *   member no longer in the group, was on the panel of its round;
 * - the recovery's θ derives the last completed round's key, which may be a TEK at revision 0:
 *   only a member that was current here when that round completed may replace a panel member;
 *   with none the panel is formed anew (review 31);
 * - while a panel is ready it runs one round ahead: a completed, unconsumed key
 *   waits for the next TEK version;
 * - at most one `PanelSession` at a time; a frame for another panel waits in a
 *   bounded buffer; bad frames become `rejected` events, never throws;
 * - no clock, no randomness of its own: `now` and the RNG are injected.
 *
 * Frames and their codec: panel-frames.ts.
 */
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';
import type { MemberKey, PanelHook, PanelHookEvent, PanelView } from '../core/types.js';
import { toHex } from './bytes.js';
import type { PanelEvent } from './session.js';
import { LocalProtocolError } from './errors.js';
import { MIN_PANEL_SIZE, PanelSession } from './session.js';
import { MAX_PANEL_SIZE } from './wire.js';
import { decodeFrame, encodeFrame, PANEL_ID_BYTES, TAG_DATA, TAG_FORM, TAG_RECOVER, TAG_RECRUIT, type Frame } from './panel-frames.js';

/** Why a panel whose last key is in use is formed anew rather than recovered (review 31). */
const NO_HANDOVER = 'joined after the panel\'s last round, whose key may be a TEK: the recovery would give it that TEK at revision 0';
/** How far ahead of this member's clock a `form` or `recruit` may be dated (the signed messages' bound, review 31: a form dated far ahead outranked every later one). */
const FORM_MAX_AHEAD_MS = 120_000;

/** Frames for a panel this member does not run (yet) kept at most, oldest dropped first. */
const MAX_WAITING_FRAMES = 128;

export interface FractionalPanelDeps {
  crypto: CryptoProvider;
  rng: Rng;
}

export interface FractionalPanelOptions {
  /** How long one panel process (init, round, recovery) may run before it fails. Default 30 000 ms. */
  processTimeoutMs?: number;
  /**
   * How long the initiator waits after a membership change before it forms a panel
   * (joins in a burst make one panel; a member just admitted has time to learn it). Default 1 000 ms.
   */
  formDelayMs?: number;
}

type Proposal = Extract<Frame, { tag: typeof TAG_FORM | typeof TAG_RECRUIT }> & { from: MemberKey };
/** `keptUntil`: set once kept for the view; a kept order is dropped then (review 33). */
type RecoverOrder = Extract<Frame, { tag: typeof TAG_RECOVER }> & { from: MemberKey; keptUntil?: number };

interface ReadyKey {
  round: number;
  key: Uint8Array;
  members: MemberKey[];
}

interface Running {
  id: string;
  formedAt: number;
  session: PanelSession;
  /** Rounds of this panel already used by a table (here or anywhere), as `round|sorted members`. */
  used: Set<string>;
  ready: ReadyKey | null;
  /** The last round completed here, as `round|sorted members`: the panel's θ is the one its key derives from. */
  lastRound: string | null;
  /** The current members here when that round completed (review 31: only they may replace a panel member). */
  standingAtLastRound: Set<MemberKey> | null;
  /** The member this panel is replacing right now, if a recovery runs. */
  replacing: MemberKey | null;
}

/** The longest-standing members first (by admission time, ties by key order). */
function byStanding(a: { key: MemberKey; admittedAt: number }, b: { key: MemberKey; admittedAt: number }): number {
  return a.admittedAt - b.admittedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

const short = (k: MemberKey) => k.slice(0, 8);
const names = (ks: readonly MemberKey[]) => ks.map(short).join(', ');
const roundId = (round: number, members: readonly MemberKey[]) => `${round}|${[...members].sort().join(',')}`;

/**
 * One member's fractional-key panel, driven by the engine.
 *
 * Polling order (as `PanelSession`'s): after `update`, `receive`, `tick`,
 * `takeKey` or `consumed`, drain `pollTransmit()`, then `pollEvent()`, then arm
 * one timer at `nextDeadline()`.
 *
 * Who decides what: the panel's first member forms it (`form`); the first
 * remaining member (the recovery initiator of 004 §IV step 710) decides a
 * replacement and tells the others (`recover`) and the replacement (`recruit`).
 * Every other member only checks and follows, so members that suspect
 * different peers still run one recovery.
 */
const ORDER_REFUSED = 'recovery order from a member that is not the recovery initiator, or for members that do not fit the panel';

export class FractionalPanel implements PanelHook {
  readonly self: MemberKey;
  private readonly timeoutMs: number;
  private readonly formDelayMs: number;
  /** The initiator forms a panel then (reason for the log, null for a first panel or a larger one). */
  private formAt: { at: number; reason: string | null } | null = null;
  private view: PanelView | null = null;
  /** Current members (in the view and not blocked), longest-standing first. */
  private standing: MemberKey[] = [];
  private running: Running | null = null;
  /** Members whose panel process timed out or who cheated here → until when they are left out of this member's choices. */
  private readonly suspected = new Map<MemberKey, number>();
  private readonly proposals = new Map<MemberKey, Proposal>();
  private order: RecoverOrder | null = null;
  /** A member whose panel failed waits until then for the initiator's new `form`. */
  private formWaitUntil: number | null = null;
  /** A remaining member waits until then for the recovery initiator's `recover` order. */
  private orderWaitUntil: number | null = null;
  private waiting: { from: MemberKey; panelId: string; bytes: Uint8Array }[] = [];
  private inactiveReported = false;
  private readonly transmits: { to: MemberKey; bytes: Uint8Array }[] = [];
  private readonly events: PanelHookEvent[] = [];

  constructor(
    private readonly deps: FractionalPanelDeps,
    private readonly seed: Uint8Array,
    options: FractionalPanelOptions = {},
  ) {
    this.self = toHex(deps.crypto.ed25519PublicKey(seed));
    this.timeoutMs = options.processTimeoutMs ?? 30_000;
    this.formDelayMs = options.formDelayMs ?? 1_000;
  }

  // ---------------------------------------------------------------- state for tests and the debug panel

  /** The panel this member runs (its current order), or null. */
  get panel(): readonly MemberKey[] | null {
    return this.running ? this.running.session.panel : null;
  }

  /** The round whose key waits for the next TEK version, if any. */
  get readyRound(): number | null {
    return this.running?.ready?.round ?? null;
  }

  /** Rule 1: the `panelSize` longest-standing current members not suspected here, or [] if fewer than 4. */
  choosePanel(): MemberKey[] {
    const size = Math.min(this.view?.panelSize ?? 0, MAX_PANEL_SIZE);
    const candidates = this.standing.filter((m) => !this.suspected.has(m));
    if (size < MIN_PANEL_SIZE || candidates.length < MIN_PANEL_SIZE) return [];
    return candidates.slice(0, size);
  }

  // ---------------------------------------------------------------- PanelHook

  update(view: PanelView, now: number): void {
    if (view.self !== this.self) throw new LocalProtocolError('bad-member', 'the view is for another member');
    this.view = view;
    const blocked = new Set(view.blocked);
    this.standing = view.members
      .filter((m) => !blocked.has(m.key))
      .sort(byStanding)
      .map((m) => m.key);
    for (const [m, until] of [...this.suspected]) if (until <= now || !this.standing.includes(m)) this.suspected.delete(m);
    if (view.panelSize < MIN_PANEL_SIZE || this.standing.length < MIN_PANEL_SIZE) {
      this.running = null;
      this.order = null;
      this.formAt = null;
      this.formWaitUntil = null;
      this.orderWaitUntil = null;
      if (!this.inactiveReported) {
        this.inactiveReported = true;
        this.emit({ kind: 'fallback-single', text: `panel inactive: fewer than 4 members (${this.standing.length}); TEK versions have a single creator` });
      }
      return;
    }
    this.inactiveReported = false;
    this.reconcile(now);
    this.pump(now);
  }

  receive(from: MemberKey, bytes: Uint8Array, now: number): void {
    const frame = decodeFrame(bytes);
    if (!frame) {
      this.emit({ kind: 'rejected', from, text: 'malformed panel frame' });
      return;
    }
    if (frame.tag === TAG_DATA) {
      if (this.running?.id === frame.panelId) this.running.session.receive(from, frame.bytes, now);
      else this.wait(from, frame.panelId, frame.bytes);
    } else if (frame.tag === TAG_RECOVER) {
      // Review 31: a stray order must not displace one kept while the view catches up.
      const order = { ...frame, from };
      const verdict = this.orderVerdict(order);
      if (verdict === 'refused') this.emit({ kind: 'rejected', from, text: ORDER_REFUSED });
      else if (verdict === 'keep') {
        // A kept order waits for the view one process timeout from the first one kept, however
        // many follow (review 33: crossed orders naming a key that never becomes a member kept
        // every follower waiting, and no round ever ran again).
        this.order = { ...order, keptUntil: this.order?.keptUntil ?? now + this.timeoutMs };
      } else if (!this.running) this.order = order; // with no panel running here nothing can be checked yet
    } else {
      const problem = this.proposalProblem({ ...frame, from }, now);
      if (problem) this.emit({ kind: 'rejected', from, text: problem });
      else this.proposals.set(from, { ...frame, from });
    }
    this.tryProposals(now);
    this.tryOrder(now);
    this.pump(now);
  }

  tick(now: number): void {
    this.running?.session.tick(now);
    this.formDue(now);
    const kept = this.order;
    if (kept?.keptUntil !== undefined && now >= kept.keptUntil) {
      // Dropped; the running panel goes on (it may be sound: review 33, a forged order from the
      // second member named the first as failed). A replacement that is no member here at all (not
      // merely blocked here) means its sender named someone who is not one: it is suspected.
      this.order = null;
      if (!this.view?.members.some((m) => m.key === kept.replacement)) this.suspect(kept.from, now);
      this.emit({ kind: 'rejected', from: kept.from, text: `recovery order not followed: ${short(kept.replacement)} did not become a current member here in time` });
      this.roundAhead(now);
    }
    if (this.orderWaitUntil !== null && now >= this.orderWaitUntil) {
      this.orderWaitUntil = null;
      // An order kept for the view is judged by its own expiry (`keptUntil`), not by this wait.
      if (this.running && this.running.replacing === null && !this.order) this.restart('the recovery initiator gave no order', now);
    }
    if (this.formWaitUntil !== null && now >= this.formWaitUntil) {
      this.formWaitUntil = null;
      const silent = this.choosePanel()[0];
      if (!this.running && silent && silent !== this.self) {
        // The initiator formed nothing in time: the next longest-standing member takes over.
        this.suspect(silent, now);
        this.restart(`${short(silent)} formed no panel`, now);
      }
    }
    this.pump(now);
  }

  pollTransmit(): { to: MemberKey; bytes: Uint8Array } | undefined {
    return this.transmits.shift();
  }

  pollEvent(): PanelHookEvent | undefined {
    return this.events.shift();
  }

  nextDeadline(): number | null {
    const times = [this.running?.session.nextDeadline() ?? null, this.formWaitUntil, this.orderWaitUntil, this.order?.keptUntil ?? null, this.formAt?.at ?? null].filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  takeKey(_purpose: 'refresh' | 'exclude', excluded: MemberKey[], _now: number): { key: Uint8Array; round: number; members: MemberKey[] } | null {
    const r = this.running;
    const ready = r?.ready;
    if (!r || !ready) return null;
    // Everyone on the round's panel knows its key: none may be excluded now or gone already.
    if (ready.members.some((m) => excluded.includes(m) || !this.standing.includes(m))) return null;
    // Never twice: a used round never becomes `ready` again (see round-complete).
    r.ready = null;
    r.used.add(roundId(ready.round, ready.members));
    return { key: ready.key, round: ready.round, members: [...ready.members] };
  }

  consumed(round: number, members: MemberKey[], now: number): void {
    const r = this.running;
    if (!r) return;
    r.used.add(roundId(round, members));
    if (r.ready && r.used.has(roundId(r.ready.round, r.ready.members))) r.ready = null;
    this.roundAhead(now);
    this.pump(now);
  }

  // ---------------------------------------------------------------- panel choice, formation, recovery

  /** Brings the running panel in line with the view (rules 1 and 3). */
  private reconcile(now: number): void {
    const target = this.choosePanel();
    const r = this.running;
    if (!r) {
      // Not the initiator: wait for its `form`. Only a member whose own panel failed passes
      // a silent initiator over (restart): a member back from a crash, whom the panel has
      // replaced meanwhile, must not start a rival panel.
      if (target[0] === this.self) this.scheduleForm(now, null);
    } else {
      const panel = r.session.panel;
      const gone = panel.filter((m) => !this.standing.includes(m));
      const status = r.session.status;
      if (gone.length === 0) {
        const same = target.length === panel.length && target.every((m) => panel.includes(m));
        if (!same && target[0] === this.self && status !== 'recovering') this.scheduleForm(now, null);
      } else if (gone.length === 1 && gone[0] === r.replacing) {
        // already being replaced
      } else if (gone.length === 1 && (status === 'ready' || status === 'round')) {
        this.lead(gone[0]!, now, `${short(gone[0]!)} left the group`);
      } else {
        this.restart(`${names(gone)} left the group`, now);
      }
    }
    this.tryProposals(now);
    this.tryOrder(now);
  }

  /** Debounced: every membership change moves the formation later (see `formDelayMs`). */
  private scheduleForm(now: number, reason: string | null): void {
    this.formAt = { at: now + this.formDelayMs, reason: reason ?? this.formAt?.reason ?? null };
  }

  /** At `formAt`: forms the panel the view now calls for, if this member is still its initiator and runs another. */
  private formDue(now: number): void {
    const due = this.formAt;
    if (!due || now < due.at) return;
    this.formAt = null;
    const target = this.choosePanel();
    const r = this.running;
    const same = r !== null && r.session.panel.length === target.length && target.every((m) => r.session.panel.includes(m));
    if (target[0] === this.self && !same && r?.session.status !== 'recovering') this.form(target, now, due.reason);
  }

  /** The initiator forms a new panel: a new session, a `form` frame to every other member, initialization. */
  private form(members: MemberKey[], now: number, reason: string | null): void {
    const id = toHex(this.deps.rng(PANEL_ID_BYTES));
    const session = new PanelSession(this.deps, this.seed, members, { processTimeoutMs: this.timeoutMs });
    this.start(id, now, session);
    const body = encodeFrame({ tag: TAG_FORM, panelId: id, at: now, members });
    for (const m of members) if (m !== this.self) this.transmits.push({ to: m, bytes: body });
    session.startInitialization(now);
    if (reason) this.emit({ kind: 'panel-recovery', text: `new panel ${names(members)}: ${reason}` });
  }

  /** Drops the running panel (it cannot be repaired) and, if this member is the initiator of the new choice, forms one. */
  private restart(reason: string, now: number): void {
    this.running = null;
    this.order = null;
    this.orderWaitUntil = null;
    const target = this.choosePanel();
    if (target[0] === this.self) this.scheduleForm(now, reason);
    else if (target.includes(this.self)) this.formWaitUntil = now + 2 * this.timeoutMs;
  }

  /**
   * Rule 3: `failed` must go. The recovery initiator (the first remaining member,
   * 004 §IV step 710) picks the next longest-standing member off the panel and
   * orders the recovery; the others wait for its order. No replacement: a new panel.
   */
  private lead(failed: MemberKey, now: number, why: string): void {
    const r = this.running!;
    const panel = r.session.panel;
    const leader = panel.find((m) => m !== failed);
    if (leader !== this.self) {
      this.orderWaitUntil ??= now + this.timeoutMs;
      return;
    }
    const replacement = this.standing.find((m) => !panel.includes(m) && !this.suspected.has(m) && this.mayInherit(r, m));
    if (!replacement) return this.restart(`${why} and nobody can replace it (${NO_HANDOVER})`, now);
    r.ready = null; // the failed member knew it
    r.replacing = failed;
    const after = panel.map((m) => (m === failed ? replacement : m));
    r.session.startRecovery(failed, replacement, now);
    const order = encodeFrame({ tag: TAG_RECOVER, panelId: r.id, at: now, failed, replacement });
    for (const m of panel) if (m !== failed && m !== this.self) this.transmits.push({ to: m, bytes: order });
    this.transmits.push({ to: replacement, bytes: encodeFrame({ tag: TAG_RECRUIT, panelId: r.id, at: r.formedAt, failed, members: after }) });
  }

  /**
   * What an order is for the panel running here: `moot` (no panel runs, another panel, or that
   * recovery is done here), `refused` (not from the recovery initiator, or members that do not
   * fit), or `keep` (followed once the view and the session allow).
   */
  private orderVerdict(o: RecoverOrder): 'moot' | 'refused' | 'keep' {
    const r = this.running;
    if (!r || o.panelId !== r.id) return 'moot';
    const panel = r.session.panel;
    if (panel.includes(o.replacement) && !panel.includes(o.failed)) return 'moot';
    if (!panel.includes(o.failed) || o.failed === this.self || panel.find((m) => m !== o.failed) !== o.from || panel.includes(o.replacement)) return 'refused';
    return 'keep';
  }

  /** A remaining member follows the recovery initiator's order once its own session can (a round in flight is abandoned). */
  private tryOrder(now: number): void {
    const o = this.order;
    const r = this.running;
    if (!o || !r) return;
    const verdict = this.orderVerdict(o);
    if (verdict !== 'keep') {
      this.order = null;
      if (verdict === 'refused') this.emit({ kind: 'rejected', from: o.from, text: ORDER_REFUSED });
      return;
    }
    const status = r.session.status;
    if (!this.standing.includes(o.replacement) || (status !== 'ready' && status !== 'round')) return; // wait for the view, or for the running process
    if (!this.mayInherit(r, o.replacement)) {
      this.order = null;
      this.emit({ kind: 'rejected', from: o.from, text: `recovery order refused: ${short(o.replacement)} ${NO_HANDOVER}` });
      return this.restart(`recovery of ${short(o.failed)} refused`, now);
    }
    this.order = null;
    this.orderWaitUntil = null;
    r.ready = null;
    r.replacing = o.failed;
    r.session.startRecovery(o.failed, o.replacement, now);
  }

  private start(id: string, formedAt: number, session: PanelSession): void {
    this.running = { id, formedAt, session, used: new Set(), ready: null, lastRound: null, standingAtLastRound: null, replacing: null };
    this.formWaitUntil = null;
    this.orderWaitUntil = null;
    if (this.order && this.order.panelId !== id) this.order = null;
    for (const p of [...this.proposals.values()]) if (p.at <= formedAt && p.panelId !== id) this.proposals.delete(p.from);
  }

  /** Why a `form`/`recruit` can never be accepted here (null: it may be, now or after a view change). */
  private proposalProblem(p: Proposal, now: number): string | null {
    if (p.members.length < MIN_PANEL_SIZE) return `panel of ${p.members.length} members (004 §V needs at least 4)`;
    if (new Set(p.members).size !== p.members.length) return 'a member is listed twice';
    if (!p.members.includes(this.self)) return `${p.tag === TAG_FORM ? 'form' : 'recruit'} for a panel without this member`;
    if (p.tag === TAG_FORM && p.members[0] !== p.from) return 'only the first member of a panel forms it';
    if (p.at > now + FORM_MAX_AHEAD_MS) return `${p.tag === TAG_FORM ? 'form' : 'recruit'} dated ${Math.round((p.at - now) / 1000)} s ahead`;
    if (p.tag === TAG_FORM && !this.mayForm(p.from)) return 'form from a member that is not among the panel\'s longest-standing members here';
    if (p.tag === TAG_RECRUIT && (!p.members.includes(p.from) || p.from === this.self || p.members.includes(p.failed))) return 'malformed recruit';
    return null;
  }

  /** Accepts the newest proposal whose members are all current members here (others wait for a view change). */
  private tryProposals(now: number): void {
    const size = this.view?.panelSize ?? 0;
    const usable = [...this.proposals.values()]
      .filter((p) => p.members.length <= size && p.members.every((m) => this.standing.includes(m)))
      .sort((a, b) => b.at - a.at);
    for (const p of usable) {
      const r = this.running;
      this.proposals.delete(p.from);
      if (r && p.tag === TAG_FORM && p.from !== r.session.panel[0]) {
        // A running panel is re-formed only by its own initiator; a failed one is dropped first (restart).
        this.emit({ kind: 'rejected', from: p.from, text: 'form while a panel runs here, from a member that is not its initiator' });
        continue;
      }
      if (r && (p.at < r.formedAt || (p.panelId === r.id && r.session.panel.includes(this.self)))) continue;
      const session = new PanelSession(this.deps, this.seed, p.members, { processTimeoutMs: this.timeoutMs });
      this.start(p.panelId, p.at, session);
      if (p.tag === TAG_RECRUIT) {
        this.running!.replacing = p.failed;
        session.startRecovery(p.failed, this.self, now);
      }
      const mine = this.waiting.filter((w) => w.panelId === p.panelId);
      this.waiting = this.waiting.filter((w) => w.panelId !== p.panelId);
      for (const w of mine) session.receive(w.from, w.bytes, now);
      return;
    }
  }

  /**
   * Review 31: a `form` only from one of the `panelSize` longest-standing members here (with or
   * without this member's suspicions, which may differ from the sender's). Before, any member
   * could form: one off the panel re-formed it every few seconds, so no round ever completed and
   * every TEK version fell back to a single creator, with nothing naming it.
   */
  private mayForm(from: MemberKey): boolean {
    const size = Math.min(this.view?.panelSize ?? 0, MAX_PANEL_SIZE);
    return this.standing.slice(0, size).includes(from) || this.standing.filter((m) => !this.suspected.has(m)).slice(0, size).includes(from);
  }

  private wait(from: MemberKey, panelId: string, bytes: Uint8Array): void {
    this.waiting.push({ from, panelId, bytes });
    if (this.waiting.length > MAX_WAITING_FRAMES) this.waiting.shift();
  }

  // ---------------------------------------------------------------- rounds (rule 2)

  /** Keeps one round ahead: a ready panel with no unconsumed key starts the next round. */
  private roundAhead(now: number): void {
    const r = this.running;
    if (r && !r.ready && !this.order && r.session.status === 'ready') r.session.startRound(now);
  }

  /** Carries the session's datagrams out and turns its events into decisions and log lines. */
  private pump(now: number): void {
    for (;;) {
      const r = this.running;
      if (!r) return;
      const t = r.session.pollTransmit();
      if (t) {
        this.transmits.push({ to: t.to, bytes: encodeFrame({ tag: TAG_DATA, panelId: r.id, at: r.formedAt, bytes: t.bytes }) });
        continue;
      }
      const e = r.session.pollEvent();
      if (!e) return;
      this.onSessionEvent(r, e, now);
    }
  }

  private onSessionEvent(r: Running, e: PanelEvent, now: number): void {
    if (this.running !== r) return; // a decision above replaced the panel: its leftovers are moot
    switch (e.type) {
      case 'initialized':
        this.tryOrder(now);
        this.roundAhead(now);
        return;
      case 'round-complete':
        this.emit({ kind: 'panel-round', text: `round ${e.round} complete: panel ${names(e.members)}` });
        r.lastRound = roundId(e.round, e.members);
        r.standingAtLastRound = new Set(this.standing);
        if (!r.used.has(r.lastRound)) r.ready = { round: e.round, key: e.key, members: [...e.members] };
        this.roundAhead(now);
        return;
      case 'recovered':
        this.emit({ kind: 'panel-recovery', text: `recovered: ${short(e.failed)} replaced by ${short(e.replacement)} (iteration ${e.iteration}; panel ${names(e.members)})` });
        r.ready = null;
        r.replacing = null;
        this.tryOrder(now); // an order that waited for this recovery to end
        this.roundAhead(now);
        return;
      case 'rejected':
        this.emit({ kind: 'rejected', from: e.from, text: `${e.reason}: ${e.detail}` });
        return;
      case 'cheater':
        this.suspect(e.member, now);
        this.emit({ kind: 'rejected', from: e.member, text: `cheater in ${e.process} ${e.iteration}: ${e.detail}` });
        return;
      case 'failed':
        this.onFailed(r, e, now);
        return;
    }
  }

  /** Rule 3: a round that timed out on one member is repaired by recovery; anything else starts a new panel. */
  private onFailed(r: Running, e: Extract<PanelEvent, { type: 'failed' }>, now: number): void {
    if (e.reason === 'superseded') return;
    const lost = e.missing.filter((m) => m !== this.self);
    if (e.reason === 'timeout') {
      // The initiator is left out only if it also fails to form a new panel (see tick): a member
      // waiting for θ₁ names it, though another member is usually the one that stalled.
      const initiator = this.choosePanel()[0];
      for (const m of lost) if (m !== initiator) this.suspect(m, now);
    }
    const what = `${e.process} ${e.iteration} failed (${e.reason}${lost.length ? `, missing ${names(lost)}` : ''})`;
    if (e.process === 'round' && e.reason === 'timeout' && lost.length === 1 && r.session.status === 'ready') {
      this.lead(lost[0]!, now, what);
      this.tryOrder(now);
      return;
    }
    this.restart(what, now);
  }

  /**
   * Review 31: a recovery hands the replacement the panel's θ (004 §IV), and the last completed
   * round's key derives from that θ. If a table made that key TEK version v, a member admitted
   * after v was made (granted v a revision on) would compute v at revision 0 from θ: every
   * revision before its admission. So a replacement must have been a current member here when
   * that round completed, before any table could use its key. Not "when this member learned of
   * the use": a table may reach it late, or never (a TEK adopted by fetch; the second attacker
   * review). With nobody eligible the panel is formed anew.
   */
  private mayInherit(r: Running, replacement: MemberKey): boolean {
    return r.standingAtLastRound === null || r.standingAtLastRound.has(replacement);
  }

  /** Left out of this member's panel choices for a while (a crashed member may come back). */
  private suspect(member: MemberKey, now: number): void {
    this.suspected.set(member, now + 10 * this.timeoutMs);
  }

  private emit(event: PanelHookEvent): void {
    this.events.push(event);
  }
}
