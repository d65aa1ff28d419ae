/**
 * One chat message (issue 18 §2): the quote of the message it replies to (click
 * to jump there), its text or a tombstone once its author deleted it, "edited",
 * the reaction bar (one chip per emoji with its count and who reacted; click to
 * toggle one's own), and the actions on hover or focus: reply, react, and for
 * one's own messages edit and delete; a file message shows its attachment
 * (`Attachment.tsx`) in place of text. On one's own messages, the delivery
 * state (issue 18 §7): "sent", then "delivered to n of m" as members confirm
 * they hold it on disk (docs/ui.md). What is shown comes from the peer
 * (`chat.message`, `chat.update`); this component only asks for changes.
 */
import { useState } from 'react';
import type { ChatMessage } from '../../app/api/contract.js';
import { clockTime } from './format.js';
import { Icon } from './Icon.js';
import { initials } from './identity.js';
import { RichText } from './RichText.js';
import { Attachment } from './Attachment.js';

/** The reactions offered in the picker. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '🙏'] as const;

export interface MessageActions {
  reply(m: ChatMessage): void;
  react(m: ChatMessage, emoji: string, on: boolean): void;
  edit(m: ChatMessage): void;
  remove(m: ChatMessage): void;
  jumpTo(id: string): void;
}

interface Props {
  message: ChatMessage;
  own: boolean;
  startsRun: boolean;
  hue: number;
  selfPeerId: string;
  canWrite: boolean;
  nameOf(peer: string): string;
  actions: MessageActions;
}

export function MessageRow({ message: m, own, startsRun, hue, selfPeerId, canWrite, nameOf, actions }: Props) {
  const [picking, setPicking] = useState(false);
  return (
    <div
      id={`msg-${m.id}`}
      className={`msg ${own ? 'own' : 'theirs'} ${startsRun ? 'run-start' : ''} ${m.deleted ? 'deleted' : ''}`}
      data-testid="chat-message"
      data-message-id={m.id}
      data-sender={m.senderName}
      data-sender-peer={m.sender}
      data-deleted={m.deleted ? 'true' : undefined}
      data-edited={m.editedAt ? 'true' : undefined}
      style={{ ['--h' as string]: hue }}
    >
      {!own && (
        <div className="avatar-slot" aria-hidden>
          {startsRun && <span className="avatar">{initials(m.senderName)}</span>}
        </div>
      )}
      <div className="bubble-wrap">
        {startsRun && !own && <div className="sender">{m.senderName}</div>}
        {m.replyTo && !m.deleted && <ReplyQuote quote={m.replyTo} onJump={() => actions.jumpTo(m.replyTo!.id)} />}
        <div className="bubble">
          {m.deleted ? (
            <span className="text tombstone" data-testid="message-text">
              This message was deleted
            </span>
          ) : m.file ? (
            <Attachment group={m.group} file={m.file} />
          ) : (
            <span className="text" dir="auto" data-testid="message-text">
              <RichText text={m.text} />
            </span>
          )}
          {m.editedAt !== undefined && !m.deleted && (
            <span className="edited" data-testid="message-edited" title={`Edited ${new Date(m.editedAt).toLocaleString()}`}>
              edited
            </span>
          )}
          {m.claimedAt !== undefined && (
            <span
              className="edited"
              data-testid="message-claimed-time"
              title={`Its sender dated it ${new Date(m.claimedAt).toLocaleString()}; shown at the earliest time it can have been sent (a wrong clock, or a date moved back)`}
            >
              dated earlier
            </span>
          )}
          <time className="time" dateTime={new Date(m.sentAt).toISOString()} title={new Date(m.sentAt).toLocaleString()}>
            {clockTime(m.sentAt)}
          </time>
          {own && m.delivery && !m.deleted && <DeliveryMark delivery={m.delivery} />}
        </div>
        {!m.deleted && m.reactions && m.reactions.length > 0 && (
          <div className="reactions" aria-label="Reactions">
            {m.reactions.map((r) => {
              const mine = r.by.includes(selfPeerId);
              return (
                <button
                  key={r.emoji}
                  type="button"
                  className={`reaction ${mine ? 'mine' : ''}`}
                  data-testid="reaction"
                  data-emoji={r.emoji}
                  data-count={r.by.length}
                  aria-pressed={mine}
                  disabled={!canWrite}
                  title={r.by.map(nameOf).join(', ')}
                  onClick={() => actions.react(m, r.emoji, !mine)}
                >
                  <span aria-hidden>{r.emoji}</span> {r.by.length}
                </button>
              );
            })}
          </div>
        )}
        {picking && (
          <div className="reaction-picker" role="menu" aria-label="Pick a reaction">
            {QUICK_REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                role="menuitem"
                data-testid="react-pick"
                data-emoji={emoji}
                onClick={() => {
                  setPicking(false);
                  const mine = m.reactions?.find((r) => r.emoji === emoji)?.by.includes(selfPeerId) ?? false;
                  actions.react(m, emoji, !mine);
                }}
              >
                {emoji}
              </button>
            ))}
          </div>
        )}
      </div>
      {!m.deleted && canWrite && (
        <div className="msg-actions" role="toolbar" aria-label="Message actions">
          <button type="button" className="ghost small" data-testid="message-reply" title="Reply" aria-label="Reply" onClick={() => actions.reply(m)}>
            <Icon name="undo" />
          </button>
          <button type="button" className="ghost small" data-testid="message-react" title="React" aria-label="React" aria-expanded={picking} onClick={() => setPicking((v) => !v)}>
            <Icon name="smile" />
          </button>
          {own && !m.file && (
            <>
              <button type="button" className="ghost small" data-testid="message-edit" title="Edit" aria-label="Edit" onClick={() => actions.edit(m)}>
                <Icon name="board" />
              </button>
              <button type="button" className="ghost small" data-testid="message-delete" title="Delete" aria-label="Delete" onClick={() => actions.remove(m)}>
                <Icon name="trash" />
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function ReplyQuote({ quote, onJump }: { quote: NonNullable<ChatMessage['replyTo']>; onJump(): void }) {
  const body = quote.deleted ? 'This message was deleted' : (quote.excerpt ?? 'A message not on this device');
  return (
    <button type="button" className="reply-quote" data-testid="reply-quote" data-reply-to={quote.id} onClick={onJump} title="Show the message this replies to">
      {quote.senderName && <strong>{quote.senderName}</strong>}
      <span dir="auto">{body}</span>
    </button>
  );
}

/** "sent" (on this device's disk and published) or "delivered to n of m" (members holding it on disk). */
function DeliveryMark({ delivery: d }: { delivery: NonNullable<ChatMessage['delivery']> }) {
  const all = d.state === 'delivered' && d.delivered >= d.members;
  const label = d.state === 'sent' ? 'sent' : `delivered to ${d.delivered} of ${d.members}`;
  const title = d.state === 'sent' ? 'On this device and sent; no member has confirmed it yet' : `${d.delivered} of ${d.members} members hold this message on their device`;
  return (
    <span className={`delivery ${d.state} ${all ? 'all' : ''}`} data-testid="delivery" data-state={d.state} data-delivered={d.delivered} data-members={d.members} title={title}>
      <span aria-hidden>{d.state === 'sent' ? '✓' : '✓✓'}</span> {label}
    </span>
  );
}
