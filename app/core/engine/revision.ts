/**
 * @module core/engine/revision
 * Join bumps: a key's revision steps forward through the one-way function when its
 * holder announces a step (a newcomer was given the key at the next revision), so a
 * newcomer never reads earlier traffic. Seeds: 003 [0056], [0063]–[0064], 000 (the
 * join component). docs/protocol.md §5.
 *
 * Invariant: revisions only move forward; only members' announcements count.
 */
import { checkInfo, heldKey, keyChanged, short, type EngineCore } from './context.js';
import { advanceHeld, recordTek, retryPendingData } from './tek-records.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { TEK_SLOT } from '../params.js';
import { type KeyInfo } from '../wire.js';
import { sameCreators, sortedKeys, type HeldKey } from '../state.js';
import { checkRevisionJump } from './authorization.js';

export function onRevision(core: EngineCore, from: MemberKey, keys: KeyInfo[], now: number): void {
  if (core.s.state !== 'member') return; // a joiner learns revisions with its keys
  ensure(core.s.roster[from]?.state === 'member', 'not-member', 'revision from a non-member');
  for (const k of keys) checkInfo(core, k);
  for (const k of keys) checkRevisionJump(core, k);
  core.lastSeen.set(from, now);
  for (const k of keys) {
    const held = heldKey(core, k.slot);
    const creators = sortedKeys(k.creators);
    if (held && held.version === k.version && sameCreators(held.creators, creators) && k.revision > held.revision) {
      stepHeld(core, held, k.revision, now, `revision step announced by ${short(from)}`);
    }
    const dir = core.s.slotDir[String(k.slot)];
    if (dir && dir.version === k.version && sameCreators(dir.creators, creators) && k.revision > dir.revision) dir.revision = k.revision;
  }
}

/** Steps a held key forward through the one-way function (003 [0056], [0071]). */
export function stepHeld(core: EngineCore, held: HeldKey, toRevision: number, now: number, why: string): void {
  if (toRevision <= held.revision) return;
  held.key = advanceHeld(core, held.key, held.revision, toRevision);
  held.revision = toRevision;
  if (held.slot === TEK_SLOT) recordTek(core, held, now);
  const dir = core.s.slotDir[String(held.slot)];
  if (dir && dir.version === held.version && sameCreators(dir.creators, held.creators) && dir.revision < toRevision) dir.revision = toRevision;
  keyChanged(core, held.slot, why, now);
  if (held.slot === TEK_SLOT) retryPendingData(core, now);
}
