/**
 * The desktop app's entry (dist/main/main/main.js): hands the real Electron API
 * and this process's facts to the shell (shell.ts), which is where everything
 * happens. Kept this small so the shell can be tested with a stand-in Electron.
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, protocol, safeStorage, session, shell, utilityProcess } from 'electron';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runShell } from './shell.js';

runShell(
  { app, BrowserWindow, dialog, ipcMain, Notification, protocol, safeStorage, session, shell, utilityProcess },
  {
    // dist/main/main/main.js → the app root (checkout or packaged app).
    appRoot: resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..'),
    preload: fileURLToPath(new URL('./preload.cjs', import.meta.url)),
    peerEntry: fileURLToPath(new URL('./peer-process.js', import.meta.url)),
    argv: process.argv,
    platform: process.platform,
    defaultApp: process.defaultApp === true,
    execPath: process.execPath,
  },
);
