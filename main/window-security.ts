/**
 * The window's security settings in one place (STYLE §11; Electron's security
 * checklist): isolated, sandboxed, no Node in the page, a strict CSP on the
 * app's own scheme, and no navigation or new windows. Pure, unit-tested.
 * The CSP itself lives in app/ui-serving/csp.ts (browser mode serves the same UI).
 */

/** The UI is served from this privileged standard scheme, never from file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'conclave';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  navigateOnDragDrop: false;
  spellcheck: true;
}

export function secureWebPreferences(preload: string): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: true,
  };
}

/** In-page navigation is allowed only within the app's own origin (hash/query changes of the entry). */
export function isNavigationAllowed(target: string): boolean {
  try {
    const url = new URL(target);
    return `${url.protocol}//${url.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** Links the user clicks that may be handed to the system browser (never our own schemes). */
export function isExternalLinkAllowed(target: string): boolean {
  try {
    const url = new URL(target);
    return url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Permission requests the page may make (none needs more than the clipboard write). */
export function isPermissionAllowed(permission: string): boolean {
  return permission === 'clipboard-sanitized-write';
}
