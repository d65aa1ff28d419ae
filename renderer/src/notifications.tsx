/**
 * Browser-mode notifications for messages that arrive while the tab is hidden.
 * Asked for only when the user clicks the bell (browsers require a gesture);
 * the desktop app notifies from its main process instead.
 */
import { useState } from 'react';
import type { ChatMessage, GroupSummary } from '../../app/api/contract.js';
import { Icon } from './Icon.js';

const supported = () => typeof Notification !== 'undefined';

export function showBrowserNotification(m: ChatMessage, groups: GroupSummary[] | null): void {
  if (!supported() || Notification.permission !== 'granted') return;
  const groupName = groups?.find((g) => g.group === m.group)?.name;
  const n = new Notification(groupName ? `${m.senderName} · ${groupName}` : m.senderName, {
    body: m.text.length > 180 ? `${m.text.slice(0, 177)}…` : m.text,
    tag: `conclave-${m.group}`,
  });
  n.onclick = () => {
    window.focus();
    n.close();
  };
}

export function NotificationToggle() {
  const [permission, setPermission] = useState(() => (supported() ? Notification.permission : 'denied'));
  if (permission !== 'default') return null;
  return (
    <button
      type="button"
      className="ghost icon-btn"
      title="Notify me of new messages while this tab is hidden"
      aria-label="Enable notifications"
      onClick={() => void Notification.requestPermission().then(setPermission)}
    >
      <Icon name="bell" />
    </button>
  );
}
