/**
 * The desktop app's main process: runs the peer (engine + libp2p + store) in
 * process via `startPeer`, serves the built UI on the privileged `app://`
 * scheme under a strict CSP, and bridges the renderer to the peer's API handler
 * over IPC — validating every payload both ways (ipc-validation.ts). One window,
 * one instance; `conclave://join/...` links (protocol handler, second-instance
 * argv) open the join flow; new messages raise a desktop notification when the
 * window is not focused. The profile's storage key is wrapped by `safeStorage`.
 *
 * Thin by design (STYLE §11): the pure parts live in the sibling modules and
 * are unit-tested without Electron.
 */
import '../app/net/shim.js';
import { app, BrowserWindow, dialog, ipcMain, Notification, protocol, safeStorage, session, shell, type IpcMainInvokeEvent } from 'electron';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPeer, type RunningPeer } from '../app/peer/peer.js';
import type { IPC as IpcChannels } from '../renderer/src/bridge-api.js';
import { checkCall, checkEvent, errorReply, type CallReply } from './ipc-validation.js';
import { findJoinLink, parseJoinLink, PROTOCOL } from './join-link.js';
import { loadOrCreateProfileKey } from './profile-key.js';
import { COMMON_HEADERS, contentTypeOf, rendererDir, resolveRendererFile } from '../app/ui-serving/renderer-files.js';
import { DESKTOP_CSP } from '../app/ui-serving/csp.js';
import { APP_ENTRY, APP_HOST, APP_ORIGIN, APP_SCHEME, isExternalLinkAllowed, isNavigationAllowed, isPermissionAllowed, secureWebPreferences } from './window-security.js';

const IPC: typeof IpcChannels = { call: 'conclave:call', event: 'conclave:event', joinLink: 'conclave:join-link', ready: 'conclave:ready' };

/** dist/main/main/main.js → the app root (checkout or packaged app). */
const APP_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));

let win: BrowserWindow | null = null;
let peer: RunningPeer | null = null;
let pendingJoin: string | null = findJoinLink(process.argv);

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

function deliverJoinLink(invite: string): void {
  pendingJoin = invite;
  if (win && !win.webContents.isLoading()) flushJoinLink();
  focusWindow();
}

function flushJoinLink(): void {
  if (!win || !pendingJoin) return;
  win.webContents.send(IPC.joinLink, pendingJoin);
  pendingJoin = null;
}

function focusWindow(): void {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function serveRenderer(): void {
  const root = rendererDir(APP_ROOT);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === APP_HOST ? resolveRendererFile(root, url.pathname) : null;
    if (!file) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    const body = await readFile(file);
    return new Response(body, { headers: { 'content-type': contentTypeOf(file), 'content-security-policy': DESKTOP_CSP, ...COMMON_HEADERS } });
  });
}

/** Only our own page, in our own window, may use the bridge. */
function fromOurPage(event: IpcMainInvokeEvent | Electron.IpcMainEvent): boolean {
  const frameUrl = event.senderFrame?.url ?? '';
  return win !== null && event.sender === win.webContents && frameUrl.startsWith(`${APP_ORIGIN}/`);
}

function bridgeApi(running: RunningPeer): void {
  ipcMain.handle(IPC.call, async (event, message: unknown): Promise<CallReply> => {
    if (!fromOurPage(event)) return { ok: false, code: -32001, message: 'not allowed from this frame' };
    const checked = checkCall(message);
    if (!checked.ok) return checked;
    try {
      return { ok: true, result: await running.api.call(checked.method, checked.params) };
    } catch (err) {
      return errorReply(err);
    }
  });
  ipcMain.on(IPC.ready, (event) => {
    if (fromOurPage(event)) flushJoinLink();
  });
  running.api.subscribe((event, payload) => {
    if (!checkEvent(event, payload)) return;
    win?.webContents.send(IPC.event, { event, payload });
    if (event === 'chat.message') void notifyMessage(running, payload as { group: string; sender: string; senderName: string; text: string });
  });
}

async function notifyMessage(running: RunningPeer, m: { group: string; sender: string; senderName: string; text: string }): Promise<void> {
  if (!win || win.isFocused() || m.sender === running.peerId || !Notification.isSupported()) return;
  const groups = (await running.api.call('group.list', {}).catch(() => [])) as { group: string; name: string }[];
  const groupName = groups.find((g) => g.group === m.group)?.name;
  const n = new Notification({
    title: groupName ? `${m.senderName} · ${groupName}` : m.senderName,
    body: m.text.length > 180 ? `${m.text.slice(0, 177)}…` : m.text,
    silent: false,
  });
  n.on('click', focusWindow);
  n.show();
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 620,
    show: false,
    title: 'Conclave',
    backgroundColor: '#0f111a',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(PRELOAD),
  });
  win.once('ready-to-show', () => win?.show());
  win.webContents.on('did-finish-load', flushJoinLink);
  win.on('closed', () => {
    win = null;
  });
  void win.loadURL(APP_ENTRY);
}

/** Every web contents, present or future: no navigation away, no new windows, no webviews. */
function lockDownContents(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isNavigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isNavigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isExternalLinkAllowed(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

async function boot(): Promise<void> {
  const userData = app.getPath('userData');
  let storageKey: Uint8Array;
  try {
    storageKey = loadOrCreateProfileKey(join(userData, 'profile-key.json'), safeStorage, (n) => new Uint8Array(randomBytes(n)));
  } catch (err) {
    dialog.showErrorBox('Conclave cannot protect your profile', `${err instanceof Error ? err.message : String(err)}\n\nConclave stores your keys encrypted with a key kept in the system keychain. Unlock or install a keychain (on Linux: a Secret Service such as GNOME Keyring or KWallet) and start again.`);
    app.exit(1);
    return;
  }
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(isPermissionAllowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => isPermissionAllowed(permission));
  serveRenderer();
  try {
    peer = await startPeer({ profile: join(userData, 'profile'), storageKey, log: (line) => console.log(`[peer] ${line}`) });
  } catch (err) {
    dialog.showErrorBox('Conclave could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  bridgeApi(peer);
  createWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  if (process.platform === 'win32') app.setAppUserModelId('org.conclave.desktop'); // notifications on Windows
  if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient(PROTOCOL, process.execPath, [resolve(process.argv[1])]);
  else app.setAsDefaultProtocolClient(PROTOCOL);

  app.on('second-instance', (_e, argv) => {
    const invite = findJoinLink(argv);
    if (invite) deliverJoinLink(invite);
    else focusWindow();
  });
  app.on('open-url', (event, url) => {
    event.preventDefault();
    const invite = parseJoinLink(url);
    if (invite) deliverJoinLink(invite);
  });
  lockDownContents();
  app.whenReady().then(boot, (err) => {
    console.error(err);
    app.exit(1);
  });
  app.on('activate', () => {
    if (peer && BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let stopping = false;
  app.on('before-quit', (event) => {
    if (!peer || stopping) return;
    stopping = true;
    event.preventDefault();
    const running = peer;
    peer = null;
    void running.stop().finally(() => app.quit());
  });
}
