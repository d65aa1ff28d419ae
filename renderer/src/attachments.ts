/**
 * Files and pictures on the client's side (issue 18 §1; docs/ui.md "Files and
 * pictures"): sending a File to the peer in 512 KiB pieces (`file.begin`,
 * `file.chunk`, `file.finish`), a picture's thumbnail made here (a JPEG of at
 * most 320 px, small enough to travel inside the message), reading a received
 * file back, and the state of every file this client has heard of, kept outside
 * React and fed by `file.progress` events.
 */
import { useSyncExternalStore } from 'react';
import type { ChatMessage, FileStatus } from '../../app/api/contract.js';
import type { ConclaveClient } from './client.js';

const PIECE = 512 * 1024;
const THUMB_PX = 320;
const THUMB_MAX_CHARS = 24 * 1024;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function pictureUrl(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${toBase64(bytes)}`;
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function isPicture(mime: string): boolean {
  return /^image\/(png|jpeg|gif|webp|bmp|avif)$/.test(mime);
}

/** A JPEG thumbnail of a picture, at most 320 px a side and 24 K characters; undefined when it cannot be drawn. */
export async function makeThumb(file: Blob): Promise<string | undefined> {
  try {
    const bitmap = await createImageBitmap(file);
    for (const [px, quality] of [[THUMB_PX, 0.7], [200, 0.6], [120, 0.5]] as const) {
      const scale = Math.min(1, px / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const url = canvas.toDataURL('image/jpeg', quality);
      if (url.length <= THUMB_MAX_CHARS) return url;
    }
  } catch {
    /* not a picture this browser can decode: no thumbnail */
  }
  return undefined;
}

/** A file being sent from this client, before its message exists. */
export interface PendingUpload {
  key: string;
  group: string;
  name: string;
  size: number;
  sent: number;
  state: 'sending' | 'failed';
  error?: string;
}

type Listener = () => void;

/** File states by `group:file`, and this client's uploads in flight. */
export class FileStates {
  private readonly states = new Map<string, FileStatus>();
  private uploads: PendingUpload[] = [];
  private readonly listeners = new Set<Listener>();
  private seq = 0;

  constructor(private readonly client: ConclaveClient) {
    client.on('file.progress', (s) => this.put(s));
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private put(s: FileStatus): void {
    this.states.set(`${s.group}:${s.file}`, s);
    this.changed();
  }

  get(group: string, file: string): FileStatus | undefined {
    return this.states.get(`${group}:${file}`);
  }

  pending(group: string): PendingUpload[] {
    return this.uploads.filter((u) => u.group === group);
  }

  /** Asks the peer once where a file stands (a message loaded from history). */
  async refresh(group: string, file: string): Promise<void> {
    if (this.states.has(`${group}:${file}`)) return;
    // A message just arrived may not be followed by the peer's file service yet (it looks every second).
    const s = await this.client.call('file.status', { group, file }).catch(async () => {
      await new Promise((r) => setTimeout(r, 1500));
      return this.client.call('file.status', { group, file });
    });
    if (!this.states.has(`${group}:${file}`) || s.state !== 'fetching') this.put(s);
  }

  private setUpload(key: string, change: Partial<PendingUpload> | null): void {
    this.uploads = change === null ? this.uploads.filter((u) => u.key !== key) : this.uploads.map((u) => (u.key === key ? { ...u, ...change } : u));
    this.changed();
  }

  dismiss(key: string): void {
    this.setUpload(key, null);
  }

  /** Sends `file` to the group: its bytes in pieces, then the file message; resolves with the message. */
  async send(group: string, file: File): Promise<ChatMessage> {
    const key = `u${++this.seq}`;
    this.uploads = [...this.uploads, { key, group, name: file.name || 'pasted', size: file.size, sent: 0, state: 'sending' }];
    this.changed();
    let upload: string | null = null;
    try {
      const mime = file.type || 'application/octet-stream';
      const thumb = isPicture(mime) ? await makeThumb(file) : undefined;
      ({ upload } = await this.client.call('file.begin', { group, name: (file.name || 'pasted').slice(0, 255), size: file.size, mime, ...(thumb ? { thumb } : {}) }));
      for (let at = 0; at < file.size; at += PIECE) {
        const piece = new Uint8Array(await file.slice(at, at + PIECE).arrayBuffer());
        await this.client.call('file.chunk', { upload, offset: at, data: toBase64(piece) });
        this.setUpload(key, { sent: Math.min(file.size, at + PIECE) });
      }
      const message = await this.client.call('file.finish', { upload });
      if (message.file) this.put({ group, file: message.file.id, state: 'ready', have: file.size, size: file.size });
      this.setUpload(key, null);
      return message;
    } catch (err) {
      if (upload) void this.client.call('file.cancel', { upload }).catch(() => undefined);
      this.setUpload(key, { state: 'failed', error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }
}

const perClient = new WeakMap<ConclaveClient, FileStates>();

/** The one FileStates of a client (created on first use, fed from then on). */
export function fileStatesOf(client: ConclaveClient): FileStates {
  let s = perClient.get(client);
  if (!s) perClient.set(client, (s = new FileStates(client)));
  return s;
}

export function useFileState(states: FileStates, group: string, file: string): FileStatus | undefined {
  return useSyncExternalStore(states.subscribe, () => states.get(group, file));
}

export function usePendingUploads(states: FileStates, group: string): PendingUpload[] {
  const all = useSyncExternalStore(states.subscribe, () => states.pending(group).map((u) => `${u.key}:${u.sent}:${u.state}`).join('|'));
  void all;
  return states.pending(group);
}

/** A whole file read back from the peer (512 KiB per call). */
export async function readWhole(client: ConclaveClient, group: string, file: string, size: number): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(size);
  for (let offset = 0; offset < size; ) {
    const { data } = await client.call('file.read', { group, file, offset, length: PIECE });
    const bytes = fromBase64(data);
    if (bytes.length === 0) break;
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
