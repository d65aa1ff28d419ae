/**
 * The conversation: history with day separators, runs of messages grouped by
 * sender, stable sender colours, a placeholder for what this member could not
 * decrypt, scroll-back ("load earlier" when scrolled to the top), and a composer
 * that sends on Enter (Shift+Enter for a new line).
 */
import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { GroupSummary, Member } from '../../app/api/contract.js';
import { errorText, useEvent, useSession } from './context.js';
import { PAGE, useFeed, type ChatItem, type FeedStore } from './feed.js';
import { clockTime, dayLabel } from './format.js';
import { Icon } from './Icon.js';
import { hueAmong, initials, memberHues } from './identity.js';
import { LIMITS, limitState } from './limits.js';
import { RichText } from './RichText.js';

interface Props {
  group: GroupSummary;
  members: Member[];
  store: FeedStore;
  active: boolean;
  /** Called once the peer has marked the group read (the list's unread count changed). */
  onRead(): void;
}

const RUN_GAP_MS = 5 * 60_000;

export function Chat({ group, members, store, active, onRead }: Props) {
  const { client, selfPeerId, notify } = useSession();
  const feed = useFeed(store, group.group);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const listRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const stickToBottom = useRef(true);
  const restoreFrom = useRef<number | null>(null);
  const loadingMore = useRef(false);
  const canWrite = group.state === 'member';
  // Reconciliation bringing back a large gap (issue 19 §4): "catching up: 120 of 308".
  const [catchUp, setCatchUp] = useState<{ received: number; total: number } | null>(null);
  useEvent(client, 'chat.catchUp', (p) => p.group === group.group && setCatchUp(p.done ? null : { received: p.received, total: p.total }));

  useEffect(() => {
    if (!feed.historyLoaded) store.loadHistory(group.group, PAGE).catch((err) => notify(`Could not load history: ${errorText(err)}`, 'error'));
  }, [group.group, feed.historyLoaded, store, notify]);

  // Reading the group clears its unread count.
  const lastKey = feed.items.at(-1)?.key;
  useEffect(() => {
    if (active && group.unread > 0)
      client
        .call('group.read', { group: group.group })
        .then(onRead)
        .catch(() => undefined);
  }, [active, lastKey, group.group, group.unread, client, onRead]);

  useEffect(() => {
    if (active && canWrite) inputRef.current?.focus();
  }, [active, canWrite, group.group]);

  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    if (restoreFrom.current !== null) {
      el.scrollTop = el.scrollHeight - restoreFrom.current;
      restoreFrom.current = null;
    } else if (stickToBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [feed.items, active]);

  const onScroll = () => {
    const el = listRef.current;
    if (!el) return;
    stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 30 && feed.hasMore && !loadingMore.current) void loadEarlier();
  };

  const loadEarlier = async () => {
    const el = listRef.current;
    loadingMore.current = true;
    restoreFrom.current = el ? el.scrollHeight - el.scrollTop : null;
    try {
      await store.loadHistory(group.group, feed.historyLimit + PAGE);
    } catch (err) {
      restoreFrom.current = null;
      notify(`Could not load earlier messages: ${errorText(err)}`, 'error');
    } finally {
      loadingMore.current = false;
    }
  };

  const limit = limitState(draft.trim(), LIMITS.message);
  const send = async () => {
    const text = draft.trim();
    if (!text || sending || !canWrite || limit.over) return;
    setSending(true);
    try {
      const message = await client.call('chat.send', { group: group.group, text });
      store.addMessages(group.group, [message]);
      setDraft('');
      stickToBottom.current = true;
    } catch (err) {
      notify(`Not sent: ${errorText(err)}`, 'error');
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  };

  const nameOf = (peer: string) => members.find((m) => m.peerId === peer)?.name ?? 'Unknown member';
  const hues = useMemo(() => memberHues(members.map((m) => m.peerId)), [members]);

  return (
    <section className="chat" aria-label="Chat">
      {catchUp && (
        <div className="catch-up" role="status" data-testid="chat-catching-up">
          catching up: {catchUp.received} of {catchUp.total}
        </div>
      )}
      <div className="chat-scroll" ref={listRef} onScroll={onScroll} data-testid="chat-list" tabIndex={0} aria-label="Messages">
        {feed.hasMore && (
          <div className="load-earlier">
            <button type="button" className="ghost small" onClick={() => void loadEarlier()}>
              Load earlier messages
            </button>
          </div>
        )}
        {feed.historyLoaded && feed.items.length === 0 && (
          <div className="empty-state">
            <div className="empty-icon">
              <Icon name="shield" size={36} />
            </div>
            <h3>No messages yet</h3>
            <p className="muted">Messages are encrypted with the group key before they leave this device. Say hello!</p>
          </div>
        )}
        <MessageRuns items={feed.items} selfPeerId={selfPeerId} nameOf={nameOf} hues={hues} />
      </div>
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <textarea
          ref={inputRef}
          data-testid="chat-input"
          value={draft}
          rows={1}
          disabled={!canWrite}
          aria-invalid={limit.over}
          aria-describedby={limit.text ? 'chat-limit' : undefined}
          placeholder={canWrite ? `Message ${group.name}` : group.state === 'excluded' ? 'You were removed from this group' : group.state === 'left' ? 'You left this group' : 'Waiting for the group key…'}
          aria-label="Message"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" className="primary send" data-testid="chat-send" disabled={!canWrite || sending || draft.trim() === '' || limit.over} aria-label="Send">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden>
            <path d="M3 11.5 20.5 3l-6.8 18-2.9-7.3L3 11.5Z" fill="currentColor" />
          </svg>
          <span>Send</span>
        </button>
        {limit.text && (
          <p id="chat-limit" className={`limit-note ${limit.over ? 'over' : ''}`} data-testid="chat-limit" data-over={limit.over} role={limit.over ? 'alert' : undefined}>
            {limit.text}
          </p>
        )}
      </form>
    </section>
  );
}

function MessageRuns({ items, selfPeerId, nameOf, hues }: { items: ChatItem[]; selfPeerId: string; nameOf(peer: string): string; hues: ReadonlyMap<string, number> }) {
  return (
    <>
      {items.map((item, i) => {
        const prev = items[i - 1];
        const newDay = !prev || dayLabel(prev.at) !== dayLabel(item.at);
        const sender = item.kind === 'message' ? item.message.sender : item.sender;
        const prevSender = prev ? (prev.kind === 'message' ? prev.message.sender : prev.sender) : null;
        const startsRun = newDay || prevSender !== sender || item.at - prev!.at > RUN_GAP_MS || prev!.kind !== item.kind;
        return (
          <Fragment key={item.key}>
            {newDay && (
              <div className="day-sep" role="separator">
                <span>{dayLabel(item.at)}</span>
              </div>
            )}
            {item.kind === 'message' ? (
              <MessageRow item={item} own={sender === selfPeerId} startsRun={startsRun} hue={hueAmong(hues, sender)} />
            ) : (
              <div className="msg undecryptable" data-testid="chat-undecryptable" data-sender={nameOf(sender)} data-sender-peer={sender}>
                <Icon name="lock" size={15} className="lock" />
                <span>
                  <strong>{nameOf(sender)}</strong> sent a message this device cannot decrypt — it was encrypted with a group key you do not hold.
                </span>
                <time className="time">{clockTime(item.sentAt)}</time>
              </div>
            )}
          </Fragment>
        );
      })}
    </>
  );
}

function MessageRow({ item, own, startsRun, hue }: { item: Extract<ChatItem, { kind: 'message' }>; own: boolean; startsRun: boolean; hue: number }) {
  const m = item.message;
  return (
    <div
      className={`msg ${own ? 'own' : 'theirs'} ${startsRun ? 'run-start' : ''}`}
      data-testid="chat-message"
      data-sender={m.senderName}
      data-sender-peer={m.sender}
      style={{ ['--h' as string]: hue }}
    >
      {!own && (
        <div className="avatar-slot" aria-hidden>
          {startsRun && <span className="avatar">{initials(m.senderName)}</span>}
        </div>
      )}
      <div className="bubble-wrap">
        {startsRun && !own && <div className="sender">{m.senderName}</div>}
        <div className="bubble">
          <span className="text" dir="auto" data-testid="message-text">
            <RichText text={m.text} />
          </span>
          <time className="time" dateTime={new Date(m.sentAt).toISOString()} title={new Date(m.sentAt).toLocaleString()}>
            {clockTime(m.sentAt)}
          </time>
        </div>
      </div>
    </div>
  );
}
