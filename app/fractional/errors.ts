/**
 * @module fractional/errors
 * The two kinds of protocol error of STYLE §7, for the panel module, plus a bug
 * marker. A `LocalProtocolError` means our caller misused the API (wrong panel
 * size, a command in the wrong state): it is thrown. A peer's bad message is
 * never thrown: it becomes a `rejected` event carrying a `PanelRejectReason`.
 * `BugError` marks a broken internal invariant.
 *
 * Seed: 004 §V (the panel-size rule behind `panel-too-small`).
 */

export class LocalProtocolError extends Error {
  constructor(
    readonly code:
      | 'panel-too-small'
      | 'panel-too-large'
      | 'bad-member'
      | 'not-in-panel'
      | 'not-initiator'
      | 'wrong-state'
      | 'bad-time'
      | 'bad-recovery'
      | 'bad-snapshot',
    message: string,
  ) {
    super(message);
    this.name = 'LocalProtocolError';
  }
}

export class BugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BugError';
  }
}

/** Why a panel message was refused. A rejected message never changes the session's state. */
export type PanelRejectReason =
  | 'decode' // truncated, oversized, malformed field
  | 'wire-version'
  | 'not-member' // the transport's sender is not on the panel
  | 'decrypt-failed'
  | 'bad-signature'
  | 'wrong-sender' // the signed sender differs from the transport's sender
  | 'wrong-recipient'
  | 'stale' // timestamp outside the accepted skew window
  | 'wrong-epoch'
  | 'wrong-mode' // a mode (I/G/R) the session is not in, or a mode/kind mismatch
  | 'wrong-iteration'
  | 'unexpected' // the right mode but a message this member should not get now, or from this sender
  | 'replay' // a second message of the same kind from the same sender in one process
  | 'state-mismatch' // the sender's digest of the shared public state differs from ours
  | 'bad-commitment' // a value that contradicts the sender's own commitment (a cheater event follows)
  | 'buffer-full';
