/**
 * The renderer's one way to reach its peer. Two transports implement it: the
 * Electron preload bridge (`bridge-client.ts`) and JSON-RPC 2.0 over a
 * WebSocket (`ws-client.ts`, browser mode). Components only see this interface.
 */
import type { EventName, EventPayload, MethodName, Params, Result } from '../../app/api/contract.js';

/**
 * `refused`: the peer answered but did not accept this page's access token (a
 * wrong token, or a peer restarted since: each start prints a new one). Final:
 * the transport stops retrying.
 */
export type LinkState = 'connecting' | 'open' | 'closed' | 'refused';

export interface ConclaveClient {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Invites handed to the app from outside (desktop join links); browser mode never fires. */
  onJoinLink(listener: (invite: string) => void): () => void;
  /** Whether the peer is reachable right now; the bridge is always open. */
  onLinkState(listener: (state: LinkState) => void): () => void;
  readonly transport: 'electron' | 'websocket';
}

/** Error raised when the peer answers a call with a JSON-RPC error. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** A tiny typed listener set, used by both transports. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();
  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(value: T): void {
    for (const l of [...this.set]) {
      try {
        l(value);
      } catch (err) {
        console.error('listener failed', err);
      }
    }
  }
  get size(): number {
    return this.set.size;
  }
}
