/**
 * @module peer/chat-annotations
 * What replies, reactions, edits and deletes (issue 18 §2; docs/protocol.md §13
 * "Replies, reactions, edits, deletes") do to the chat a member sees. The
 * history (`history.ts`) keeps the signed messages; this keeps their effect and
 * composes it into each message shown (`view`).
 *
 * Messages are named by `sender:id` (sender: the author's peer ID, the key the
 * history keeps chat under), actions name their target by message ID.
 * A message ID belongs to the message whose ID its author and content derive
 * (payload.ts `messageIdFor`; no other author can match it), else, for
 * a message of a peer from before derived IDs, to the first one held under it
 * (review 30: an insider that copied a victim's ID took over its replies and
 * reactions where its copy came first).
 *
 * Invariants (each the same on every member whatever the arrival order):
 * - An edit or delete counts only for the target its own author wrote: it is
 *   kept under `author:target`, so another member's edit never matches a message
 *   (the signature proves the author: payload.ts), even when it arrives before
 *   the message it names.
 * - Of one author's edits of one message the one with the highest sequence
 *   number wins; a delete wins over every edit and is final (a tombstone). An
 *   edit of a file message changes nothing (its text is the file's name).
 * - A reaction is per (target, emoji, reactor): the reactor's action with the
 *   highest sequence number says whether it is on; counts are the reactors on.
 * - Reactions show on the message that owns their target ID only, never on a
 *   copy of the ID by another author.
 * - Nothing here reads a clock; arrival order changes only the display order
 *   of emojis and reactors, never what is shown.
 * - An action is a duplicate from the moment it is received (`receive`) but
 *   changes what is shown only once its record is on disk (history.ts calls
 *   `apply` after its fsync; issue 19 §3): a kill -9 never loses an edit, a
 *   delete or a reaction some client was shown. The rules above are order-
 *   independent, so applying later changes nothing but when.
 */
import type { ChatMessage } from '../api/contract.js';
import type { ChatAction } from './payload.js';

const EXCERPT_CHARS = 200;

/** How many replies' quotes one change of their parent refreshes on clients (the newest). */
export const REPLIES_REFRESHED = 64;

export class ChatAnnotations {
  /** Reply key → the message ID it quotes. */
  private readonly parentOf = new Map<string, string>();
  /** Message ID → keys of the replies that quote it. */
  private readonly children = new Map<string, Set<string>>();
  /** Message ID → the key of the message that owns it (derived: its ID is its author's and content's; else the first seen). */
  private readonly keys = new Map<string, { key: string; derived: boolean }>();
  /** `author:target` → the author's latest edit. */
  private readonly edits = new Map<string, { s: number; at: number; text: string }>();
  /** `author:target` of every delete. */
  private readonly deletes = new Set<string>();
  /** Target ID → emoji → reactor → its latest reaction. */
  private readonly reactions = new Map<string, Map<string, Map<string, { s: number; on: boolean }>>>();
  /** `sender:id` of every action held (deduplication). */
  private readonly actions = new Set<string>();
  /** `author:target` of every delete received, applied or not yet (on disk). */
  private readonly deletesReceived = new Set<string>();

  constructor(private readonly lookup: (key: string) => ChatMessage | undefined) {}

  /**
   * A chat message `sender:id` was kept; `re`: the message it replies to; `derived`: its ID is
   * the one its author and content give (it owns the ID whatever came first). Returns the
   * key of a message that owned the ID until now (its view loses the ID's reactions).
   */
  chat(sender: string, id: string, re: string | undefined, derived: boolean): string | undefined {
    const key = `${sender}:${id}`;
    const owner = this.keys.get(id);
    if (!owner || (derived && !owner.derived)) this.keys.set(id, { key, derived });
    const displaced = owner && this.keys.get(id)!.key !== owner.key ? owner.key : undefined;
    if (!re) return displaced;
    this.parentOf.set(key, re);
    let set = this.children.get(re);
    if (!set) this.children.set(re, (set = new Set()));
    set.add(key);
    return displaced;
  }

  keyOf(id: string): string | undefined {
    return this.keys.get(id)?.key;
  }

  hasAction(sender: string, id: string): boolean {
    return this.actions.has(`${sender}:${id}`);
  }

  /**
   * Keys of the newest replies held that quote message `id`, at most `REPLIES_REFRESHED`: those
   * whose shown quote an edit of `id`, or its arrival, refreshes (a delete refreshes them all). Not all: replies are unbounded, and an insider's
   * 3,000 replies to its own message made each of its edits 3,000 updates to every member's UI
   * (review 32). Older replies show the new quote when the history is next listed.
   */
  repliesTo(id: string): string[] {
    return [...(this.children.get(id) ?? [])].slice(-REPLIES_REFRESHED);
  }

  /**
   * Action `id` of `sender` was received (its record maybe not on disk yet): a
   * duplicate from now on, but no effect until `apply`. True when it is an edit or
   * delete of a message held under another author (it will never have an effect).
   */
  receive(sender: string, id: string, body: ChatAction): boolean {
    this.actions.add(`${sender}:${id}`);
    if (body.t === 'react') return false;
    if (body.t === 'delete') this.deletesReceived.add(`${sender}:${body.target}`);
    // Not its author's only when a message whose ID is derived owns it (a copy of the ID by another
    // author, held first, proves nothing: the author's own message may come later; review 30).
    const owner = this.keys.get(body.target);
    return owner !== undefined && owner.derived && owner.key !== `${sender}:${body.target}`;
  }

  /**
   * Applies an action of `sender` (sequence number `s`, signed time `at`) that
   * `receive` saw and whose record is now on disk. Returns the keys of held
   * messages whose view changed.
   */
  apply(sender: string, s: number, at: number, body: ChatAction): string[] {
    if (body.t === 'react') {
      let byEmoji = this.reactions.get(body.target);
      if (!byEmoji) this.reactions.set(body.target, (byEmoji = new Map()));
      let byReactor = byEmoji.get(body.emoji);
      if (!byReactor) byEmoji.set(body.emoji, (byReactor = new Map()));
      const prior = byReactor.get(sender);
      if (prior && prior.s >= s) return [];
      byReactor.set(sender, { s, on: body.on });
      const held = this.keys.get(body.target);
      return held ? [held.key] : [];
    }
    const own = `${sender}:${body.target}`;
    if (body.t === 'edit') {
      const prior = this.edits.get(own);
      if (prior && prior.s >= s) return [];
      this.edits.set(own, { s, at, text: body.text });
    } else {
      if (this.deletes.has(own)) return [];
      this.deletes.add(own);
    }
    if (!this.lookup(own)) return [];
    // Replies quote the message that owns the ID: a change of another (a copy of its ID) changes no quote
    // (review 32's third pass: deleting a copy refreshed every reply to the genuine message).
    if (this.keys.get(body.target)?.key !== own) return [own];
    // A delete happens once per message, and its text must leave every quote of it on clients
    // (review 32's second pass: replies past the newest 64 kept quoting a deleted message).
    if (body.t === 'delete') return [own, ...(this.children.get(body.target) ?? [])];
    return [own, ...this.repliesTo(body.target)];
  }

  /**
   * Its author's delete of message `key` was received, maybe not yet applied: a file it
   * names is neither fetched nor re-shared (dropping its chunks waits for `apply`).
   */
  deleteReceived(key: string): boolean {
    return this.deletesReceived.has(key);
  }

  /** `m` as shown now: its author's last edit, a tombstone once deleted, its reactions and the quote of its parent. */
  view(m: ChatMessage): ChatMessage {
    const key = `${m.sender}:${m.id}`;
    if (this.deletes.has(key)) return { ...m, text: '', deleted: true };
    const out: ChatMessage = { ...m };
    // A file message's text is its file's name: an edit never changes it (docs/protocol.md §13).
    const edit = m.file ? undefined : this.edits.get(key);
    if (edit) {
      out.text = edit.text;
      out.editedAt = edit.at;
    }
    const reactions = this.keys.get(m.id)?.key === key ? this.reactionsOf(m.id) : [];
    if (reactions.length > 0) out.reactions = reactions;
    const parent = this.parentOf.get(key);
    if (parent) out.replyTo = this.quote(parent);
    return out;
  }

  private reactionsOf(id: string): { emoji: string; by: string[] }[] {
    const out: { emoji: string; by: string[] }[] = [];
    for (const [emoji, byReactor] of this.reactions.get(id) ?? []) {
      const by = [...byReactor].filter(([, r]) => r.on).map(([reactor]) => reactor);
      if (by.length > 0) out.push({ emoji, by });
    }
    return out;
  }

  private quote(id: string): NonNullable<ChatMessage['replyTo']> {
    const key = this.keys.get(id)?.key;
    const parent = key ? this.lookup(key) : undefined;
    if (!key || !parent) return { id };
    if (this.deletes.has(key)) return { id, sender: parent.sender, senderName: parent.senderName, deleted: true };
    const text = (parent.file ? undefined : this.edits.get(key)?.text) ?? parent.text;
    return { id, sender: parent.sender, senderName: parent.senderName, excerpt: text.slice(0, EXCERPT_CHARS) };
  }
}
