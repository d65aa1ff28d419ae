/**
 * This peer on the network: its addresses, every open connection with how it is
 * carried (LAN, direct, relayed), and the peers blocked at the peer layer for
 * repeatedly sending what the group's authorization table forbids (issue 15 §1).
 */
import { useCallback, useEffect, useState } from 'react';
import type { Connection, Member, Result } from '../../app/api/contract.js';
import { errorText, useEvent, useSession } from './context.js';
import { hueOf, shortId } from './identity.js';

const KIND_TEXT: Record<Connection['kind'], { label: string; hint: string }> = {
  lan: { label: 'LAN', hint: 'Same local network' },
  direct: { label: 'Direct', hint: 'Straight connection over the internet' },
  relayed: { label: 'Relayed', hint: 'Through a circuit relay; still end-to-end encrypted' },
};

export function Network({ members }: { members: Member[] }) {
  const { client, notify } = useSession();
  const [info, setInfo] = useState<Result<'net.info'> | null>(null);

  const refresh = useCallback(() => {
    client
      .call('net.info', {})
      .then(setInfo)
      .catch((err) => notify(`Network info unavailable: ${errorText(err)}`, 'error'));
  }, [client, notify]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 5000);
    return () => clearInterval(timer);
  }, [refresh]);
  useEvent(client, 'net.connection', refresh);

  const nameOf = (peer: string) => members.find((m) => m.peerId === peer)?.name;
  const counts = { lan: 0, direct: 0, relayed: 0 };
  for (const c of info?.connections ?? []) counts[c.kind]++;

  return (
    <section className="pane network" aria-label="Network">
      <header className="pane-head">
        <div>
          <h2>Network</h2>
          <p className="muted small">Peer-to-peer over libp2p: Noise-encrypted transports, gossip for group messages.</p>
        </div>
        <div className="stat-row">
          {(Object.keys(counts) as Connection['kind'][]).map((k) => (
            <div key={k} className={`stat kind-${k}`}>
              <strong>{counts[k]}</strong>
              <span>{KIND_TEXT[k].label}</span>
            </div>
          ))}
        </div>
      </header>
      <div className="card">
        <h3>This device</h3>
        <dl className="kv">
          <dt>Peer ID</dt>
          <dd className="mono break" data-testid="net-peer-id">
            {info?.peerId ?? '…'}
          </dd>
          <dt>Addresses</dt>
          <dd>
            {info && info.addresses.length === 0 && <span className="muted">Not listening on any address</span>}
            <ul className="addr-list">
              {info?.addresses.map((a) => (
                <li key={a} className="mono small" data-testid="net-address">
                  {a}
                </li>
              ))}
            </ul>
          </dd>
        </dl>
      </div>
      <div className="card">
        <h3>Connections</h3>
        {info && info.connections.length === 0 ? (
          <p className="muted">No open connections. Peers on your LAN are found automatically; others are reached through the addresses in invites.</p>
        ) : (
          <table className="conn-table">
            <thead>
              <tr>
                <th>Peer</th>
                <th>Address</th>
                <th>Path</th>
              </tr>
            </thead>
            <tbody>
              {info?.connections.map((c) => (
                <tr key={`${c.peerId}|${c.address}`} data-testid="net-connection" data-peer={c.peerId} data-kind={c.kind}>
                  <td>
                    <span className="who" style={{ ['--h' as string]: hueOf(c.peerId) }}>
                      <span className="dot-h" />
                      {nameOf(c.peerId) ?? <span className="mono">{shortId(c.peerId, 8, 6)}</span>}
                    </span>
                  </td>
                  <td className="mono small break">{c.address}</td>
                  <td>
                    <span className={`badge kind-${c.kind}`} title={KIND_TEXT[c.kind].hint}>
                      {KIND_TEXT[c.kind].label}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card">
        <h3>Blocked peers</h3>
        {!info?.blocked || info.blocked.length === 0 ? (
          <p className="muted">No peer is blocked. A peer that keeps sending what the group does not allow from it is disconnected and refused for a while.</p>
        ) : (
          <table className="conn-table">
            <thead>
              <tr>
                <th>Peer</th>
                <th>Why</th>
                <th>Until</th>
              </tr>
            </thead>
            <tbody>
              {info.blocked.map((b) => (
                <tr key={b.peerId} data-testid="net-blocked" data-peer={b.peerId}>
                  <td className="mono">{shortId(b.peerId, 8, 6)}</td>
                  <td className="small break">{b.reason}</td>
                  <td className="small">{new Date(b.until).toLocaleTimeString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
