/**
 * @module bench/types
 * The shape of `bench/results/latest.json` (issue 7), one object per run. The
 * keys required by the issue come first in each type; the few extra keys carry
 * measurements the issue asks for that its JSON shape has no field for, and are
 * marked as extras.
 */

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
}

export interface ConvergenceRow {
  n: number;
  /** Simultaneous exclusions, each by a different member. */
  k: number;
  /** Virtual ms from the exclusions until every remaining member holds the same new TEK (null: not within the window). */
  ms: number | null;
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

export interface BenchResults {
  machine: MachineInfo;
  rekey: RekeyRow[];
  convergence: ConvergenceRow[];
  network: NetworkResult | null;
  crypto: CryptoResult;
  /**
   * extra: heartbeat control bytes per member per minute in steady state, per N:
   * `bytesPerMemberPerMin` is what each member receives (every heartbeat of the
   * group); `sentPerMemberPerMin` the average a member sends.
   */
  heartbeat?: { n: number; bytesPerMemberPerMin: number; sentPerMemberPerMin: number; receivedPerMemberPerMin: number }[];
  /** extra: what was not measured in this run, and why; and how things were measured. */
  notes: string[];
}
