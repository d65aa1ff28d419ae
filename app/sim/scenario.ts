/**
 * @module sim/scenario
 * The scenario file format (docs/simulator.md), validated with zod so that a bad
 * scenario is a clear error naming the field, never a crash mid-run.
 */
import { z } from 'zod';

const name = z.string().min(1).max(64);

/** Who the attacker is (docs/simulator.md "Attacks"). */
export const ATTACK_ROLES = ['outsider', 'excluded', 'leaver', 'member', 'sybil'] as const;
/** What it sends. */
export const ATTACK_KINDS = [
  'heartbeat',
  'revision',
  'table',
  'admit',
  'key-grant',
  'fetch-reply',
  'fetch-reply-nested',
  'join-refused',
  'panel',
  'member-admitted',
  'key-request',
  'data',
  'replay',
] as const;

export const ScenarioEvent = z.discriminatedUnion('do', [
  z.object({
    at: z.number().min(0),
    do: z.literal('create'),
    peer: name,
    policy: z.union([z.object({ exclude: z.literal('any-member') }), z.object({ exclude: z.literal('admins'), admins: z.array(name) })]).optional(),
    listen: z.boolean().optional(),
  }),
  z.object({ at: z.number().min(0), do: z.literal('join'), peer: name, via: name }),
  z.object({
    at: z.number().min(0),
    do: z.literal('joinMany'),
    prefix: name,
    count: z.number().int().min(1).max(20000),
    via: z.union([name, z.array(name)]),
    spreadMs: z.number().min(0).default(0),
  }),
  /** A settled group of `creator` + `count` members built directly (app/sim/bootstrap.ts), no join traffic. */
  z.object({ at: z.number().min(0), do: z.literal('bootstrap'), creator: name, prefix: name, count: z.number().int().min(1).max(20000) }),
  z.object({ at: z.number().min(0), do: z.literal('send'), peer: name, text: z.string().max(10000) }),
  z.object({ at: z.number().min(0), do: z.literal('sendAll'), text: z.string().max(10000) }),
  z.object({ at: z.number().min(0), do: z.literal('exclude'), peers: z.array(name).min(1), by: name }),
  z.object({ at: z.number().min(0), do: z.literal('leave'), peer: name }),
  z.object({ at: z.number().min(0), do: z.literal('loss'), rate: z.number().min(0).max(1) }),
  z.object({ at: z.number().min(0), do: z.literal('crash'), peer: name }),
  z.object({ at: z.number().min(0), do: z.literal('restart'), peer: name }),
  z.object({ at: z.number().min(0), do: z.literal('partition'), groups: z.array(z.array(name)).min(2) }),
  z.object({ at: z.number().min(0), do: z.literal('heal') }),
  /** An active adversary sends crafted messages (docs/simulator.md "Attacks"; app/sim/attacks.ts). */
  z.object({
    at: z.number().min(0),
    do: z.literal('attack'),
    /** Names the attack in the report; default "<kind> by <attacker>". */
    label: z.string().max(200).optional(),
    attacker: name,
    role: z.enum(ATTACK_ROLES),
    kind: z.enum(ATTACK_KINDS),
    /** Who receives unicast attacks (default: every honest member); published attacks reach everyone reachable. */
    victims: z.array(name).optional(),
    /** table: the honest members the table excludes. */
    targets: z.array(name).optional(),
    /** table: the TEK it claims to replace: the current one, or the last one the attacker held. */
    base: z.enum(['current', 'held']).default('current'),
    /** table: a valid header signature, or 64 zero bytes. */
    signature: z.enum(['valid', 'invalid']).default('valid'),
    tableKind: z.enum(['exclude', 'refresh']).default('exclude'),
    /** heartbeat: the TEK it claims: the next version, or the current version at a later revision. */
    claim: z.enum(['next-version', 'next-revision']).default('next-version'),
    /** revision: how far the claimed TEK revision jumps (the real bomb is 2^32 - 1; see docs). */
    jump: z.number().int().min(1).max(2 ** 32 - 1).default(100_000),
    /** member-admitted: the sybil identities announced; data: how many packets; fetch-reply-nested: depth. */
    sybils: z.array(name).optional(),
    count: z.number().int().min(1).max(100_000).default(1),
    /** replay: the type of publication re-injected and its original author. */
    replay: z.object({ type: z.enum(['Heartbeat', 'Revision', 'MemberAdmitted', 'Table', 'Leave']), from: name }).optional(),
  }),
]);
export type ScenarioEvent = z.infer<typeof ScenarioEvent>;

export const Scenario = z.object({
  /** What the scenario shows (free text, not used by the run). */
  description: z.string().max(2000).optional(),
  params: z
    .object({
      W: z.number().int().min(1).max(64).default(16),
      V: z.number().int().min(2).max(256).default(16),
      heartbeatMs: z.number().int().min(10).default(1000),
      graceMs: z.number().int().min(100).default(120_000),
      listenMs: z.number().int().min(10).optional(),
      refreshRevisionMs: z.number().int().min(0).default(0),
      refreshVersionMs: z.number().int().min(0).default(0),
      failoverIntervals: z.number().int().min(1).default(3),
      fetchAfterMs: z.number().int().min(10).optional(),
      panelSize: z.number().int().min(0).max(64).default(0),
    })
    .default({}),
  network: z
    .object({
      latencyMs: z.tuple([z.number().min(0), z.number().min(0)]).default([5, 40]),
      loss: z.number().min(0).max(1).default(0),
    })
    .default({}),
  peers: z
    .array(
      z.object({
        name,
        id: z.string().regex(/^[0-9a-fA-F]+$/).optional(),
        /** The identity key sorts below this (earlier-listed) peer's key: key-order tie-breaks become part of the scenario. */
        keyBelow: name.optional(),
      }),
    )
    .default([]),
  events: z.array(ScenarioEvent),
  until: z.number().min(0),
  /** Settle window for the `missed` check (docs/simulator.md); default derived from params. */
  settleMs: z.number().min(0).optional(),
});
export type Scenario = z.infer<typeof Scenario>;

export function parseScenario(json: unknown): Scenario {
  const r = Scenario.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new Error(`invalid scenario at ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}
