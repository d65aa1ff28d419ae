/**
 * Which screen shows: onboarding (create or join; forced while there is no group,
 * opened by `+` or by a join link) or the shell with the selected group's tabs
 * (chat, board, members, invite, network, keys). Alt+1…6 picks a tab.
 *
 * Also remembers the invite made when a group was created, so the Invite tab
 * shows it first instead of making another.
 */
import { useCallback, useState } from 'react';

export const TABS = [
  { id: 'chat', label: 'Chat', icon: 'chat' },
  { id: 'board', label: 'Board', icon: 'board' },
  { id: 'members', label: 'Members', icon: 'members' },
  { id: 'invite', label: 'Invite', icon: 'invite' },
  { id: 'network', label: 'Network', icon: 'network' },
  { id: 'keys', label: 'Keys', icon: 'key' },
] as const;
export type Tab = (typeof TABS)[number]['id'];

/** The tab an Alt+digit shortcut names, or null. */
export function tabOfShortcut(e: { altKey: boolean; key: string }): Tab | null {
  return e.altKey && /^[1-6]$/.test(e.key) ? TABS[Number(e.key) - 1]!.id : null;
}

export interface Route {
  tab: Tab;
  setTab(tab: Tab): void;
  onboarding: boolean;
  /** Opens onboarding, optionally with an invite to join filled in. */
  openOnboarding(invite?: string): void;
  closeOnboarding(): void;
  /** An invite handed in from outside (a join link), filled into onboarding's join form. */
  joinLink: string | undefined;
  /** group → the invite the peer made when this device created that group. */
  createdInvites: Record<string, string>;
  /** Onboarding finished: the group was created (with its invite) or joined. */
  arrived(group: string, invite: string | undefined): void;
}

export function useRoute(): Route {
  const [tab, setTab] = useState<Tab>('chat');
  const [onboarding, setOnboarding] = useState(false);
  const [joinLink, setJoinLink] = useState<string | undefined>(undefined);
  const [createdInvites, setCreatedInvites] = useState<Record<string, string>>({});

  const openOnboarding = useCallback((invite?: string) => {
    if (invite !== undefined) setJoinLink(invite);
    setOnboarding(true);
  }, []);
  const closeOnboarding = useCallback(() => setOnboarding(false), []);
  const arrived = useCallback((group: string, invite: string | undefined) => {
    setOnboarding(false);
    setJoinLink(undefined);
    if (invite) setCreatedInvites((m) => ({ ...m, [group]: invite }));
    setTab('chat');
  }, []);

  return { tab, setTab, onboarding, openOnboarding, closeOnboarding, joinLink, createdInvites, arrived };
}
