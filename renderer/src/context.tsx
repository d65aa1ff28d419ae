/** What every screen needs: the client, who we are, and a way to report errors. */
import { createContext, useContext, useEffect, useEffectEvent } from 'react';
import type { EventName, EventPayload } from '../../app/api/contract.js';
import type { ConclaveClient } from './client.js';

export interface Session {
  client: ConclaveClient;
  selfPeerId: string;
  selfName: string;
  notify(message: string, kind?: 'error' | 'info'): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionContext');
  return s;
}

/**
 * Subscribes to a pushed event for the component's lifetime; the latest handler is
 * always used (React 19.2's `useEffectEvent`: the handler sees the latest props and
 * state without re-subscribing when they change).
 */
export function useEvent<E extends EventName>(client: ConclaveClient, event: E, handler: (payload: EventPayload<E>) => void): void {
  const onEvent = useEffectEvent(handler);
  useEffect(() => client.on(event, (p) => onEvent(p)), [client, event]);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
