/**
 * The one object the Electron preload exposes as `window.conclave` (STYLE §11):
 * the control-API contract and nothing else, plus the join links the shell
 * receives from the OS (`conclave://join/...`). Main validates every payload
 * that crosses it against `app/api/contract.ts`; the renderer never sees a
 * secret or a Node API.
 */
import type { EventName, EventPayload, MethodName, Params, Result } from '../../app/api/contract.js';

export interface ConclaveBridge {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  /** Subscribes to one pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Invites opened from outside the app (protocol handler, second instance). */
  onJoinLink(listener: (invite: string) => void): () => void;
}

/** IPC channel names shared by preload and main. */
export const IPC = {
  call: 'conclave:call',
  event: 'conclave:event',
  joinLink: 'conclave:join-link',
  ready: 'conclave:ready',
} as const;
