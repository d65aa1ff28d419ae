/**
 * Search in a group's history as this device holds it (issue 18 §3; docs/ui.md
 * "Search"): the peer scans its decrypted history (`chat.search`); results show
 * newest first with who and when, and a click shows the message in the chat
 * (loading earlier messages when it is not loaded yet).
 */
import { useEffect, useState } from 'react';
import type { ChatMessage } from '../../app/api/contract.js';
import { errorText, useSession } from './context.js';
import { clockTime, dayLabel } from './format.js';

interface Props {
  group: string;
  onPick(m: ChatMessage): void;
}

export function Search({ group, onPick }: Props) {
  const { client } = useSession();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<ChatMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      client
        .call('chat.search', { group, query: q.slice(0, 200), limit: 50 })
        .then((r) => live && (setResults(r), setError(null)))
        .catch((err) => live && setError(errorText(err)));
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, group, client]);

  return (
    <div className="search">
      <input
        type="search"
        data-testid="search-input"
        placeholder="Search messages on this device"
        aria-label="Search messages"
        value={query}
        maxLength={200}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setQuery('')}
      />
      {(results || error) && (
        <div className="search-results" role="listbox" aria-label="Search results">
          {error && <p className="muted small">Search failed: {error}</p>}
          {results?.length === 0 && <p className="muted small">Nothing found in the history on this device.</p>}
          {results?.map((m) => (
            <button
              key={m.id}
              type="button"
              role="option"
              aria-selected={false}
              className="search-result"
              data-testid="search-result"
              data-message-id={m.id}
              onClick={() => {
                onPick(m);
                setQuery('');
              }}
            >
              <strong>{m.senderName}</strong>
              <span className="muted small">
                {dayLabel(m.sentAt)} {clockTime(m.sentAt)}
              </span>
              <span className="search-text" dir="auto">
                {m.file ? `📎 ${m.file.name}` : m.text.slice(0, 160)}
              </span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
