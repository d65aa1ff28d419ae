/**
 * Entry: picks the transport. Inside the desktop app the preload has exposed
 * `window.conclave`; in a browser the page was opened from a link the web-mode
 * peer printed, whose single-use `?launch=` code the page trades for the API
 * token over its WebSocket (a `?token=` a program put in the URL works too).
 * Both leave the address bar at once; the token lives in the tab's sessionStorage,
 * a code not yet traded too (so a reload before the trade still works).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import type { ConclaveBridge } from './bridge-api.js';
import { bridgeClient } from './bridge-client.js';
import type { ConclaveClient } from './client.js';
import { apiUrlFromLocation, wsClient } from './ws-client.js';
import './styles.css';

declare global {
  interface Window {
    conclave?: ConclaveBridge;
  }
}

const TOKEN_KEY = 'conclave.token';
const LAUNCH_KEY = 'conclave.launch';

type Credential = { token: string } | { launch: string };

/** Takes `launch` and `token` out of the address bar into sessionStorage; the credential this tab holds, or null. */
function browserCredential(): Credential | null {
  const params = new URLSearchParams(location.search);
  const launch = params.get('launch');
  const token = params.get('token');
  if (launch) sessionStorage.setItem(LAUNCH_KEY, launch);
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  if (launch !== null || token !== null) {
    params.delete('launch');
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  // A new link wins over a token kept from before (another peer run, say).
  const pendingLaunch = sessionStorage.getItem(LAUNCH_KEY);
  if (pendingLaunch && !token) return { launch: pendingLaunch };
  const kept = sessionStorage.getItem(TOKEN_KEY);
  return kept ? { token: kept } : null;
}

function connect(): ConclaveClient | null {
  if (window.conclave) return bridgeClient(window.conclave);
  const credential = browserCredential();
  if (!credential) return null;
  const client =
    'launch' in credential
      ? wsClient({
          url: apiUrlFromLocation(location),
          launch: credential.launch,
          onToken: (token) => {
            sessionStorage.setItem(TOKEN_KEY, token);
            sessionStorage.removeItem(LAUNCH_KEY);
          },
        })
      : wsClient({ url: apiUrlFromLocation(location), token: credential.token });
  // A refused token or link is useless from now on: forget it, so a reload says to open a printed link.
  client.onLinkState((state) => {
    if (state !== 'refused') return;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(LAUNCH_KEY);
  });
  return client;
}

const root = createRoot(document.getElementById('root')!);
const client = connect();
root.render(
  <StrictMode>
    {client ? (
      <App client={client} />
    ) : (
      <div className="app-loading">
        <h1>Conclave</h1>
        <p className="muted">This page needs a link printed by <code>npm run web</code>. Open the newest one it shows (each link opens one tab).</p>
      </div>
    )}
  </StrictMode>,
);
