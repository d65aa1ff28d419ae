/**
 * The app frame: composes the pieces and holds nothing of its own. It follows the
 * link to the peer (`connection.ts`), keeps the peer's state of groups
 * (`groups-store.ts`), decides which screen shows (`route.ts`): a loading screen
 * until the peer answers, onboarding until there is a group, then the sidebar
 * (`Sidebar.tsx`) and the selected group's tabs (`GroupView.tsx`); toasts on top.
 */
import { useCallback, useEffect, useMemo } from 'react';
import type { ConclaveClient } from './client.js';
import { useJoinLinks, useLinkState } from './connection.js';
import { SessionContext, type Session } from './context.js';
import { FeedStore } from './feed.js';
import { GroupView } from './GroupView.js';
import { useGroupsStore } from './groups-store.js';
import { Logo, Onboarding } from './Onboarding.js';
import { tabOfShortcut, useRoute } from './route.js';
import { Sidebar } from './Sidebar.js';
import { useTheme } from './theme.js';
import { Toasts, useToasts } from './toasts.js';

export function App({ client }: { client: ConclaveClient }) {
  const link = useLinkState(client);
  const { toasts, notify } = useToasts();
  const peer = useGroupsStore(client, link, notify);
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const store = useMemo(() => new FeedStore(client), [client]);
  const { status, groups, selected, members } = peer;
  const { tab, setTab, openOnboarding } = route;

  useJoinLinks(client, useCallback((invite: string) => openOnboarding(invite), [openOnboarding]));

  const session: Session | null = useMemo(
    () => (status ? { client, selfPeerId: status.peerId, selfName: status.name, notify } : null),
    [client, status, notify],
  );

  // The window (desktop) or tab (browser) title carries the unread total.
  const unreadTotal = (groups ?? []).reduce((n, g) => n + (g.group === selected && tab === 'chat' ? 0 : g.unread), 0);
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) Conclave` : 'Conclave';
  }, [unreadTotal]);

  if (link === 'refused') return <TokenRefused restarted={session !== null} />;

  if (!session || groups === null) {
    return (
      <div className="app-loading" data-theme-ready>
        <Logo size={56} />
        <p className="muted">{link === 'closed' ? 'Cannot reach your peer. Retrying…' : 'Connecting to your peer…'}</p>
      </div>
    );
  }

  const current = groups.find((g) => g.group === selected) ?? null;
  const onKeyDown = (e: React.KeyboardEvent) => {
    const next = tabOfShortcut(e);
    if (next) {
      e.preventDefault();
      setTab(next);
    }
  };

  return (
    <SessionContext.Provider value={session}>
      {link !== 'open' && (
        <div className="link-banner" role="status">
          Connection to your peer was lost — reconnecting…
        </div>
      )}
      {route.onboarding || groups.length === 0 ? (
        <Onboarding
          client={client}
          initialName={session.selfName}
          initialInvite={route.joinLink}
          onCancel={groups.length > 0 ? route.closeOnboarding : undefined}
          onDone={(group, invite) => {
            route.arrived(group, invite);
            peer.select(group);
            void peer.refreshGroups();
          }}
        />
      ) : (
        <div className="shell" onKeyDown={onKeyDown}>
          <Sidebar
            client={client}
            link={link}
            groups={groups}
            selected={selected}
            readingSelected={tab === 'chat'}
            self={{ peerId: session.selfPeerId, name: session.selfName }}
            theme={theme}
            setTheme={setTheme}
            onSelect={peer.select}
            onNewGroup={() => openOnboarding()}
          />
          <main className="main">
            {current ? (
              <GroupView
                group={current}
                members={members}
                store={store}
                tab={tab}
                setTab={setTab}
                createdInvite={route.createdInvites[current.group]}
                onGroupChanged={peer.soon}
                onMembersChanged={() => void peer.refreshMembers()}
              />
            ) : (
              <div className="empty-state">
                <h3>No group selected</h3>
              </div>
            )}
          </main>
        </div>
      )}
      <Toasts toasts={toasts} />
    </SessionContext.Provider>
  );
}

/**
 * The peer refused this page's token: after a restart (the tab was connected
 * before), or a link used already or not this peer's. All recover the same way:
 * the newest link the peer printed.
 */
function TokenRefused({ restarted }: { restarted: boolean }) {
  return (
    <div className="app-loading" data-theme-ready data-testid="link-refused" role="alert">
      <Logo size={56} />
      <h2>{restarted ? 'Your peer restarted or signed this tab out' : 'Your peer did not accept this link'}</h2>
      <p className="muted">
        {restarted
          ? 'This tab still holds an access token the peer no longer takes: every start makes a new one, and a link opened twice signs every tab out.'
          : 'Each link your peer prints opens one tab, once: this one was used already (opened again from the browser’s history, say), or it is not this peer’s. If it was used already, your peer signed every tab out, since someone else may have had it, and printed a new link with a warning.'}{' '}
        Open the newest link your peer printed (<code>http://127.0.0.1:PORT/?launch=…</code>); this tab cannot reconnect by itself.
      </p>
    </div>
  );
}
