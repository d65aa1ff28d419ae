/**
 * The sidebar: the group list with unread counts (a group's count is hidden while
 * its chat is on screen), `+` for onboarding, who we are, the notification bell
 * (browser mode), the theme switch and the state of the link to the peer.
 */
import type { GroupSummary } from '../../app/api/contract.js';
import type { ConclaveClient, LinkState } from './client.js';
import { hueOf, initials, shortId } from './identity.js';
import { Icon } from './Icon.js';
import { NotificationToggle } from './notifications.js';
import { Logo } from './Onboarding.js';
import { ThemeToggle, type ThemeChoice } from './theme.js';

interface SidebarProps {
  client: ConclaveClient;
  link: LinkState;
  groups: GroupSummary[];
  selected: string | null;
  /** Whether the selected group's chat is on screen (its unread count is not shown). */
  readingSelected: boolean;
  self: { peerId: string; name: string };
  theme: ThemeChoice;
  setTheme(theme: ThemeChoice): void;
  onSelect(group: string): void;
  onNewGroup(): void;
}

export function Sidebar({ client, link, groups, selected, readingSelected, self, theme, setTheme, onSelect, onNewGroup }: SidebarProps) {
  return (
    <aside className="sidebar">
      <div className="brand">
        <Logo size={30} />
        <span>Conclave</span>
      </div>
      <div className="sidebar-section">
        <span className="section-label">Groups</span>
        <button type="button" className="ghost icon-btn" onClick={onNewGroup} title="New group or join" data-testid="new-group" aria-label="New group or join">
          <Icon name="plus" />
        </button>
      </div>
      <nav className="group-list" aria-label="Groups" data-testid="group-list">
        {groups.map((g) => (
          <button
            type="button"
            key={g.group}
            className={`group-item ${g.group === selected ? 'on' : ''} state-${g.state}`}
            onClick={() => onSelect(g.group)}
            data-testid="group-item"
            data-group={g.group}
            aria-current={g.group === selected}
            style={{ ['--h' as string]: hueOf(g.group) }}
          >
            <span className="avatar square">{initials(g.name)}</span>
            <span className="group-text">
              <span className="group-name">{g.name}</span>
              <span className="muted small">{g.state === 'member' ? `${g.members} ${g.members === 1 ? 'member' : 'members'}` : g.state}</span>
            </span>
            {g.unread > 0 && !(g.group === selected && readingSelected) && (
              <span className="unread" data-testid="group-unread" aria-label={`${g.unread} unread`}>
                {g.unread > 99 ? '99+' : g.unread}
              </span>
            )}
          </button>
        ))}
      </nav>
      <div className="me" style={{ ['--h' as string]: hueOf(self.peerId) }}>
        <span className="avatar">{initials(self.name || '?')}</span>
        <span className="me-text">
          <strong>{self.name || 'Unnamed'}</strong>
          <span className="muted small mono" title={self.peerId}>
            {shortId(self.peerId)}
          </span>
        </span>
        {client.transport === 'websocket' && <NotificationToggle />}
        <ThemeToggle theme={theme} setTheme={setTheme} />
      </div>
      <div className="transport muted small">
        <span className={`link-dot ${link}`} /> {client.transport === 'electron' ? 'Desktop' : 'Browser'} · peer {link === 'open' ? 'connected' : link}
      </div>
    </aside>
  );
}
