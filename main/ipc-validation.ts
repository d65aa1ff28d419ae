/**
 * Main-process gatekeeping for the preload bridge (STYLE §11): every call the
 * renderer makes is checked against the contract before the peer sees it, and
 * every event is checked before it is forwarded. Pure: no Electron import, so
 * it is unit-tested without the binary.
 */
import { Events, Methods, type EventName, type MethodName } from '../app/api/contract.js';

/** What the renderer may call: the contract minus `auth` (the bridge is already trusted). */
export const BRIDGE_METHODS = (Object.keys(Methods) as MethodName[]).filter((m) => m !== 'auth');
export const BRIDGE_EVENTS = Object.keys(Events) as EventName[];

export type CallCheck =
  | { ok: true; method: Exclude<MethodName, 'auth'>; params: unknown }
  | { ok: false; code: number; message: string };

const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/** Validates one `conclave:call` IPC message: `{ method, params }` from the renderer. */
export function checkCall(message: unknown): CallCheck {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { ok: false, code: INVALID_REQUEST, message: 'expected { method, params }' };
  }
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (typeof method !== 'string' || !(BRIDGE_METHODS as string[]).includes(method)) {
    return { ok: false, code: METHOD_NOT_FOUND, message: `unknown method ${JSON.stringify(String(method).slice(0, 64))}` };
  }
  const name = method as Exclude<MethodName, 'auth'>;
  const parsed = Methods[name].params.safeParse(params ?? undefined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, code: INVALID_PARAMS, message: `invalid params for ${name}: ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, method: name, params: parsed.data };
}

/** Whether an event from the peer may be forwarded to the renderer as it is. */
export function checkEvent(event: string, payload: unknown): boolean {
  if (!(BRIDGE_EVENTS as string[]).includes(event)) return false;
  return Events[event as EventName].safeParse(payload).success;
}

/** The shape the preload resolves or rejects with: errors cross IPC as plain data. */
export type CallReply = { ok: true; result: unknown } | { ok: false; code: number; message: string };

export function errorReply(err: unknown): CallReply {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && typeof (err as { message?: unknown }).message === 'string') {
    return { ok: false, code: (err as { code: number }).code, message: (err as { message: string }).message };
  }
  return { ok: false, code: -32603, message: 'internal error' };
}
