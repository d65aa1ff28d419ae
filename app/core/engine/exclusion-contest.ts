/**
 * @module core/engine/exclusion-contest
 * Under `admins`, a non-admin excluded by an admin whose own exclusion is racing (docs/protocol.md
 * §8.2 "An exclusion that falls with its excluder"; review 20's ghost).
 *
 * Admin x excludes member m while admin y excludes x. A member that took x's table first blocks
 * m on x's word and drops that block once y's table shows x excluded (admin-races.ts); the
 * members that took y's first never block m. m itself, taking x's table, used to erase its
 * secrets for good: every other member soon counted it as a member again, and it never learnt
 * so (a silent member until invited again). Now m keeps its state from just
 * before x's table (`ContestStart`, set by exclusion.ts applyBlocklist) in a *shadow*: a copy of
 * its engine core that hears the group's control traffic and publishes nothing. When the shadow
 * takes an admin's table that excludes x, at a version no older than x's table, and stays a
 * member itself, the exclusion is void there; if it stays so for the non-admins' wait
 * (DROP_AFTER_HEARTBEATS heartbeats, as admin-races.ts drops the block), m is a member again:
 * the shadow's core becomes its own, as after a restart. A current admin that names m meanwhile
 * (an admin that took x's table first keeps the block and reseals naming it) excludes the
 * shadow, and the exclusion stands: review 24, resuming at once made m a member in its own
 * eyes while that admin still blocked it (1 race in 4), and it admitted a newcomer nobody else
 * counted. The shadow cannot fetch: a target cut off during the race hears the voiding table
 * from the non-admins that drop their block of it (admin-races.ts tellVoided sends the header,
 * after the wait: review 25). If nothing voids
 * the exclusion within the grace window (at most CONTEST_MAX_MS) of it, the shadow is erased.
 *
 * Invariants:
 * - Only a non-admin under `admins`, excluded by a trusted (admin's) table (exclusion.ts); admins
 *   never drop a block, so an excluded admin is not brought back this way.
 * - The shadow raises nothing and sends only fetch requests (fetch.ts; review 26), its other
 *   transmits and events dropped after every input; it is never ticked (only its fetches run), has no panel hook (004) and admits no one (review 24: it
 *   called the app's admission hook, which counts an invite use and announces the ledger). It takes no table of x's that
 *   names m (`contestedExcluder`: x's table, its completers' copies, x's reseals all carry x's
 *   word alone), and once it holds x excluded, no table of x's at all (T1). Another admin's
 *   table that names m excludes the shadow too: that admin's word stands at every member.
 * - It hears control and unicast input only (never data): what can exclude x.
 * - Its secrets are erased when the contest ends either way, and the encoded state it was
 *   built from at once. While it lasts the shadow's state is saved with the member's own
 *   (`save`, PersistentState.contest; sealed at rest like the rest): a restart inside the
 *   contest goes on with it (review 25: a restart ended it and left the member a ghost), a
 *   void held before the restart waiting again for fresh word from the group (`restore`;
 *   review 26). A lost contest ends at once (GroupEngine), and so does one whose member leaves.
 * - Nothing here widens what a member may do: the shadow judges every input by the same gate,
 *   and what brings m back is a signed table of a current admin that excludes x and keeps m,
 *   which the other non-admins obey too (admin-races.ts).
 * Seeds: 003 [0072]–[0075] (who excludes; the blocklist changes with the key).
 */
import type { MemberKey, Transmit } from '../types.js';
import { decodeState, type SavedContest } from '../state.js';
import { EngineCore, MAX_VERSION_AHEAD, eraseSecrets, type AdmissionPolicy, type EngineDeps, type Identity } from './context.js';
import type { ContestStart } from './contest-start.js';
import { DROP_AFTER_HEARTBEATS } from './admin-races.js';
import { receive, type Channel } from './gate.js';
import { MsgType, decodeMessage } from '../wire.js';
import { equalBytes } from '../bytes.js';
import { creatorsTag } from '../keys.js';
import { TEK_SLOT } from '../params.js';
import { fetchTick } from './fetch.js';

/**
 * How long a table voiding the exclusion may take to arrive: the grace window (old keys are kept
 * that long for late traffic), at most this, and never less than the wait. A partition that
 * heals within it brings the member back (the voiding header comes by unicast, admin-races.ts).
 */
const CONTEST_MAX_MS = 10 * 60_000;

/** The shadow's admission hook: it admits no one (the member it stands for is excluded; review 24). */
const REFUSE_ALL: AdmissionPolicy = { check: () => ({ ok: false, reason: 'this member is excluded' }) };

/**
 * The TEK a sealed control message says it is sealed under, against the core's own: `version`,
 * and `sibling` when it is another TEK of the same version (other creators); null when it is
 * not one, or not decodable.
 */
function sealedUnder(core: EngineCore, bytes: Uint8Array): { version: number; sibling: boolean } | null {
  try {
    const m = decodeMessage(core.groupBytes, 'control', bytes);
    if (m.type !== MsgType.SealedControl) return null;
    const own = core.s.tek;
    const sibling = own !== null && m.tekVersion === own.version && !equalBytes(m.tekTag, creatorsTag(core.crypto, own.creators));
    return { version: m.tekVersion, sibling };
  } catch {
    return null;
  }
}

function rejections(core: EngineCore): number {
  let n = 0;
  for (const c of core.rejectedCounts.values()) n += c;
  return n;
}

/** No panel hook (004) and no admissions: the shadow takes part in nothing; the member gets the panel back when it resumes. */
function shadowDeps(deps: EngineDeps): EngineDeps {
  return { ...deps, panel: undefined, admission: REFUSE_ALL };
}

export class ExclusionContest {
  private readonly shadow: EngineCore;
  readonly excluder: MemberKey;
  /** Until when a table voiding the exclusion may first arrive (CONTEST_MAX_MS); then the shadow is erased. */
  private readonly until: number;
  private readonly version: number;
  private readonly waitMs: number;
  /**
   * When the shadow first held the exclusion void (and the admin whose table did it), while it
   * still does. `restored`: held before a restart; the wait then counts from the restart and
   * needs fresh word from the group (`heard`), see `restore`.
   */
  private void: { since: number; by: MemberKey; restored?: { heard: boolean } } | null = null;
  /**
   * Word that the group is elsewhere: a current member's control message (not the excluder's)
   * sealed under a TEK version later than the shadow's (the group moved on to a TEK it lacks;
   * review 26: an admin's reseal naming this member, lost to it, moved the group on, and the
   * member resumed and was excluded again 34 ms later), or under a sibling of its own TEK (same
   * version, other creators: the group is split; review 26's sweep: m0 and m1 excluding each
   * other as m0 excluded m5, the shadow resumed and a, on m0's side, excluded it again 5 s
   * later). The clear header is only a claim, so what is kept is when it came and from whom:
   * the latest claim, the latest from any other member, and the latest from an admin. No
   * resuming until the wait has passed since a second member's claim, or an admin's: one
   * non-admin alone cannot keep this one out (review 27: keeping the highest version claimed
   * kept it out for good after one forged packet; review 28: keeping the time of the last claim
   * let one member do it with a packet every few seconds), while an admin, whose table could
   * exclude it outright, may (an admin that restarted inside the race, alone on a sibling until
   * its reseal named this member: review 28's sweep). The group's members heartbeat under the
   * TEK they hold, so where it really is elsewhere many say so, until the shadow has fetched it.
   */
  private elsewhere: { from: MemberKey; at: number } | null = null;
  private elsewhereOther: { from: MemberKey; at: number } | null = null;
  private elsewhereAdminAt: number | null = null;
  /** The creators tag of a TEK the contested excluder made alone (`fetchesOut`). */
  private readonly excluderTag: Uint8Array;
  /** The shadow itself was excluded (another admin named this member): the exclusion stands. */
  private lost = false;

  private constructor(shadow: EngineCore, excluder: MemberKey, version: number, until: number, waitMs: number, voided: ExclusionContest['void']) {
    this.shadow = shadow;
    shadow.contestedExcluder = excluder;
    this.excluderTag = creatorsTag(shadow.crypto, [excluder]);
    this.excluder = excluder;
    this.version = version;
    this.until = until;
    this.waitMs = waitMs;
    this.void = voided;
  }

  /** A contest from the state just before the excluding table (exclusion.ts); `start.pre` is zeroed. */
  static begin(deps: EngineDeps, identity: Identity, start: ContestStart, heartbeatMs: number, graceMs: number): ExclusionContest {
    const shadow = new EngineCore(shadowDeps(deps), identity, decodeState(start.pre));
    start.pre.fill(0);
    const waitMs = DROP_AFTER_HEARTBEATS * heartbeatMs;
    return new ExclusionContest(shadow, start.excluder, start.version, start.at + Math.max(waitMs, Math.min(graceMs, CONTEST_MAX_MS)), waitMs, null);
  }

  /**
   * A contest saved before a restart (`save`): the shadow starts again from its saved state. A
   * void it held before the restart does not count the time the device was down (review 26: a
   * current admin may have named this member meanwhile, and resuming at once brought back a
   * member the whole group had excluded, for good when nobody told it so): the wait starts
   * again at the restart, and the member resumes only if, within it, the shadow opened a
   * current member's control message under its own TEK, and (as any void) none under a later
   * TEK within the wait before: where the group moved on while it was down, it resumes once it
   * has fetched the later TEK from members that count it, and never where they all refuse
   * (review 27: ending the contest at the first later TEK left a ghost after an unrelated
   * exclusion).
   */
  static restore(deps: EngineDeps, identity: Identity, saved: SavedContest, heartbeatMs: number, now: number): ExclusionContest {
    const shadow = new EngineCore(shadowDeps(deps), identity, saved.shadow);
    const voided = saved.voidSince !== undefined && saved.voidBy !== undefined ? { since: Math.max(saved.voidSince, now), by: saved.voidBy, restored: { heard: false } } : null;
    return new ExclusionContest(shadow, saved.excluder, saved.version, saved.until, DROP_AFTER_HEARTBEATS * heartbeatMs, voided);
  }

  /** What a restart needs to go on with the contest (null once it is lost: it ends at the next tick). */
  save(): SavedContest | null {
    if (this.lost) return null;
    const saved: SavedContest = { shadow: this.shadow.s, excluder: this.excluder, version: this.version, until: this.until };
    if (this.void) {
      saved.voidSince = this.void.since;
      saved.voidBy = this.void.by;
    }
    return saved;
  }

  /** One control or unicast input to the shadow; returns its fetch requests, the only output it keeps (`fetchesOut`). */
  feed(from: MemberKey, channel: Channel, bytes: Uint8Array, now: number): Transmit[] {
    if (channel === 'data' || this.lost) return [];
    const sh = this.shadow;
    const restored = this.void?.restored;
    // Evidence of where the group is, from current members other than the contested excluder.
    const sealed = channel === 'control' && from !== this.excluder && sh.s.roster[from]?.state === 'member' ? sealedUnder(sh, bytes) : null;
    const sealedAt = sealed?.version ?? null;
    const own = this.shadowVersion();
    if ((sealedAt !== null && sealedAt > own && sealedAt - own <= MAX_VERSION_AHEAD) || sealed?.sibling) this.noteElsewhere(from, now);
    const before = restored ? rejections(sh) : 0;
    try {
      receive(sh, from, channel, bytes, now);
    } catch {
      // The gate turns bad input into a rejection; nothing the shadow hears may end the contest early.
    }
    const out = this.fetchesOut();
    if (sh.s.state !== 'member') {
      this.lost = true;
      this.void = null;
      return [];
    }
    if (restored && sealed && !sealed.sibling && sealedAt === this.shadowVersion() && rejections(sh) === before) restored.heard = true;
    const by = this.voidedBy();
    if (!by) this.void = null;
    else this.void ??= { since: now, by };
    return out;
  }

  /**
   * The shadow's fetches that are due (fetch.ts fetchTick); returns the requests. The shadow
   * asks for a key it saw named, as a member does: a member that counts this one as a member
   * answers (a restart or a cut-off made it miss the table that voided its exclusion; review
   * 26: it stayed a ghost), one that blocks it refuses. It learns nothing that members counting
   * it would not give it.
   */
  fetch(now: number): Transmit[] {
    if (this.lost) return [];
    fetchTick(this.shadow, now);
    return this.fetchesOut();
  }

  /**
   * The shadow's output: its fetch requests go out, everything else is dropped (it publishes
   * nothing, raises nothing). Not those for a TEK the contested excluder made: the shadow
   * refuses its tables, and after a plain exclusion (no race) the whole group is on it, so each
   * heartbeat made a request every member refused (review 27: 54 in 120 s).
   */
  private fetchesOut(): Transmit[] {
    const sh = this.shadow;
    const out = sh.outbox.filter((t) => t.kind === 'unicast' && t.bytes[2] === MsgType.FetchRequest && !this.asksForExcludersTek(t.bytes));
    sh.outbox = [];
    sh.events = [];
    return out;
  }

  /** The TEK version the shadow would resume on. */
  private shadowVersion(): number {
    return this.shadow.s.tek?.version ?? 0;
  }

  /** The contest is lost (the shadow was excluded, or a restored void met a later TEK): it ends at once. */
  isLost(): boolean {
    return this.lost;
  }

  /** The admin whose table excluded the excluder, at a version no older, while the shadow is a member: the exclusion is void there. */
  private voidedBy(): MemberKey | null {
    const sh = this.shadow;
    if (sh.s.blocklist.includes(sh.self)) return null;
    const x = sh.s.roster[this.excluder];
    if (x?.state !== 'excluded' || !sh.s.blocklist.includes(this.excluder)) return null;
    if (x.blockedAtVersion === undefined || x.blockedAtVersion < this.version) return null;
    return x.excludedBy ?? null;
  }

  /** A claim that the group is elsewhere (`elsewhere`): the latest, and the latest from another member before it. */
  private noteElsewhere(from: MemberKey, now: number): void {
    const policy = this.shadow.s.params.policy;
    if (policy.exclude === 'admins' && policy.admins.includes(from)) this.elsewhereAdminAt = now;
    if (this.elsewhere && this.elsewhere.from !== from) this.elsewhereOther = this.elsewhere;
    this.elsewhere = { from, at: now };
  }

  /** When a void may resume: the wait after it began, and after two members, or an admin, last said that the group is elsewhere. */
  private resumeAt(v: { since: number }): number {
    return Math.max(v.since, this.elsewhereOther?.at ?? v.since, this.elsewhereAdminAt ?? v.since) + this.waitMs;
  }

  private asksForExcludersTek(bytes: Uint8Array): boolean {
    try {
      const m = decodeMessage(this.shadow.groupBytes, 'unicast', bytes);
      return m.type === MsgType.FetchRequest && m.slot === TEK_SLOT && equalBytes(m.tag, this.excluderTag);
    } catch {
      return true;
    }
  }

  /** When `step` or `fetch` has something to do. */
  deadline(): number {
    let d = this.void ? Math.min(this.until, this.resumeAt(this.void)) : this.until;
    for (const f of this.shadow.fetches.values()) d = Math.min(d, f.at);
    return d;
  }

  /**
   * At a tick: `resume` with the admin that voided the exclusion once it held void for the
   * non-admins' wait (DROP_AFTER_HEARTBEATS, as admin-races.ts drops a block: a current admin
   * naming this member meanwhile excludes the shadow, review 24); `end` when it lost, or when
   * nothing voided it in time; else `wait`.
   */
  step(now: number): { kind: 'resume'; by: MemberKey } | { kind: 'end' } | { kind: 'wait' } {
    if (this.lost) return { kind: 'end' };
    const v = this.void;
    if (v && now >= v.since + this.waitMs) {
      // Restored, and nothing heard from the group under the shadow's TEK within the wait: no fresh word, no resuming.
      if (v.restored && !v.restored.heard) return { kind: 'end' };
      if (now >= this.resumeAt(v)) return { kind: 'resume', by: v.by };
    }
    return now >= this.until ? { kind: 'end' } : { kind: 'wait' };
  }

  /** The shadow's core, to resume as this member (its tables in flight with it); the contest is over. */
  take(): EngineCore {
    this.shadow.contestedExcluder = null;
    return this.shadow;
  }

  /** The contest ended without voiding the exclusion: the shadow's secrets are erased. */
  end(): void {
    eraseSecrets(this.shadow);
  }
}
