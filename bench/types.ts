/**
 * @module bench/types
 * The shape of `bench/results/latest.json` (issue 7), one object per run. The
 * keys required by the issue come first in each type; the few extra keys carry
 * measurements the issue asks for that its JSON shape has no field for, and are
 * marked as extras.
 */
import type { ScaleResult } from '../app/sim/scale.js';

export type SchemeName = 'conclave' | 'mls' | 'lkh' | 'pairwise';
export type RekeyOp = 'join' | 'leave' | 'refresh';

/** One operation of one scheme at one group size N (members before the operation). */
export interface RekeyRow {
  scheme: SchemeName;
  op: RekeyOp;
  n: number;
  /** Every byte the operation puts on the wire (a multicast counted once). */
  bytes: number;
  /** Bytes that members already in the group must receive for the operation. */
  bytesToExisting: number;
  /** Messages put on the wire (a multicast counts as one). */
  messages: number;
  /** CPU ms at the member that performs the operation (median of repeats). */
  initiatorMs: number;
  /** CPU ms at one receiving member: the one with the most work (median). */
  receiverMs: number;
  /** Secret keys a member stores for the group after the operation. */
  keysPerMember: number;
  /** issue 17: CPU ms of the operation summed over every member (initiator included). */
  groupCpuMs?: number;
  /** issue 17: bytes received for the operation summed over every member (a multicast counted at each receiver). */
  groupBytesIn?: number;
  /** extra (conclave): 'simulated' (every member an engine) or 'sampled' (bench/schemes/conclave-large.ts). */
  method?: 'simulated' | 'sampled';
}

/** CPU ms and Ed25519 operations of one member for one operation. */
export interface RoleCost {
  ms: number;
  verifies: number;
  signs: number;
}

/** Receives by message type name: how many, CPU ms summed, Ed25519 verifies summed. */
export type SecurityMessages = Record<string, { count: number; cpuMs: number; verifies: number }>;

/** One received message type: mean CPU µs per message and Ed25519 verifies per message. */
export interface PerMessageCost {
  count: number;
  cpuUs: number;
  verifies: number;
}

/**
 * extra (issue 14): what the engine's authorization checks cost, per group size, measured
 * through the real engine in the simulator runs of the join and the leave.
 */
export interface SecurityRow {
  n: number;
  /** Per received message, by type name (Heartbeat, Data, Table, MemberAdmitted, …). */
  perMessage: Record<string, PerMessageCost>;
  admission: { admitter: RoleCost; newcomer: RoleCost; existing: RoleCost } | null;
  exclusion: { excluder: RoleCost; receiver: RoleCost } | null;
}

export interface ConvergenceRow {
  n: number;
  /** Simultaneous exclusions, each by a different member. */
  k: number;
  /** Virtual ms from the exclusions until every remaining member holds the same new TEK (null: not within the window). */
  ms: number | null;
}

/** Issue 17 item 3: a group split into `parts` partitions, one exclusion in each, then healed. */
export interface PartitionHealRow {
  n: number;
  parts: number;
  /** Bytes put on the wire from the heal until every member holds one TEK (heartbeats left out; a multicast counts once). */
  bytes: number;
  /** The same bytes counted at every member that received them. */
  bytesIn: number;
  /** Virtual ms from the heal until every remaining member holds the same TEK and blocklist (null: not within the window). */
  ms: number | null;
  /** Heartbeat bytes sent in the same interval (they go on regardless; not in `bytes`). */
  heartbeatBytes: number;
  /** Non-heartbeat messages in the interval, by type. */
  byType: Record<string, { count: number; bytes: number }>;
}

export interface NetworkResult {
  peers: number;
  chatP50Ms: number;
  chatP95Ms: number;
  joinMs: number;
  exclusionMs: number;
  /** extra: the issue asks for the maximum too. */
  chatMaxMs?: number;
  /** extra: how many chat deliveries the percentiles are over. */
  chatSamples?: number;
  /** extra: deliveries expected but not seen within 15 s. */
  chatMissing?: number;
  /**
   * extra: CPU used while the chat messages were sent, in cores (1 = one core
   * busy throughout): by the peers' processes, by everything else on the
   * machine, and the machine's core count (Linux only).
   */
  chatCpu?: { peersCores: number; otherCores: number; cores: number };
  /** NAT testbed (bench/nat.ts, issue 16): join across two NATs until both read each other, ms. */
  natJoinMs?: number;
  /** NAT testbed: from the joiner's start until its connection to the inviter is direct (hole punch), ms. */
  directAfterMs?: number;
  /** NAT testbed: from a move to a third NAT (same process) until both read each other again, ms. */
  roamMs?: number;
  /** CPU of the peers' processes while the group is idle (heartbeats only), % of one core per peer. */
  idleCpuPct?: number;
  /** Resident memory of the peers' processes per peer, MB (the runtime of each host process included). */
  rssMB?: number;
  /** extra: resident memory per peer beyond that of the empty host processes, MB. */
  rssPerExtraPeerMB?: number;
  /** extra: resident memory of one host process before any peer starts in it, MB. */
  rssHostBaseMB?: number;
  /** extra: Node processes the peers ran in (bench/peers-in-process.ts). */
  hosts?: number;
  /** extra: length of the idle CPU window, ms. */
  idleWindowMs?: number;
  /** extra: gossipsub messages each peer accepted per second while idle (heartbeats), connections per peer, connections opened while idle. */
  idleMsgsPerPeerSec?: number;
  connectionsPerPeer?: number;
  idleConnectionsOpened?: number;
  /** extra: ms from the first join until every peer but the last was a member. */
  formMs?: number;
  /** issue 19 (bench/catchup.ts): ms from a restarted member's start until it holds all `catchupMissed` messages it missed. */
  catchupMs?: number;
  /** issue 19: catchupMissed / catchupMs, messages per second. */
  catchupMsgsPerSec?: number;
  /** issue 19: how many messages the member missed. */
  catchupMissed?: number;
}

export interface CryptoResult {
  encryptPerSec: number;
  decryptPerSec: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  date: string;
  quick: boolean;
  tsMls: string;
  gitCommit: string;
}

/** issue 17 item 6 (bench/scale.ts, app/sim/scale.ts: the fields are documented there), with the child's peak RSS. */
export type ScaleRow = ScaleResult & { peakRssMB: number };

export interface BenchResults {
  machine: MachineInfo;
  /** issue 18 §1 (bench/files.ts): one file between two peers on loopback, MiB/s, and chat p95 (ms) while it goes. */
  files?: { throughputMBps: number; chatP95DuringMs: number; sizeMB: number };
  rekey: RekeyRow[];
  convergence: ConvergenceRow[];
  /** extra (issue 17 item 6): the scale scenario (N = 10,000, or the largest fallback that fits in memory; 500 in a --quick run). */
  scale10k?: ScaleRow | { n: number; exclusions: number; error: string };
  /** extra (issue 17 item 3): partitions healed. */
  partitionHeal?: PartitionHealRow[];
  /** The largest real-network run (50 peers; 10 where only that ran). */
  network: NetworkResult | null;
  /** extra (issue 17 item 5): every real-network run of this bench, smallest first (10 and 50 peers). */
  networkSizes?: NetworkResult[];
  crypto: CryptoResult;
  /**
   * extra: heartbeat control bytes per member per minute in steady state, per N:
   * `bytesPerMemberPerMin` is what each member receives (every heartbeat of the
   * group); `sentPerMemberPerMin` the average a member sends.
   */
  heartbeat?: { n: number; bytesPerMemberPerMin: number; sentPerMemberPerMin: number; receivedPerMemberPerMin: number }[];
  /** extra (issue 14): the cost of the security checks, per N. */
  security?: SecurityRow[];
  /** extra (issue 14): one Ed25519 operation through the engine's provider, CPU µs. */
  ed25519?: { verifyUs: number; signUs: number };
  /** extra: what was not measured in this run, and why; and how things were measured. */
  notes: string[];
}
