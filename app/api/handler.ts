/**
 * @module api/handler
 * The transport-independent side of the control API: one `ApiHandler` that
 * validates every call's params against the contract (api/contract.ts),
 * dispatches to the peer's implementation, validates the result, and fans peer
 * events out to subscribers. The WebSocket server (api/server.ts), Electron's IPC
 * bridge and tests all drive this same object.
 *
 * Invariants:
 * - Nothing unvalidated reaches an implementation; an invalid call is an
 *   ApiError(invalidParams) that changes nothing.
 * - Implementations signal refusals with ApiError; any other exception becomes
 *   ApiError(internal) with a generic message (no secrets or stack in replies).
 * - `auth` belongs to the transport and is not dispatched here.
 */
import { ErrorCodes, Events, Methods, type EventName, type EventPayload, type MethodName, type Params, type Result } from './contract.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export type PeerMethods = { [M in Exclude<MethodName, 'auth'>]: (params: Params<M>) => Promise<Result<M>> | Result<M> };

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export interface ApiHandler {
  /** Validate and run one method. Rejects with ApiError. */
  call(method: string, params: unknown): Promise<unknown>;
  /** Receive every event the peer pushes; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
}

export interface EventSink {
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

/** System error codes of a write this device could not make, and what the user can do about each. */
const STORAGE_FAILURES: Record<string, string> = {
  ENOSPC: 'ENOSPC: the disk is full',
  EDQUOT: 'EDQUOT: the disk quota is used up',
  EROFS: 'EROFS: the profile is on a read-only file system',
  EIO: 'EIO: the disk reported an error',
};

/** The storage failure an error from Node's fs stands for, named by its code alone (never its path). */
export function storageFailure(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(STORAGE_FAILURES, code) ? STORAGE_FAILURES[code]! : null;
}

export function createApiHandler(methods: PeerMethods, onInternalError?: (method: string, err: unknown) => void): ApiHandler & EventSink {
  const listeners = new Set<EventListener>();
  return {
    async call(method: string, params: unknown): Promise<unknown> {
      if (method === 'auth' || !Object.prototype.hasOwnProperty.call(Methods, method)) {
        throw new ApiError(ErrorCodes.methodNotFound, `unknown method ${JSON.stringify(String(method).slice(0, 64))}`);
      }
      const name = method as Exclude<MethodName, 'auth'>;
      const schema = Methods[name];
      const parsed = schema.params.safeParse(params ?? undefined);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ApiError(ErrorCodes.invalidParams, `invalid params for ${name}: ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`);
      }
      let result: unknown;
      try {
        const impl = methods[name] as (p: unknown) => unknown;
        result = await impl(parsed.data);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        onInternalError?.(name, err);
        const storage = storageFailure(err);
        if (storage) throw new ApiError(ErrorCodes.storage, `${name} failed: this device could not write to its disk (${storage})`);
        throw new ApiError(ErrorCodes.internal, `${name} failed`);
      }
      const checked = schema.result.safeParse(result);
      if (!checked.success) {
        onInternalError?.(name, checked.error);
        throw new ApiError(ErrorCodes.internal, `${name} produced an invalid result`);
      }
      return checked.data;
    },
    subscribe(listener: EventListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
      const checked = Events[event].safeParse(payload);
      if (!checked.success) {
        onInternalError?.(`event ${event}`, checked.error);
        return;
      }
      for (const listener of listeners) {
        try {
          listener(event, payload);
        } catch (err) {
          onInternalError?.(`listener for ${event}`, err);
        }
      }
    },
  };
}
