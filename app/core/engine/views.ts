/**
 * @module core/engine/views
 * Read-only views for the UI and the simulator: the TEK's public description, the
 * member list, the key table with owners, versions, revisions and heartbeat ages (the
 * key panel), and, for the secrecy oracle only, the raw key material. Nothing here
 * mutates state.
 */
import { blocklist, cmpKey, heartbeatAge, pidOf, slotIndex, type EngineCore, type MemberView } from './context.js';
import { type KeyEntryView, type KeyOrigin, type KeyTableView, type MemberKey } from '../types.js';
import { TEK_SLOT, slotRef } from '../params.js';
import { fingerprint } from '../keys.js';
import { type HeldKey } from '../state.js';

/** The current TEK's public description (no key bytes). */
export function tekInfo(core: EngineCore): { version: number; revision: number; creators: MemberKey[]; fingerprint: string; origin: KeyOrigin } | null {
  const t = core.s.tek;
  if (!t) return null;
  return { version: t.version, revision: t.revision, creators: [...t.creators], fingerprint: fingerprint(core.crypto, t.key), origin: t.origin };
}

/** Cheap equality key of (TEK version, revision, creators, blocklist) for convergence checks. */
export function convergenceSignature(core: EngineCore, withRevision = true): string {
  const t = core.s.tek;
  if (!t) return 'none';
  return `${t.version}:${withRevision ? t.revision : '*'}:${t.creators.join(',')}|${core.s.blocklist.length}:${core.s.blocklist[core.s.blocklist.length - 1] ?? ''}`;
}

export function members(core: EngineCore): MemberView[] {
  const admins = core.s.params.policy.exclude === 'admins' ? core.s.params.policy.admins : [];
  return Object.entries(core.s.roster)
    .map(([key, m]) => ({
      key,
      name: m.name,
      participantId: pidOf(core, key),
      admin: admins.includes(key),
      state: m.state,
      lastSeen: key === core.self ? null : (core.lastSeen.get(key) ?? null),
    }))
    .sort((a, b) => cmpKey(a.key, b.key));
}

export function keyTable(core: EngineCore, now: number): KeyTableView {
  const view = (k: HeldKey): KeyEntryView => ({
    slot: slotRef(k.slot, core.s.params.V),
    version: k.version,
    revision: k.revision,
    creators: [...k.creators],
    owner: k.owner,
    held: true,
    heartbeatAgeMs: k.owner === core.self ? 0 : heartbeatAge(core, k.slot, now),
    fingerprint: fingerprint(core.crypto, k.key),
    origin: k.origin,
    basedOn: k.basedOn ? { ...k.basedOn, creators: [...k.basedOn.creators] } : null,
  });
  const slots: KeyEntryView[] = [];
  const held = new Map(core.s.keks.map((k) => [k.slot, k]));
  const seen = new Set<number>();
  for (const k of core.s.keks) {
    slots.push(view(k));
    seen.add(k.slot);
  }
  for (const [slotStr, info] of Object.entries(core.s.slotDir)) {
    const slot = Number(slotStr);
    if (slot === TEK_SLOT || seen.has(slot) || held.has(slot)) continue;
    slots.push({
      slot: slotRef(slot, core.s.params.V),
      version: info.version,
      revision: info.revision,
      creators: [...info.creators],
      owner: info.owner,
      held: false,
      heartbeatAgeMs: heartbeatAge(core, slot, now),
      fingerprint: null,
      basedOn: null,
    });
  }
  slots.sort((a, b) => slotIndex(core, a) - slotIndex(core, b));
  return {
    group: core.group,
    W: core.s.params.W,
    V: core.s.params.V,
    self: core.self,
    selfId: [...core.selfId],
    tek: core.s.tek ? view(core.s.tek) : null,
    slots,
    blocklist: blocklist(core),
    log: [...core.log],
  };
}

/**
 * Slot and owner of every key held: the TEK first, then the KEKs in the order keyTable lists
 * them (by slot). What keyTable says of them, without its fingerprints and heartbeat ages.
 */
export function heldOwners(core: EngineCore): { slot: number; owner: MemberKey | null }[] {
  const out: { slot: number; owner: MemberKey | null }[] = [];
  if (core.s.tek) out.push({ slot: TEK_SLOT, owner: core.s.tek.owner });
  const keks = core.s.keks.map((k) => ({ slot: k.slot, owner: k.owner }));
  keks.sort((a, b) => a.slot - b.slot);
  return out.concat(keks);
}

/** Every key this member currently holds, with its bytes. For the simulator's secrecy oracle only. */
export function exportKeyMaterial(core: EngineCore): { slot: number; version: number; creators: MemberKey[]; revision: number; key: Uint8Array }[] {
  const out = [];
  for (const r of core.s.tekRecords) {
    out.push({ slot: TEK_SLOT, version: r.version, creators: [...r.creators], revision: r.revision, key: r.key });
    for (const o of r.older) out.push({ slot: TEK_SLOT, version: r.version, creators: [...r.creators], revision: o.revision, key: o.key });
  }
  for (const k of core.s.keks) out.push({ slot: k.slot, version: k.version, creators: [...k.creators], revision: k.revision, key: k.key });
  for (const { key: o } of core.retiredKeks) out.push({ slot: o.slot, version: o.version, creators: [...o.creators], revision: o.revision, key: o.key });
  return out;
}
