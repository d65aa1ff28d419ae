/**
 * The link to the peer, as the app frame follows it: whether the peer is reachable
 * (`onLinkState`), and invites handed in from outside (desktop `conclave://` links,
 * `onJoinLink`). Reconnecting is the transport's job (`ws-client.ts`); this only
 * reports it, and the group store refreshes everything when the link opens again.
 */
import { useEffect, useState } from 'react';
import type { ConclaveClient, LinkState } from './client.js';

export function useLinkState(client: ConclaveClient): LinkState {
  const [link, setLink] = useState<LinkState>('connecting');
  useEffect(() => client.onLinkState(setLink), [client]);
  return link;
}

/** Calls `onInvite` for every join link handed to the app while it runs. */
export function useJoinLinks(client: ConclaveClient, onInvite: (invite: string) => void): void {
  useEffect(() => client.onJoinLink(onInvite), [client, onInvite]);
}
