/**
 * One group on screen: its header (name, encryption note, member and online
 * counts), the tab bar (← / → move between tabs), a banner for a group this device
 * was removed from, left, or is still joining, and the selected tab's screen.
 */
import type { GroupSummary, Member } from '../../app/api/contract.js';
import { Board } from './Board.js';
import { Chat } from './Chat.js';
import { NotAMember } from './Departed.js';
import type { FeedStore } from './feed.js';
import { Icon } from './Icon.js';
import { Invite } from './Invite.js';
import { KeyPanel } from './KeyPanel.js';
import { Members } from './Members.js';
import { Network } from './Network.js';
import { TABS, type Tab } from './route.js';

interface GroupViewProps {
  group: GroupSummary;
  members: Member[];
  store: FeedStore;
  tab: Tab;
  setTab(tab: Tab): void;
  /** The invite made when this device created the group, if any. */
  createdInvite: string | undefined;
  /** Something changed that the group list shows (unread, members): refresh it soon. */
  onGroupChanged(): void;
  onMembersChanged(): void;
}

export function GroupView({ group, members, store, tab, setTab, createdInvite, onGroupChanged, onMembersChanged }: GroupViewProps) {
  const online = members.filter((m) => m.online && m.state === 'member').length;
  return (
    <>
      <header className="group-head">
        <div className="group-title">
          <h1>{group.name}</h1>
          <span className="muted small">
            <span className="e2e">
              <Icon name="lock" size={12} /> End-to-end encrypted
            </span> · {group.members} {group.members === 1 ? 'member' : 'members'} · {online} online
          </span>
        </div>
        <TabBar tab={tab} setTab={setTab} />
      </header>
      <GroupBanner state={group.state} />
      {group.unsaved && (
        <div className="excluded-banner" data-testid="unsaved-banner" role="alert">
          <strong>This device cannot save this group ({group.unsaved}).</strong> Conclave keeps trying. Until it succeeds, quitting may lose the group&apos;s latest keys and members on this device, and messages sent from it meanwhile may wait on it.
        </div>
      )}
      <div className="tab-body" role="tabpanel">
        {tab === 'chat' && <Chat group={group} members={members} store={store} active onRead={onGroupChanged} />}
        {tab === 'board' && <Board group={group} store={store} active />}
        {tab === 'members' && (
          <Members
            group={group}
            members={members}
            onChanged={() => {
              onMembersChanged();
              onGroupChanged();
            }}
          />
        )}
        {tab === 'invite' &&
          (group.state === 'member' ? <Invite key={group.group} group={group} initialInvite={createdInvite} /> : (
            <section className="pane" aria-label="Invite">
              <NotAMember state={group.state} cannot="invite others" />
            </section>
          ))}
        {tab === 'network' && <Network members={members} />}
        {tab === 'keys' && <KeyPanel key={group.group} group={group} members={members} />}
      </div>
    </>
  );
}

function TabBar({ tab, setTab }: { tab: Tab; setTab(tab: Tab): void }) {
  return (
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
  );
}

function GroupBanner({ state }: { state: GroupSummary['state'] }) {
  switch (state) {
    case 'excluded':
      return (
        <div className="excluded-banner" data-testid="excluded-banner" role="alert">
          <strong>You were removed from this group.</strong> Its keys were replaced: new messages and strokes can no longer reach you. History you already had stays readable here.
        </div>
      );
    case 'left':
      return (
        <div className="info-banner" role="status">
          You left this group. History you had stays readable here. This identity cannot be admitted to it again: see Members for how to come back.
        </div>
      );
    case 'joining':
      return (
        <div className="info-banner" role="status">
          Joining — waiting for a member to admit you and hand over keys…
        </div>
      );
    default:
      return null;
  }
}
