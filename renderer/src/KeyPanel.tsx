/**
 * The key debug panel: the group's flat key table made visible (003 FIG. 4).
 * Rows are the W symbol positions, columns the V values; the cell (s, v) is the
 * KEK held by every member whose participant ID has value v at position s. Each
 * known slot is coloured by its current owner (the member that heartbeats it and
 * replaces it on change) and shows version·revision, whether this device holds
 * its bytes, and the age of the owner's last heartbeat. The TEK card shows which
 * group key is in use and how it came to be (one creator, a fractional-key panel
 * round, or a merge). The live log is the engine's own record of joins,
 * exclusions, merges, failovers and panel rounds, merged with the inputs the
 * engine refused, counted per reason and sender (`key-log.ts`), so a user can
 * watch an attack being refused. Members are named and coloured from the peer
 * IDs the peer sends with the table: nothing here converts keys.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { GroupSummary, KeyEntry, KeysTable, Member } from '../../app/api/contract.js';
import { errorText, useEvent, useSession } from './context.js';
import { ageText, agoText } from './format.js';
import { hueOf, symbolsText } from './identity.js';
import { Icon } from './Icon.js';
import { keyLogLines, keyNames, type KeyNames } from './key-log.js';

type Kek = KeyEntry & { slot: { kind: 'kek'; symbol: number; value: number } };

function isKek(e: KeyEntry): e is Kek {
  return e.slot.kind === 'kek';
}

export function KeyPanel({ group, members }: { group: GroupSummary; members: Member[] }) {
  const { client } = useSession();
  const [table, setTable] = useState<KeysTable | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Kek | null>(null);

  const refresh = useCallback(() => {
    client
      .call('keys.table', { group: group.group })
      .then((t) => {
        setTable(t);
        setError(null);
      })
      .catch((err) => setError(errorText(err)));
  }, [client, group.group]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 1000); // heartbeat ages tick
    return () => clearInterval(timer);
  }, [refresh]);
  useEvent(client, 'keys.changed', (e) => e.group === group.group && refresh());

  const names = useMemo(() => keyNames(table ?? { self: '', peerIds: {} }, members), [table, members]);
  const { nameOf } = names;

  const cells = useMemo(() => {
    const map = new Map<string, Kek>();
    for (const s of table?.slots ?? []) if (isKek(s)) map.set(`${s.slot.symbol}:${s.slot.value}`, s);
    return map;
  }, [table]);

  const owners = useMemo(() => {
    const count = new Map<string, number>();
    for (const s of cells.values()) if (s.owner) count.set(s.owner, (count.get(s.owner) ?? 0) + 1);
    return [...count.entries()].sort((a, b) => b[1] - a[1]);
  }, [cells]);

  if (!table) {
    return (
      <section className="pane keys" data-testid="debug-panel" aria-label="Key table">
        <p className="muted">{error ? `Key table unavailable: ${error}` : 'Loading the key table…'}</p>
      </section>
    );
  }

  const held = [...cells.values()].filter((s) => s.held).length;
  const log = keyLogLines(table, names);

  return (
    <section className="pane keys" data-testid="debug-panel" aria-label="Key table">
      <header className="pane-head">
        <div>
          <h2>Key table</h2>
          <div className="key-stats">
            <span className="stat-chip">
              <b>W</b> {table.W} symbols
            </span>
            <span className="stat-chip">
              <b>V</b> {table.V} values
            </span>
            <span className="stat-chip">
              <b>{cells.size}</b> of {table.W * table.V} slots known
            </span>
            <span className="stat-chip">
              <b>{held}</b> held here
            </span>
            {table.blocklist.length > 0 && (
              <span className="stat-chip">
                <b>{table.blocklist.length}</b> blocked
              </span>
            )}
          </div>
          <p className="muted small self-id">
            Your participant ID{' '}
            <span className="mono" data-testid="self-participant-id">
              {symbolsText(table.selfId)}
            </span>{' '}
            selects one KEK per row (outlined).
          </p>
        </div>
      </header>

      <div className="keys-layout">
        <div className="card grid-card">
          <div className="key-grid" style={{ gridTemplateColumns: `2.4em repeat(${table.V}, minmax(2.1rem, 1fr))` }} role="grid" aria-label="KEK slots by symbol and value">
            <div className="corner muted small" role="columnheader" title="rows: symbol position s; columns: value v">
              s/v
            </div>
            {Array.from({ length: table.V }, (_, v) => (
              <div key={`h${v}`} className="col-head muted small" role="columnheader">
                {v}
              </div>
            ))}
            {Array.from({ length: table.W }, (_, s) => (
              <KeyRow key={s} symbol={s} V={table.V} selfValue={table.selfId[s]} cells={cells} names={names} selfKey={table.self} blocked={new Set(table.blocklist)} onSelect={setSelected} />
            ))}
          </div>
          <div className="legend">
            {owners.map(([owner, n]) => (
              <span key={owner} className="legend-item" style={{ ['--h' as string]: names.hueOfKey(owner) }}>
                <span className="swatch-sm" />
                {nameOf(owner)} <span className="muted">({n})</span>
              </span>
            ))}
            <span className="legend-item">
              <span className="swatch-sm held-mark" /> held by this device
            </span>
            <span className="legend-item">
              <span className="swatch-sm own-mark" /> your participant ID
            </span>
            {[...cells.values()].some((s) => !s.owner) && (
              <span className="legend-item" title="Its owner was excluded or left; the next key change replaces it">
                <span className="swatch-sm orphan-mark" /> no owner
              </span>
            )}
          </div>
          {selected && <SlotDetail slot={selected} names={names} onClose={() => setSelected(null)} />}
        </div>

        <div className="keys-side">
          <TekCard tek={table.tek} names={names} />
          {table.blocklist.length > 0 && (
            <div className="card">
              <h3>Blocklist</h3>
              <ul className="plain">
                {table.blocklist.map((b) => (
                  <li key={b} className="mono small" title={b}>
                    {nameOf(b)}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div className="card log-card">
            <h3>
              Live log <span className="live-dot" aria-hidden />
            </h3>
            <ol className="key-log" data-testid="key-log" aria-live="polite">
              {log.length === 0 && <li className="muted small">Nothing yet.</li>}
              {log.map((entry, i) =>
                'count' in entry ? (
                  <li key={`r-${entry.reason}-${entry.from}`} data-kind="rejected" data-testid="key-log-rejection" data-reason={entry.reason} data-expected={entry.expected} data-from={entry.fromPeerId} data-count={entry.count} title={entry.detail}>
                    <time className="muted small mono" title={new Date(entry.at).toLocaleString()}>
                      {logTime(entry.at)}
                    </time>
                    {entry.expected ? <span className="badge log-ignored">ignored</span> : <span className="badge log-rejected">rejected</span>}
                    <span className={entry.expected ? 'small muted' : 'small'}>
                      {entry.expected ? 'Ignored from' : 'Refused from'}{' '}
                      <strong className="reject-from" style={{ ['--h' as string]: hueOf(entry.fromPeerId) }} title={entry.fromPeerId}>
                        {entry.fromName}
                      </strong>
                      : {entry.reasonText}
                      {entry.count > 1 && <span className={entry.expected ? 'mono' : 'reject-count mono'}> ×{entry.count}</span>}
                      {entry.detail && <span className="muted reject-detail"> — {entry.detail}</span>}
                    </span>
                  </li>
                ) : (
                  <li key={`${entry.at}-${i}`} data-kind={entry.kind}>
                    <time className="muted small mono" title={new Date(entry.at).toLocaleString()}>
                      {logTime(entry.at)}
                    </time>
                    <span className={`badge log-${entry.kind}`}>{entry.kind}</span>
                    <span className="small">{entry.text}</span>
                  </li>
                ),
              )}
            </ol>
          </div>
        </div>
      </div>
    </section>
  );
}

interface RowProps {
  symbol: number;
  V: number;
  selfValue: number | undefined;
  selfKey: string;
  blocked: Set<string>;
  cells: Map<string, Kek>;
  names: KeyNames;
  onSelect(slot: Kek): void;
}

function KeyRow({ symbol, V, selfValue, selfKey, blocked, cells, names, onSelect }: RowProps) {
  const { nameOf, peerIdOf } = names;
  return (
    <>
      <div className="row-head muted small" role="rowheader">
        s{symbol}
      </div>
      {Array.from({ length: V }, (_, value) => {
        const slot = cells.get(`${symbol}:${value}`);
        const mine = value === selfValue;
        if (!slot) {
          return <div key={value} className={`key-cell empty ${mine ? 'mine' : ''}`} data-testid="key-slot-empty" data-symbol={symbol} data-value={value} title="No heartbeat heard for this slot" />;
        }
        return (
          <button
            type="button"
            key={value}
            className={`key-cell ${slot.held ? 'held' : ''} ${mine ? 'mine' : ''} ${slot.owner === selfKey ? 'owned' : ''} ${slot.owner && blocked.has(slot.owner) ? 'blocked' : ''} ${slot.owner ? '' : 'orphan'}`}
            style={slot.owner ? { ['--h' as string]: names.hueOfKey(slot.owner) } : undefined}
            data-testid="key-slot"
            data-symbol={symbol}
            data-value={value}
            data-owner={slot.owner ? peerIdOf(slot.owner) : ''}
            data-owner-key={slot.owner ?? ''}
            data-owner-name={nameOf(slot.owner)}
            data-held={slot.held}
            data-version={slot.version}
            data-revision={slot.revision}
            title={`KEK (${symbol}, ${value}) · v${slot.version}.r${slot.revision} · owner ${nameOf(slot.owner)} · heartbeat ${ageText(slot.heartbeatAgeMs)}${slot.held ? ' · held here' : ''}`}
            onClick={() => onSelect(slot)}
          >
            <span className="vr mono">
              v{slot.version}.{slot.revision}
            </span>
            <span className="cell-foot">
              <span className="age mono">{ageText(slot.heartbeatAgeMs)}</span>
            </span>
          </button>
        );
      })}
    </>
  );
}

function SlotDetail({ slot, names, onClose }: { slot: Kek; names: KeyNames; onClose(): void }) {
  return (
    <div className="slot-detail" data-testid="slot-detail">
      <div className="row">
        <strong>
          KEK ({slot.slot.symbol}, {slot.slot.value})
        </strong>
        <button type="button" className="ghost icon-btn" onClick={onClose} aria-label="Close detail">
          <Icon name="close" size={14} />
        </button>
      </div>
      <dl className="kv compact">
        <dt>Version · revision</dt>
        <dd className="mono">
          {slot.version} · {slot.revision}
        </dd>
        <dt>Held here</dt>
        <dd>{slot.held ? 'yes' : 'no'}</dd>
        <KeyFacts entry={slot} names={names} />
      </dl>
    </div>
  );
}

function originText(tek: KeyEntry, nameOf: (k: string | null) => string): string {
  const o = tek.origin;
  if (!o) return 'unknown';
  switch (o.kind) {
    case 'single':
      return `single creator: ${nameOf(o.creator)}`;
    case 'panel':
      return `fractional-key panel, round ${o.round} (${o.members.map(nameOf).join(', ')})`;
    case 'merge':
      return `merge of ${o.creators.map(nameOf).join(' + ')}`;
  }
}

function TekCard({ tek, names }: { tek: KeyEntry | null; names: KeyNames }) {
  const { nameOf, peerIdOf } = names;
  return (
    <div
      className="card tek-card"
      data-testid="tek-info"
      data-version={tek?.version}
      data-revision={tek?.revision}
      data-owner={tek?.owner ? peerIdOf(tek.owner) : ''}
      data-origin={tek?.origin?.kind ?? ''}
      style={tek?.owner ? { ['--h' as string]: names.hueOfKey(tek.owner) } : undefined}
    >
      <h3>Group key (TEK)</h3>
      {!tek ? (
        <p className="muted">No group key yet.</p>
      ) : (
        <>
          <div className="tek-big">
            <span className="mono">v{tek.version}</span>
            <span className="muted">revision {tek.revision}</span>
            {tek.held ? <span className="badge ok">held</span> : <span className="badge danger">not held</span>}
          </div>
          <dl className="kv compact">
            <dt>Origin</dt>
            <dd data-testid="tek-origin">{originText(tek, nameOf)}</dd>
            <KeyFacts entry={tek} names={names} />
          </dl>
        </>
      )}
    </div>
  );
}

/** The facts every key entry has: who made it, who keeps it alive, its bytes' fingerprint, its heartbeat, its predecessor. */
function KeyFacts({ entry, names }: { entry: KeyEntry; names: KeyNames }) {
  const { nameOf } = names;
  return (
    <>
      <dt>Creators</dt>
      <dd>{entry.creators.map(nameOf).join(', ') || '—'}</dd>
      <dt>Owner</dt>
      <dd>
        <span className="owner-chip" style={entry.owner ? { ['--h' as string]: names.hueOfKey(entry.owner) } : undefined}>
          <span className="swatch-sm" />
          {nameOf(entry.owner)}
        </span>
      </dd>
      <dt>Fingerprint</dt>
      <dd className="mono">{entry.fingerprint ?? '—'}</dd>
      <dt>Heartbeat</dt>
      <dd>{entry.heartbeatAgeMs === null ? 'never heard' : agoText(entry.heartbeatAgeMs)}</dd>
      {entry.basedOn && (
        <>
          <dt>Based on</dt>
          <dd className="mono">
            v{entry.basedOn.version}.{entry.basedOn.revision}
          </dd>
        </>
      )}
    </>
  );
}

function logTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}
