/**
 * The app frame's state of the peer: its status (who we are), the group list, the
 * selected group and that group's members. Everything is fetched from the peer and
 * never edited here: on (re)connect, on the pushed events that change it (bursts
 * coalesced into one refresh, 120 ms), and when a screen asks (`soon`).
 *
 * Invariants: `selected` is always a group in the list (or null when there is
 * none); it falls back to the first group this device is a member of.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { GroupSummary, Member, Result } from '../../app/api/contract.js';
import type { ConclaveClient, LinkState } from './client.js';
import { errorText, useEvent } from './context.js';
import { showBrowserNotification } from './notifications.js';
import type { Notify } from './toasts.js';

export interface GroupsStore {
  status: Result<'status'> | null;
  /** null until the first answer. */
  groups: GroupSummary[] | null;
  selected: string | null;
  select(group: string): void;
  /** Members of the selected group. */
  members: Member[];
  refreshGroups(): Promise<void>;
  refreshMembers(): Promise<void>;
  /** Refreshes the group list shortly, coalescing bursts. */
  soon(): void;
}

export function useGroupsStore(client: ConclaveClient, link: LinkState, notify: Notify): GroupsStore {
  const [status, setStatus] = useState<Result<'status'> | null>(null);
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [members, setMembers] = useState<Member[]>([]);

  const refreshGroups = useCallback(async () => {
    try {
      const [s, list] = await Promise.all([client.call('status', {}), client.call('group.list', {})]);
      setStatus(s);
      setGroups(list);
      setSelected((cur) => (cur && list.some((g) => g.group === cur) ? cur : (list.find((g) => g.state === 'member')?.group ?? list[0]?.group ?? null)));
    } catch (err) {
      notify(`Cannot reach the peer: ${errorText(err)}`);
    }
  }, [client, notify]);

  const refreshMembers = useCallback(async () => {
    if (!selected) return setMembers([]);
    try {
      setMembers(await client.call('group.members', { group: selected }));
    } catch {
      /* shown as an empty list; the next event refreshes */
    }
  }, [client, selected]);

  useEffect(() => {
    if (link === 'open') void refreshGroups();
  }, [link, refreshGroups]);
  useEffect(() => {
    void refreshMembers();
  }, [refreshMembers]);

  // Coalesce bursts of events into one list refresh.
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const soon = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void refreshGroups(), 120);
  }, [refreshGroups]);

  useEvent(client, 'chat.message', (m) => {
    soon();
    // The desktop shell notifies from the main process; a browser tab does it itself.
    if (client.transport === 'websocket' && document.hidden && m.sender !== status?.peerId) showBrowserNotification(m, groups);
  });
  // A join's last stage brings the roster: the member list fetched while joining showed this
  // member alone, and no group.member event need follow (its fellow members were admitted
  // before it, and its connection to them may be open already).
  useEvent(client, 'group.joinProgress', (e) => {
    soon();
    if (e.group === selected && e.stage === 'keys-received') void refreshMembers();
  });
  useEvent(client, 'group.member', (e) => {
    soon();
    if (e.group === selected) void refreshMembers();
    // Its own exclusion fell with its excluder's in an admins' race (docs/protocol.md §8.2).
    if (e.change === 'reinstated' && e.peerId === status?.peerId) {
      const g = groups?.find((x) => x.group === e.group);
      notify(`You are a member of ${g?.name ?? 'a group'} again: the admin who removed you was removed at the same moment.`, 'info');
    }
  });
  // Its state file could not be written (a full disk), or was written again: the group view's banner follows the list.
  useEvent(client, 'group.storage', (e) => {
    soon();
    const g = groups?.find((x) => x.group === e.group);
    if (!e.saved) notify(`Could not save ${g?.name ?? 'a group'} on this device: ${e.detail ?? 'write failed'}.`);
    else notify(`${g?.name ?? 'The group'} is saved on this device again.`, 'info');
  });
  useEvent(client, 'group.excluded', (e) => {
    soon();
    if (e.group === selected) void refreshMembers();
    const g = groups?.find((x) => x.group === e.group);
    notify(`You were removed from ${g?.name ?? 'a group'}. You will not receive its new messages.`, 'info');
  });

  return { status, groups, selected, select: setSelected, members, refreshGroups, refreshMembers, soon };
}
