/**
 * The conversation: history with day separators, runs of messages grouped by
 * sender, stable sender colours, a placeholder for what this member could not
 * decrypt, scroll-back ("load earlier" when scrolled to the top), notices of
 * members joining, leaving or being excluded, and a composer that sends on Enter
 * (Shift+Enter for a new line), replies to a chosen message or edits one's own,
 * and takes files and pictures by its attach button, by drag and drop onto the
 * chat or by paste (issue 18 §1; sent by `attachments.ts`); search of this
 * device's history sits above the conversation (`Search.tsx`).
 * Each message, with its reactions and actions, is `MessageRow.tsx`.
 */
import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ChatMessage, GroupSummary, Member } from '../../app/api/contract.js';
import { Confirm } from './Confirm.js';
import { MessageRow, type MessageActions } from './MessageRow.js';
import { errorText, useEvent, useSession } from './context.js';
import { PAGE, useFeed, type ChatItem, type FeedStore } from './feed.js';
import { clockTime, dayLabel } from './format.js';
import { Icon } from './Icon.js';
import { hueAmong, memberHues } from './identity.js';
import { LIMITS, limitState } from './limits.js';
import { PendingAttachment } from './Attachment.js';
import { fileStatesOf, usePendingUploads } from './attachments.js';
import { Search } from './Search.js';

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
  /** The message the composer replies to, or edits (one's own); null: a new message. */
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<ChatMessage | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const stickToBottom = useRef(true);
  const restoreFrom = useRef<number | null>(null);
  const loadingMore = useRef(false);
  const canWrite = group.state === 'member';
  // Reconciliation bringing back a large gap (issue 19 §4): "catching up: 120 of 308".
  const [catchUp, setCatchUp] = useState<{ received: number; total: number } | null>(null);
  const fileStates = fileStatesOf(client);
  const uploads = usePendingUploads(fileStates, group.group);
  const fileInput = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
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
  }, [feed.items, active, uploads.length]);

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
      if (editing) {
        store.updateMessage(await client.call('chat.edit', { group: group.group, id: editing.id, text }));
        setEditing(null);
      } else {
        const message = await client.call('chat.send', replyTo ? { group: group.group, text, replyTo: replyTo.id } : { group: group.group, text });
        store.addMessages(group.group, [message]);
        setReplyTo(null);
        stickToBottom.current = true;
      }
      setDraft('');
    } catch (err) {
      notify(`${editing ? 'Not edited' : 'Not sent'}: ${errorText(err)}`, 'error');
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  };

  const sendFiles = (files: File[]) => {
    if (!canWrite) return;
    stickToBottom.current = true;
    for (const file of files) {
      fileStates
        .send(group.group, file)
        .then((message) => store.addMessages(group.group, [message]))
        .catch((err) => notify(`${file.name || 'File'} not sent: ${errorText(err)}`, 'error'));
    }
  };

  /** Shows a message found by search, loading the whole history first when it is not loaded. */
  const showFound = async (m: ChatMessage) => {
    if (!document.getElementById(`msg-${m.id}`)) await store.loadHistory(group.group, 10_000).catch(() => undefined);
    setTimeout(() => actions.jumpTo(m.id), 50);
  };

  const nameOf = (peer: string) => (peer === selfPeerId ? 'You' : (members.find((m) => m.peerId === peer)?.name ?? 'Unknown member'));
  const hues = useMemo(() => memberHues(members.map((m) => m.peerId)), [members]);

  const actions: MessageActions = {
    reply: (m) => {
      setEditing(null);
      setReplyTo(m);
      inputRef.current?.focus();
    },
    react: (m, emoji, on) => {
      client.call('chat.react', { group: group.group, id: m.id, emoji, on }).catch((err) => notify(`Reaction not sent: ${errorText(err)}`, 'error'));
    },
    edit: (m) => {
      setReplyTo(null);
      setEditing(m);
      setDraft(m.text);
      inputRef.current?.focus();
    },
    remove: (m) => setDeleting(m),
    jumpTo: (id) => {
      const el = document.getElementById(`msg-${id}`);
      if (!el) return notify('That message is not loaded here: load earlier messages to see it.', 'info');
      el.scrollIntoView({ block: 'center', behavior: 'smooth' });
      el.classList.remove('flash');
      void el.offsetWidth;
      el.classList.add('flash');
    },
  };
  const confirmDelete = async (m: ChatMessage) => {
    setDeleting(null);
    try {
      await client.call('chat.delete', { group: group.group, id: m.id });
    } catch (err) {
      notify(`Not deleted: ${errorText(err)}`, 'error');
    }
  };

  return (
    <section
      className={`chat ${dragging ? 'dragging' : ''}`}
      aria-label="Chat"
      onDragOver={(e) => {
        if (!canWrite || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        setDragging(false);
        if (!canWrite || e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        sendFiles([...e.dataTransfer.files]);
      }}
    >
      <Search group={group.group} onPick={(m) => void showFound(m)} />
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
        <MessageRuns items={feed.items} selfPeerId={selfPeerId} nameOf={nameOf} hues={hues} canWrite={canWrite} actions={actions} />
        {uploads.length > 0 && (
          <div className="pending-uploads" aria-label="Files being sent">
            {uploads.map((u) => (
              <PendingAttachment key={u.key} upload={u} onDismiss={() => fileStates.dismiss(u.key)} />
            ))}
          </div>
        )}
      </div>
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        {(replyTo ?? editing) && (
          <div className="composer-context" data-testid={editing ? 'composer-editing' : 'composer-reply'}>
            <span>
              {editing ? 'Editing your message' : <>Replying to <strong>{replyTo!.senderName}</strong>: </>}
              {!editing && <span className="muted">{replyTo!.text.slice(0, 80)}</span>}
            </span>
            <button
              type="button"
              className="ghost small"
              aria-label="Cancel"
              onClick={() => {
                if (editing) setDraft('');
                setReplyTo(null);
                setEditing(null);
              }}
            >
              ✕
            </button>
          </div>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="attach-file"
          onChange={(e) => {
            sendFiles([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        <button type="button" className="ghost attach" data-testid="attach-button" disabled={!canWrite} aria-label="Attach a file or picture" title="Attach a file or picture (or drop it here, or paste it)" onClick={() => fileInput.current?.click()}>
          <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth={1.9} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
            <path d="M20 11.5 12.2 19.3a5 5 0 0 1-7.1-7.1l8-8a3.3 3.3 0 0 1 4.7 4.7l-8 8a1.7 1.7 0 0 1-2.4-2.4l7.3-7.3" />
          </svg>
        </button>
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
          onPaste={(e) => {
            const files = [...e.clipboardData.files];
            if (files.length === 0) return;
            e.preventDefault();
            sendFiles(files);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && (replyTo ?? editing)) {
              if (editing) setDraft('');
              setReplyTo(null);
              setEditing(null);
            }
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
          <span>{editing ? 'Save' : 'Send'}</span>
        </button>
        {limit.text && (
          <p id="chat-limit" className={`limit-note ${limit.over ? 'over' : ''}`} data-testid="chat-limit" data-over={limit.over} role={limit.over ? 'alert' : undefined}>
            {limit.text}
          </p>
        )}
      </form>
      {deleting && (
        <Confirm title="Delete this message?" confirmLabel="Delete for everyone" danger onCancel={() => setDeleting(null)} onConfirm={() => void confirmDelete(deleting)}>
          <p>It is replaced by “This message was deleted” on every member’s screen. This cannot be undone.</p>
        </Confirm>
      )}
    </section>
  );
}

interface RunsProps {
  items: ChatItem[];
  selfPeerId: string;
  nameOf(peer: string): string;
  hues: ReadonlyMap<string, number>;
  canWrite: boolean;
  actions: MessageActions;
}

const NOTICE_TEXT = { joined: 'joined the group', left: 'left the group', excluded: 'was removed from the group', reinstated: 'is a member again: the admin who removed them was removed at the same moment' } as const;

function senderOf(item: ChatItem): string {
  return item.kind === 'message' ? item.message.sender : item.kind === 'notice' ? item.peerId : item.sender;
}

function MessageRuns({ items, selfPeerId, nameOf, hues, canWrite, actions }: RunsProps) {
  return (
    <>
      {items.map((item, i) => {
        const prev = items[i - 1];
        const newDay = !prev || dayLabel(prev.at) !== dayLabel(item.at);
        const sender = senderOf(item);
        const prevSender = prev ? senderOf(prev) : null;
        const startsRun = newDay || prevSender !== sender || item.at - prev!.at > RUN_GAP_MS || prev!.kind !== item.kind;
        return (
          <Fragment key={item.key}>
            {newDay && (
              <div className="day-sep" role="separator">
                <span>{dayLabel(item.at)}</span>
              </div>
            )}
            {item.kind === 'message' ? (
              <MessageRow
                message={item.message}
                own={sender === selfPeerId}
                startsRun={startsRun}
                hue={hueAmong(hues, sender)}
                selfPeerId={selfPeerId}
                canWrite={canWrite}
                nameOf={nameOf}
                actions={actions}
              />
            ) : item.kind === 'notice' ? (
              <div className="notice" role="status" data-testid="chat-notice" data-change={item.change} data-peer={item.peerId}>
                <strong>{nameOf(item.peerId)}</strong> {NOTICE_TEXT[item.change]}
                <time className="time">{clockTime(item.at)}</time>
              </div>
            ) : (
              <div className="msg undecryptable" data-testid="chat-undecryptable" data-sender={nameOf(sender)} data-sender-peer={sender} data-count={item.count}>
                <Icon name="lock" size={15} className="lock" />
                <span>
                  <strong>{nameOf(sender)}</strong> sent {item.count > 1 ? `${item.count} messages` : 'a message'} this device cannot decrypt — {item.count > 1 ? 'they were' : 'it was'} encrypted with a group key you do not hold.
                </span>
                <time className="time">{item.count > 1 && clockTime(item.lastSentAt) !== clockTime(item.sentAt) ? `${clockTime(item.sentAt)}–${clockTime(item.lastSentAt)}` : clockTime(item.sentAt)}</time>
              </div>
            )}
          </Fragment>
        );
      })}
    </>
  );
}
