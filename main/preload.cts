/**
 * The preload (sandboxed, so CommonJS and only `electron` may be required):
 * exposes `window.conclave` — the control-API contract and the join links the
 * OS hands the app — through contextBridge, and nothing else (STYLE §11).
 * It forwards; main validates every payload against app/api/contract.ts.
 * Channel names are checked against renderer/src/bridge-api.ts at compile time.
 */
// A sandboxed preload is CommonJS and may only require('electron'); verbatimModuleSyntax wants this form.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type { EventName } from '../app/api/contract.js';
import type { ConclaveBridge, IPC } from '../renderer/src/bridge-api.js';

const CALL: (typeof IPC)['call'] = 'conclave:call';
const EVENT: (typeof IPC)['event'] = 'conclave:event';
const JOIN_LINK: (typeof IPC)['joinLink'] = 'conclave:join-link';
const READY: (typeof IPC)['ready'] = 'conclave:ready';

type Reply = { ok: true; result: unknown } | { ok: false; code: number; message: string };

const eventListeners = new Map<string, Set<(payload: unknown) => void>>();
const joinListeners = new Set<(invite: string) => void>();
const pendingLinks: string[] = [];

electron.ipcRenderer.on(EVENT, (_e, message: { event: string; payload: unknown }) => {
  for (const l of eventListeners.get(message.event) ?? []) l(message.payload);
});
electron.ipcRenderer.on(JOIN_LINK, (_e, invite: string) => {
  if (joinListeners.size === 0) pendingLinks.push(invite);
  for (const l of joinListeners) l(invite);
});

const bridge: ConclaveBridge = {
  async call(method, params) {
    const reply = (await electron.ipcRenderer.invoke(CALL, { method, params })) as Reply;
    if (reply.ok) return reply.result as never;
    throw new Error(reply.message);
  },
  on(event: EventName, listener: (payload: never) => void) {
    let set = eventListeners.get(event);
    if (!set) eventListeners.set(event, (set = new Set()));
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => {
      set.delete(l);
    };
  },
  onJoinLink(listener) {
    joinListeners.add(listener);
    for (const link of pendingLinks.splice(0)) listener(link);
    electron.ipcRenderer.send(READY);
    return () => {
      joinListeners.delete(listener);
    };
  },
};

electron.contextBridge.exposeInMainWorld('conclave', bridge);
