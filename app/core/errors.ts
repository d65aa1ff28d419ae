/**
 * @module core/errors
 * The three kinds of failure (STYLE §7, after h11):
 * - LocalProtocolError: our own caller misused the engine (thrown to the caller).
 * - RemoteProtocolError: a peer sent something bad. Used only inside the engine;
 *   it is caught at the input boundary and becomes a `rejected` event, never a throw.
 * - BugError: an invariant of ours broke.
 */
import type { RejectReason } from './types.js';

export class LocalProtocolError extends Error {
  override name = 'LocalProtocolError';
}

export class RemoteProtocolError extends Error {
  override name = 'RemoteProtocolError';
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(detail);
  }
}

export class BugError extends Error {
  override name = 'BugError';
}

/** Throws a RemoteProtocolError unless `condition` holds. */
export function ensure(condition: unknown, reason: RejectReason, detail: string): asserts condition {
  if (!condition) throw new RemoteProtocolError(reason, detail);
}
