/**
 * @module sim/bootstrap
 * Builds the state of a settled group directly: every member admitted at once,
 * every key at version 1, revision 0. The simulator's `bootstrap` event uses it
 * so that an operation can be measured on a group of thousands without
 * simulating thousands of joins first (docs/simulator.md, docs/performance.md).
 *
 * The result is what the join protocol converges to, minus history: the first
 * member creates the TEK and owns it; each KEK slot that some member's ID selects
 * exists, owned by the lowest-keyed member holding it; every member holds the TEK
 * and the W KEKs its ID selects, and knows the whole roster and directory.
 * Key bytes come from the given RNG; nothing here runs protocol logic.
 *
 * Invariant: the roster entry objects are shared between the states built (frozen);
 * everything else each state owns.
 */
import type { Rng } from '../core/crypto-provider.js';
import type { GroupParams, MemberKey } from '../core/types.js';
import type { HeldKey, PersistentState, SlotInfo } from '../core/state.js';
import { TEK_SLOT, slotsOf } from '../core/params.js';
import { KEY_BYTES } from '../core/keys.js';

export interface BootstrapMember {
  key: MemberKey;
  name: string;
  id: number[];
}

/** One PersistentState per member, in the order given; members[0] creates the TEK. */
export function settledGroupStates(group: string, groupName: string, params: GroupParams, members: BootstrapMember[], rng: Rng, now: number): PersistentState[] {
  const stateOf = settledGroup(group, groupName, params, members, rng, now);
  return members.map((_, i) => stateOf(i));
}

/** The same, one member at a time (the keys are drawn once): for groups too large to hold every state at once. */
export function settledGroup(group: string, groupName: string, params: GroupParams, members: BootstrapMember[], rng: Rng, now: number): (index: number) => PersistentState {
  const creator = members[0]!.key;
  const tek = rng(KEY_BYTES);
  const slotOwner = new Map<number, MemberKey>();
  for (const m of members) {
    for (const s of slotsOf(m.id, params.V)) {
      const cur = slotOwner.get(s);
      if (cur === undefined || m.key < cur) slotOwner.set(s, m.key);
    }
  }
  const slotKey = new Map<number, Uint8Array>();
  for (const s of [...slotOwner.keys()].sort((a, b) => a - b)) slotKey.set(s, rng(KEY_BYTES));
  const held = (slot: number, key: Uint8Array, owner: MemberKey): HeldKey => ({
    slot,
    version: 1,
    creators: [owner],
    revision: 0,
    key: key.slice(), // every engine owns its copy (an excluded engine zeroes its keys)
    basedOn: null,
    origin: { kind: 'single', creator: owner },
    owner,
  });
  // One entry object per member, shared by every engine's roster: an engine never changes an
  // entry in place (it writes a new one, engine/context.ts setRoster), and frozen, a write that
  // did would throw. At N = 10,000 that is 10^8 entries fewer (about 4.8 GB).
  const entries = members.map((x) => Object.freeze({ name: x.name, admittedAt: now, state: 'member' as const }));
  return (index: number): PersistentState => {
    const m = members[index]!;
    const roster: PersistentState['roster'] = {};
    members.forEach((x, i) => (roster[x.key] = entries[i]!));
    const slotDir: Record<string, SlotInfo> = { [String(TEK_SLOT)]: { version: 1, revision: 0, creators: [creator], owner: creator } };
    for (const [s, owner] of slotOwner) slotDir[String(s)] = { version: 1, revision: 0, creators: [owner], owner };
    const tekHeld = { ...held(TEK_SLOT, tek, creator), coverage: [] };
    return {
      format: 1,
      group,
      groupName,
      params: { ...params, policy: params.policy.exclude === 'admins' ? { exclude: 'admins', admins: [...params.policy.admins] } : { exclude: 'any-member' } },
      state: 'member',
      roster,
      blocklist: [],
      tek: tekHeld,
      keks: slotsOf(m.id, params.V).map((s) => held(s, slotKey.get(s)!, slotOwner.get(s)!)),
      tekRecords: [{ version: 1, creators: [creator], revision: 0, key: tekHeld.key, older: [], retiredAt: null }],
      slotDir,
      admittedAt: now,
      lastRevisionRefreshAt: now,
      lastVersionRefreshAt: now,
    };
  };
}
