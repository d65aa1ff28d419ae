// Fuzzing the engine's receive() (issue 14 "What to build" §6): sequences of structured
// random messages (valid encodings with random fields) and clock ticks, from random
// roles (an outsider, a current member, an excluded member, a member that left), sent
// to a member restored from a settled group. Invariants: nothing throws out of the
// engine; a message rejected by the engine changes neither its persistent state nor its
// TEK; no key ever reaches an attacker that is not a member; crafted attacks from
// outsiders, excluded members and leavers change nothing (issue 14; test/unit/attacks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GroupEngine } from '../../app/core/engine.js';
import { MsgType, decodeMessage, encodeMessage, type KeyInfo, type Message } from '../../app/core/wire.js';
import type { MemberKey, Transmit } from '../../app/core/types.js';
import {
  Attacker,
  Gate,
  NOT_A_MEMBER,
  currentTek,
  deps,
  encodeFor,
  drain,
  fingerprintState,
  groupBytes,
  honestGroup,
  identity,
  meteredCrypto,
  tekOf,
  type Id,
} from '../unit/attacks/forge.js';
import { channelOf, keyInfoArb, messageArb, type Ctx } from './arbitraries.js';
import { runs } from './config.js';

// ---------------------------------------------------------------- the fixture: one settled group

const g = honestGroup(['a', 'b', 'c', 'm', 'x', 'l']);
g.e.a!.exclude([g.ids.x!.key], g.net.now);
g.net.settle();
g.net.run(g.net.now + 3 * g.params.heartbeatMs);
g.e.l!.leave(g.net.now);
g.net.settle();
g.net.run(g.net.now + 10 * g.params.heartbeatMs);
const T0 = g.net.now;

type Role = 'outsider' | 'member' | 'excluded' | 'leaver';
const ROLES: Role[] = ['outsider', 'member', 'excluded', 'leaver'];
const attackers: Record<Role, Attacker> = {
  outsider: new Attacker(identity('fuzz-outsider')),
  member: new Attacker(g.ids.m!),
  excluded: new Attacker(g.ids.x!),
  leaver: new Attacker(g.ids.l!),
};
const victims: { id: Id; snapshot: Uint8Array }[] = ['a', 'b'].map((n) => ({ id: g.ids[n]!, snapshot: g.e[n]!.snapshot() }));
const honest = ['a', 'b', 'c'].map((n) => g.ids[n]!.key);
const cur = tekOf(g.e.b!);
const allKeys = [...Object.values(g.ids).map((i) => i.key), attackers.outsider.key];

function ctx(maxRevision: number): Ctx {
  return { keys: allKeys, V: g.params.V, W: g.params.W, version: cur.version, revision: cur.revision, creators: cur.creators, maxRevision };
}

function restore(v: number, crypto?: ReturnType<typeof meteredCrypto>): GroupEngine {
  const { id, snapshot } = victims[v]!;
  const e = GroupEngine.restore(deps(`fuzz-victim-${id.name}`, { admission: new Gate(), ...(crypto ? { crypto } : {}) }), id, snapshot, T0);
  drain(e);
  return e;
}

/** Keys sealed for `att` in unicasts addressed to it that it can open. */
function keysReaching(att: Attacker, from: MemberKey, out: readonly Transmit[]): number {
  let n = 0;
  for (const t of out) {
    if (t.kind !== 'unicast' || t.to !== att.key) continue;
    const m = decodeMessage(groupBytes, 'unicast', t.bytes);
    const sealed = m.type === MsgType.KeyGrant || m.type === MsgType.Admit ? m.grants.map((s) => ({ s, p: 'grant' as const })) : m.type === MsgType.FetchReply && m.key ? [{ s: m.key, p: 'fetch' as const }] : [];
    for (const { s, p } of sealed) if (att.openFrom(from, p, s)) n++;
  }
  return n;
}

// ---------------------------------------------------------------- actions

const channelArb = fc.constantFrom('control' as const, 'data' as const, 'unicast' as const);
type Action = { kind: 'msg'; role: Role; msg: Message; channel: 'control' | 'data' | 'unicast' | null } | { kind: 'tick'; dt: number };

function actionsArb(c: Ctx): fc.Arbitrary<Action[]> {
  const msg = fc.record({
    kind: fc.constant('msg' as const),
    role: fc.constantFrom(...ROLES),
    msg: messageArb(c),
    channel: fc.option(channelArb, { nil: null, freq: 5 }),
  });
  const tick = fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 5_000 }) });
  return fc.array(fc.oneof({ weight: 5, arbitrary: msg }, { weight: 1, arbitrary: tick }), { minLength: 1, maxLength: 8 });
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

test('engine: for bounded structured messages from every role, nothing throws, a rejection changes nothing, no key reaches a non-member', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: victims.length - 1 }), actionsArb(ctx(cur.revision + 1000)), (v, actions) => {
      const victim = restore(v);
      const victimKey = victims[v]!.id.key;
      let now = T0;
      for (const a of actions) {
        if (a.kind === 'tick') {
          now += a.dt;
          try {
            victim.tick(now);
          } catch (err) {
            assert.fail(`tick(${now}) threw ${describe(err)}`);
          }
          const { out } = drain(victim);
          for (const r of ['outsider', 'excluded', 'leaver'] as const) assert.equal(keysReaching(attackers[r], victimKey, out), 0, `a key reached the ${r}`);
          continue;
        }
        const att = attackers[a.role];
        const before = fingerprintState(victim);
        try {
          const channel = a.channel ?? channelOf(a.msg);
          victim.receive(att.key, channel, encodeFor(victim, a.msg, channel), now);
        } catch (err) {
          assert.fail(`receive() threw ${describe(err)} on type ${a.msg.type} from the ${a.role}`);
        }
        const { out, events } = drain(victim);
        if (events.some((e) => e.type === 'rejected' && e.from === att.key)) {
          const after = fingerprintState(victim);
          assert.equal(after.tek, before.tek, `a rejected message (type ${a.msg.type}, ${a.role}) changed the TEK`);
          assert.ok(after.snapshot === before.snapshot, `a rejected message (type ${a.msg.type}, ${a.role}) changed the state`);
        }
        if (a.role !== 'member') assert.equal(keysReaching(att, victimKey, out), 0, `a key reached the ${a.role}`);
      }
    }),
    runs(150),
  );
});

// ---------------------------------------------------------------- known attacks, as properties

/** What an attacker crafts with its own key: properly sealed keys, signed tables, refusals. */
type Recipe =
  | { kind: 'fetch-reply' | 'key-grant'; info: KeyInfo; ownCreator: boolean }
  | { kind: 'heartbeat'; info: KeyInfo; ownCreator: boolean }
  | { kind: 'table'; targets: number[]; refresh: boolean }
  | { kind: 'join-refused' }
  | { kind: 'member-admitted' }
  | { kind: 'leave' };

function recipeArb(c: Ctx): fc.Arbitrary<Recipe> {
  const info = keyInfoArb({ ...c, maxRevision: c.revision + 5 }).map((k) => ({ ...k, slot: k.slot % (c.V * c.W + 1) }));
  return fc.oneof(
    fc.record({ kind: fc.constantFrom('fetch-reply' as const, 'key-grant' as const), info, ownCreator: fc.boolean() }),
    fc.record({ kind: fc.constant('heartbeat' as const), info, ownCreator: fc.boolean() }),
    fc.record({ kind: fc.constant('table' as const), targets: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }), refresh: fc.boolean() }),
    fc.constant({ kind: 'join-refused' as const }),
    fc.constant({ kind: 'member-admitted' as const }),
    fc.constant({ kind: 'leave' as const }),
  );
}

let sentAt = 10 ** 9;
function craft(att: Attacker, victim: GroupEngine, victimKey: MemberKey, r: Recipe, now: number): { bytes: Uint8Array; channel: 'control' | 'unicast' } {
  const mine = (info: KeyInfo) => (r.kind === 'fetch-reply' || r.kind === 'key-grant' || r.kind === 'heartbeat') && r.ownCreator ? { ...info, creators: [att.key] } : info;
  switch (r.kind) {
    case 'fetch-reply':
      return { bytes: att.fetchReply(att.sealFor(victimKey, 'fetch', mine(r.info), att.bytes(32))), channel: 'unicast' };
    case 'key-grant':
      return { bytes: att.keyGrant([att.sealFor(victimKey, 'grant', mine(r.info), att.bytes(32))]), channel: 'unicast' };
    case 'heartbeat':
      return { bytes: att.heartbeat({ sentAt: sentAt++, keys: [mine(r.info)] }), channel: 'control' };
    case 'table': {
      const targets = r.refresh ? [] : r.targets.map((i) => honest[i]!).filter((k) => k !== victimKey);
      const t = att.table({ kind: r.refresh || targets.length === 0 ? 'refresh' : 'exclude', targets, base: tekOf(victim), blocklist: [...victim.blocklist(), ...targets], recipients: honest, createdAt: now });
      return { bytes: t.bytes, channel: 'control' };
    }
    case 'join-refused':
      return { bytes: att.joinRefused(NOT_A_MEMBER), channel: 'unicast' };
    case 'member-admitted':
      return { bytes: att.memberAdmitted([{ key: identity(`sybil-${sentAt++}`).key, name: 's', admittedAt: 0 }]), channel: 'control' };
    case 'leave':
      return { bytes: att.leave(sentAt++), channel: 'control' };
  }
}

function membership(e: GroupEngine): string {
  return JSON.stringify(e.members().map((m) => [m.key, m.state]));
}

test(
  'engine: crafted messages from an outsider, an excluded member or a leaver never change a member\'s TEK, membership or state',
  () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: victims.length - 1 }), fc.array(fc.record({ role: fc.constantFrom('outsider' as const, 'excluded' as const, 'leaver' as const), recipe: recipeArb(ctx(0)) }), { minLength: 1, maxLength: 4 }), (v, steps) => {
        const victim = restore(v);
        const victimKey = victims[v]!.id.key;
        const tek = JSON.stringify(victim.tekInfo());
        const members = membership(victim);
        for (const s of steps) {
          // The strongest attacker: it seals under the victim's own current TEK (docs/protocol.md §14).
          attackers[s.role].sealUnder(currentTek(victim));
          const { bytes: b, channel } = craft(attackers[s.role], victim, victimKey, s.recipe, T0);
          victim.receive(attackers[s.role].key, channel, b, T0);
          drain(victim);
          assert.equal(victim.state(), 'member', `${s.recipe.kind} from the ${s.role} changed the state`);
          assert.equal(JSON.stringify(victim.tekInfo()), tek, `${s.recipe.kind} from the ${s.role} changed the TEK`);
          assert.equal(membership(victim), members, `${s.recipe.kind} from the ${s.role} changed the membership`);
        }
      }),
      runs(100),
    );
  },
);

test(
  'engine: with unbounded revisions and nested FetchReplies, receive() never throws and costs a bounded number of hashes',
  () => {
    const budget = { left: Infinity };
    const crypto = meteredCrypto(budget);
    // Nested FetchReplies are described by their depth (built in the property, so a
    // counterexample prints as { depth } rather than 50 KB of bytes).
    const nested = fc.integer({ min: 1, max: 3000 }).map((depth) => ({ depth }));
    const plain = messageArb(ctx(0xffffffff));
    const build = (victim: GroupEngine, m: Message | { depth: number }): { bytes: Uint8Array; channel: 'control' | 'data' | 'unicast' } => {
      if (!('depth' in m)) return { bytes: encodeFor(victim, m, channelOf(m)), channel: channelOf(m) };
      let b = encodeMessage(groupBytes, { type: MsgType.FetchReply, table: null, key: null });
      for (let i = 0; i < m.depth; i++) b = encodeMessage(groupBytes, { type: MsgType.FetchReply, table: b, key: null });
      return { bytes: b, channel: 'unicast' };
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: victims.length - 1 }), fc.constantFrom(...ROLES), fc.array(fc.oneof(plain, nested), { minLength: 1, maxLength: 4 }), (v, role, msgs) => {
        const victim = restore(v, crypto);
        for (const d of msgs) {
          const m = build(victim, d);
          budget.left = 200_000;
          try {
            victim.receive(attackers[role].key, m.channel, m.bytes, T0);
          } catch (err) {
            assert.fail(`receive() threw ${describe(err)}`);
          } finally {
            budget.left = Infinity;
          }
          drain(victim);
        }
      }),
      runs(100),
    );
  },
);


