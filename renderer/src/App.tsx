/**
 * The app frame: connects to the peer, shows onboarding until there is a group,
 * then the group list (sidebar) and the selected group's screens as tabs — chat,
 * board, members, invite, network, keys.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GroupSummary, Member, Result } from '../../app/api/contract.js';
import { Board } from './Board.js';
import { Chat } from './Chat.js';
import type { ConclaveClient, LinkState } from './client.js';
import { SessionContext, errorText, useEvent, type Session } from './context.js';
import { FeedStore } from './feed.js';
import { hueOf, initials, shortId } from './identity.js';
import { Icon } from './Icon.js';
import { Invite } from './Invite.js';
import { KeyPanel } from './KeyPanel.js';
import { Members } from './Members.js';
import { Network } from './Network.js';
import { Logo, Onboarding } from './Onboarding.js';
import { NotificationToggle, showBrowserNotification } from './notifications.js';
import { useTheme, ThemeToggle } from './theme.js';

const TABS = [
  { id: 'chat', label: 'Chat', icon: 'chat' },
  { id: 'board', label: 'Board', icon: 'board' },
  { id: 'members', label: 'Members', icon: 'members' },
  { id: 'invite', label: 'Invite', icon: 'invite' },
  { id: 'network', label: 'Network', icon: 'network' },
  { id: 'keys', label: 'Keys', icon: 'key' },
] as const;
type Tab = (typeof TABS)[number]['id'];

interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export function App({ client }: { client: ConclaveClient }) {
  const [link, setLink] = useState<LinkState>('connecting');
  const [status, setStatus] = useState<Result<'status'> | null>(null);
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('chat');
  const [onboarding, setOnboarding] = useState(false);
  const [joinLink, setJoinLink] = useState<string | undefined>(undefined);
  const [createdInvites, setCreatedInvites] = useState<Record<string, string>>({});
  const [members, setMembers] = useState<Member[]>([]);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [theme, setTheme] = useTheme();
  const store = useMemo(() => new FeedStore(client), [client]);
  const toastSeq = useRef(0);

  const notify = useCallback((text: string, kind: 'error' | 'info' = 'error') => {
    const id = ++toastSeq.current;
    setToasts((t) => [...t.slice(-3), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);

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

  useEffect(() => client.onLinkState(setLink), [client]);
  useEffect(() => {
    if (link === 'open') void refreshGroups();
  }, [link, refreshGroups]);
  useEffect(() => {
    void refreshMembers();
  }, [refreshMembers]);
  useEffect(
    () =>
      client.onJoinLink((invite) => {
        setJoinLink(invite);
        setOnboarding(true);
      }),
    [client],
  );

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
  useEvent(client, 'group.joinProgress', soon);
  useEvent(client, 'group.member', (e) => {
    soon();
    if (e.group === selected) void refreshMembers();
  });
  useEvent(client, 'group.excluded', (e) => {
    soon();
    if (e.group === selected) void refreshMembers();
    const g = groups?.find((x) => x.group === e.group);
    notify(`You were removed from ${g?.name ?? 'a group'}. You will not receive its new messages.`, 'info');
  });

  const session: Session | null = useMemo(
    () => (status ? { client, selfPeerId: status.peerId, selfName: status.name, notify } : null),
    [client, status, notify],
  );

  const current = groups?.find((g) => g.group === selected) ?? null;

  // The window (desktop) or tab (browser) title carries the unread total.
  const unreadTotal = (groups ?? []).reduce((n, g) => n + (g.group === selected && tab === 'chat' ? 0 : g.unread), 0);
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) Conclave` : 'Conclave';
  }, [unreadTotal]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.altKey && /^[1-6]$/.test(e.key)) {
      e.preventDefault();
      setTab(TABS[Number(e.key) - 1]!.id);
    }
  };

  if (!session || groups === null) {
    return (
      <div className="app-loading" data-theme-ready>
        <Logo size={56} />
        <p className="muted">{link === 'closed' ? 'Cannot reach your peer. Retrying…' : 'Connecting to your peer…'}</p>
      </div>
    );
  }

  const showOnboarding = onboarding || groups.length === 0;

  return (
    <SessionContext.Provider value={session}>
      {link !== 'open' && (
        <div className="link-banner" role="status">
          Connection to your peer was lost — reconnecting…
        </div>
      )}
      {showOnboarding ? (
        <Onboarding
          client={client}
          initialName={status!.name}
          initialInvite={joinLink}
          onCancel={groups.length > 0 ? () => setOnboarding(false) : undefined}
          onDone={(group, invite) => {
            setOnboarding(false);
            setJoinLink(undefined);
            if (invite) setCreatedInvites((m) => ({ ...m, [group]: invite }));
            setSelected(group);
            setTab('chat');
            void refreshGroups();
          }}
        />
      ) : (
        <div className="shell" onKeyDown={onKeyDown}>
          <aside className="sidebar">
            <div className="brand">
              <Logo size={30} />
              <span>Conclave</span>
            </div>
            <div className="sidebar-section">
              <span className="section-label">Groups</span>
              <button type="button" className="ghost icon-btn" onClick={() => setOnboarding(true)} title="New group or join" data-testid="new-group" aria-label="New group or join">
                <Icon name="plus" />
              </button>
            </div>
            <nav className="group-list" aria-label="Groups" data-testid="group-list">
              {groups.map((g) => (
                <button
                  type="button"
                  key={g.group}
                  className={`group-item ${g.group === selected ? 'on' : ''} state-${g.state}`}
                  onClick={() => setSelected(g.group)}
                  data-testid="group-item"
                  data-group={g.group}
                  aria-current={g.group === selected}
                  style={{ ['--h' as string]: hueOf(g.group) }}
                >
                  <span className="avatar square">{initials(g.name)}</span>
                  <span className="group-text">
                    <span className="group-name">{g.name}</span>
                    <span className="muted small">
                      {g.state === 'member' ? `${g.members} ${g.members === 1 ? 'member' : 'members'}` : g.state}
                    </span>
                  </span>
                  {g.unread > 0 && !(g.group === selected && tab === 'chat') && (
                    <span className="unread" data-testid="group-unread" aria-label={`${g.unread} unread`}>
                      {g.unread > 99 ? '99+' : g.unread}
                    </span>
                  )}
                </button>
              ))}
            </nav>
            <div className="me" style={{ ['--h' as string]: hueOf(session.selfPeerId) }}>
              <span className="avatar">{initials(session.selfName || '?')}</span>
              <span className="me-text">
                <strong>{session.selfName || 'Unnamed'}</strong>
                <span className="muted small mono" title={session.selfPeerId}>
                  {shortId(session.selfPeerId)}
                </span>
              </span>
              {client.transport === 'websocket' && <NotificationToggle />}
              <ThemeToggle theme={theme} setTheme={setTheme} />
            </div>
            <div className="transport muted small">
              <span className={`link-dot ${link}`} /> {client.transport === 'electron' ? 'Desktop' : 'Browser'} · peer {link === 'open' ? 'connected' : link}
            </div>
          </aside>

          <main className="main">
            {current ? (
              <>
                <header className="group-head">
                  <div className="group-title">
                    <h1>{current.name}</h1>
                    <span className="muted small">
                      <span className="e2e">
                        <Icon name="lock" size={12} /> End-to-end encrypted
                      </span> · {current.members} {current.members === 1 ? 'member' : 'members'} · {members.filter((m) => m.online && m.state === 'member').length} online
                    </span>
                  </div>
                  <div className="tabs" role="tablist" aria-label="Group views">
                    {TABS.map((t, i) => (
                      <button
                        type="button"
                        role="tab"
                        key={t.id}
                        aria-selected={tab === t.id}
                        className={tab === t.id ? 'on' : ''}
                        onClick={() => setTab(t.id)}
                        data-testid={`tab-${t.id}`}
                        title={`${t.label} (Alt+${i + 1})`}
                        onKeyDown={(e) => {
                          if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                            const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]!;
                            setTab(next.id);
                            (e.currentTarget.parentElement?.children[TABS.indexOf(next)] as HTMLElement | undefined)?.focus();
                          }
                        }}
                      >
                        <Icon name={t.icon} size={15} className="tab-icon" />
                        {t.label}
                      </button>
                    ))}
                  </div>
                </header>
                {current.state === 'excluded' && (
                  <div className="excluded-banner" data-testid="excluded-banner" role="alert">
                    <strong>You were removed from this group.</strong> Its keys were replaced: new messages and strokes can no longer reach you. History you already had stays readable here.
                  </div>
                )}
                {current.state === 'left' && (
                  <div className="info-banner" role="status">
                    You left this group. History you had stays readable here; you need a new invite to return.
                  </div>
                )}
                {current.state === 'joining' && (
                  <div className="info-banner" role="status">
                    Joining — waiting for a member to admit you and hand over keys…
                  </div>
                )}
                <div className="tab-body" role="tabpanel">
                  {tab === 'chat' && <Chat group={current} members={members} store={store} active onRead={soon} />}
                  {tab === 'board' && <Board group={current} store={store} active />}
                  {tab === 'members' && (
                    <Members
                      group={current}
                      members={members}
                      onChanged={() => {
                        void refreshMembers();
                        soon();
                      }}
                    />
                  )}
                  {tab === 'invite' && <Invite key={current.group} group={current} initialInvite={createdInvites[current.group]} />}
                  {tab === 'network' && <Network members={members} />}
                  {tab === 'keys' && <KeyPanel key={current.group} group={current} members={members} />}
                </div>
              </>
            ) : (
              <div className="empty-state">
                <h3>No group selected</h3>
              </div>
            )}
          </main>
        </div>
      )}
      <div className="toasts" aria-live="assertive">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
            {t.text}
          </div>
        ))}
      </div>
    </SessionContext.Provider>
  );
}
