/**
 * The desktop app's main process, as a function of the Electron API it is
 * given (main.ts passes the real one; test/unit/main-shell.test.ts a stand-in):
 * forks the peer (engine + libp2p + store) into an Electron `utilityProcess`
 * (peer-link.ts → peer-process.ts, the same `startPeer` the headless modes
 * run), serves the built UI on the privileged `app://` scheme under a strict
 * CSP, and bridges the renderer to the peer's API over IPC — validating every
 * payload both ways (ipc-validation.ts) before it is forwarded. One window, one
 * instance; `conclave://join/...` links (protocol handler, second-instance argv)
 * open the join flow; new messages raise a desktop notification when the
 * window is not focused. The profile's storage key is wrapped by `safeStorage`
 * (a weak Linux backend is refused: profile-key.ts) and handed to the peer
 * process once.
 *
 * Thin by design (STYLE §11): no network, no disk writes but the wrapped key,
 * so the window never waits on either; the pure parts live in sibling modules.
 */
import type * as Electron from 'electron';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DESKTOP_CSP } from '../app/ui-serving/csp.js';
import { COMMON_HEADERS, contentTypeOf, rendererDir, resolveRendererFile } from '../app/ui-serving/renderer-files.js';
import type { IPC as IpcChannels } from '../renderer/src/bridge-api.js';
import { checkCall, checkEvent, type CallReply } from './ipc-validation.js';
import { findJoinLink, parseJoinLink, PROTOCOL } from './join-link.js';
import { notificationText } from './notification-text.js';
import { startPeerProcess, type Fork, type PeerLink } from './peer-link.js';
import { loadOrCreateProfileKey, WeakKeychainError } from './profile-key.js';
import { APP_ENTRY, APP_HOST, APP_ORIGIN, APP_SCHEME, isExternalLinkAllowed, isNavigationAllowed, isPermissionAllowed, secureWebPreferences } from './window-security.js';

/** The parts of the `electron` module the shell uses. */
export type ShellElectron = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'dialog' | 'ipcMain' | 'Notification' | 'protocol' | 'safeStorage' | 'session' | 'shell' | 'utilityProcess'>;

export interface ShellEnv {
  /** The app root (checkout or packaged app): the UI is in <root>/dist/renderer. */
  appRoot: string;
  /** The compiled preload (preload.cjs) and the peer process entry (peer-process.js). */
  preload: string;
  peerEntry: string;
  argv: readonly string[];
  platform: NodeJS.Platform;
  /** process.defaultApp: started as `electron path/to/main.js` (development). */
  defaultApp: boolean;
  execPath: string;
}

const IPC: typeof IpcChannels = { call: 'conclave:call', event: 'conclave:event', joinLink: 'conclave:join-link', ready: 'conclave:ready' };

const KEYCHAIN_HELP =
  'Conclave stores your keys encrypted with a key kept in the system keychain. Unlock or install a keychain (on Linux: a Secret Service such as GNOME Keyring or KWallet) and start again, or use the headless peer (npx conclave peer, npm run web), whose key file PROFILE/storage.key is readable only by you.';

export function runShell(electron: ShellElectron, env: ShellEnv): void {
  const { app, BrowserWindow, dialog, ipcMain, Notification, protocol, safeStorage, session, shell, utilityProcess } = electron;
  let win: Electron.BrowserWindow | null = null;
  let peer: PeerLink | null = null;
  let pendingJoin: string | null = findJoinLink(env.argv);

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
    const root = rendererDir(env.appRoot);
    protocol.handle(APP_SCHEME, async (request) => {
      const url = new URL(request.url);
      const file = url.host === APP_HOST ? resolveRendererFile(root, url.pathname) : null;
      if (!file) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
      const body = await readFile(file);
      return new Response(body, { headers: { 'content-type': contentTypeOf(file), 'content-security-policy': DESKTOP_CSP, ...COMMON_HEADERS } });
    });
  }

  /** Only our own page, in our own window, may use the bridge. */
  function fromOurPage(event: Electron.IpcMainInvokeEvent | Electron.IpcMainEvent): boolean {
    const frameUrl = event.senderFrame?.url ?? '';
    return win !== null && event.sender === win.webContents && frameUrl.startsWith(`${APP_ORIGIN}/`);
  }

  function bridgeApi(running: PeerLink): void {
    ipcMain.handle(IPC.call, async (event, message: unknown): Promise<CallReply> => {
      if (!fromOurPage(event)) return { ok: false, code: -32001, message: 'not allowed from this frame' };
      const checked = checkCall(message);
      if (!checked.ok) return checked;
      return running.call(checked.method, checked.params);
    });
    ipcMain.on(IPC.ready, (event) => {
      if (fromOurPage(event)) flushJoinLink();
    });
    running.subscribe((event, payload) => {
      if (!checkEvent(event, payload)) return;
      win?.webContents.send(IPC.event, { event, payload });
      if (event === 'chat.message') void notifyMessage(running, payload as { group: string; sender: string; senderName: string; text: string });
    });
  }

  async function notifyMessage(running: PeerLink, m: { group: string; sender: string; senderName: string; text: string }): Promise<void> {
    if (!win || win.isFocused() || m.sender === running.peerId || !Notification.isSupported()) return;
    const reply = await running.call('group.list', {});
    const groups = (reply.ok && Array.isArray(reply.result) ? reply.result : []) as { group: string; name: string }[];
    const groupName = groups.find((g) => g.group === m.group)?.name;
    const n = new Notification({ ...notificationText(m, groupName, env.platform), silent: false });
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
      webPreferences: secureWebPreferences(env.preload),
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
      storageKey = loadOrCreateProfileKey(join(userData, 'profile-key.json'), safeStorage, (n) => new Uint8Array(randomBytes(n)), env.platform);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      dialog.showErrorBox('Conclave cannot protect your profile', err instanceof WeakKeychainError ? message : `${message}\n\n${KEYCHAIN_HELP}`);
      app.exit(1);
      return;
    }
    session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(isPermissionAllowed(permission)));
    session.defaultSession.setPermissionCheckHandler((_wc, permission) => isPermissionAllowed(permission));
    serveRenderer();
    const fork: Fork = (modulePath, args, options) => utilityProcess.fork(modulePath, args, options);
    try {
      peer = await startPeerProcess(fork, env.peerEntry, { profile: join(userData, 'profile'), storageKey });
    } catch (err) {
      dialog.showErrorBox('Conclave could not start', err instanceof Error ? err.message : String(err));
      app.exit(1);
      return;
    }
    peer.onExit((code, expected) => {
      if (expected) return;
      peer = null;
      dialog.showErrorBox('Conclave stopped', `The peer process ended unexpectedly (code ${code}). Your profile is saved; start Conclave again.`);
      app.exit(1);
    });
    bridgeApi(peer);
    createWindow();
  }

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  if (env.platform === 'win32') app.setAppUserModelId('org.conclave.desktop'); // notifications on Windows
  if (env.defaultApp && env.argv[1]) app.setAsDefaultProtocolClient(PROTOCOL, env.execPath, [resolve(env.argv[1])]);
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
  app.whenReady().then(boot, (err: unknown) => {
    console.error(err);
    app.exit(1);
  });
  app.on('activate', () => {
    if (peer && BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    if (env.platform !== 'darwin') app.quit();
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
