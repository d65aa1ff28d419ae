/**
 * @module peer/params
 * The group parameters a real peer creates groups with, and the schema that
 * validates parameters arriving from outside (inside an invite). Bounds are wide
 * enough for any sane group and tight enough that a hostile invite cannot make a
 * peer allocate V·W slots by the million or spin a zero-interval timer.
 */
import { z } from 'zod';
import type { ExclusionPolicy, GroupParams } from '../core/types.js';
import { DEFAULT_PARAMS } from '../core/params.js';

const MemberKeyHex = z.string().regex(/^[0-9a-f]{64}$/);

export const ExclusionPolicySchema = z.union([
  z.object({ exclude: z.literal('any-member') }).strict(),
  z.object({ exclude: z.literal('admins'), admins: z.array(MemberKeyHex).max(1000) }).strict(),
]);

export const GroupParamsSchema = z
  .object({
    W: z.number().int().min(1).max(64),
    V: z.number().int().min(2).max(256).refine((v) => (v & (v - 1)) === 0, 'V must be a power of two'),
    heartbeatMs: z.number().int().min(100).max(600_000),
    graceMs: z.number().int().min(0).max(7 * 86_400_000),
    listenMs: z.number().int().min(0).max(600_000),
    refreshRevisionMs: z.number().int().min(0).max(30 * 86_400_000),
    refreshVersionMs: z.number().int().min(0).max(30 * 86_400_000),
    failoverIntervals: z.number().int().min(1).max(100),
    fetchAfterMs: z.number().int().min(0).max(600_000),
    panelSize: z.number().int().min(0).max(64),
    policy: ExclusionPolicySchema,
  })
  .strict();

/**
 * A real peer's heartbeat: every 5 s. Every key holder heartbeats, and in a group
 * of N most members hold a key: at 1 s (core's default, kept by the simulator) an
 * idle ten-member group cost each member about 6 % of a core, 2 % at 5 s
 * (docs/performance.md "Fifty real peers"). The price: a silent holder is taken
 * over after failoverIntervals × 5 s = 15 s instead of 3 s. Beyond sixteen members
 * the core stretches KEK owners' intervals further (heartbeatStretch, §4).
 */
const PEER_HEARTBEAT_MS = 5000;

/** Core's defaults with a 5 s heartbeat, a new TEK version every hour (002 key lifetimes) and the chosen policy. */
export function defaultParams(policy: ExclusionPolicy): GroupParams {
  return { ...DEFAULT_PARAMS, heartbeatMs: PEER_HEARTBEAT_MS, refreshVersionMs: 3_600_000, policy };
}
