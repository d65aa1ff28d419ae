// The sandboxed preload (main/preload.cts), run the way Electron runs it: as
// CommonJS in a context whose `require` offers nothing but 'electron'. The
// stand-in contextBridge/ipcRenderer record what the preload exposes and sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';

const SOURCE = fileURLToPath(new URL('../../main/preload.cts', import.meta.url));

function loadPreload() {
  const js = ts.transpileModule(readFileSync(SOURCE, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const exposed = new Map<string, unknown>();
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => void>();
  const invoked: { channel: string; args: unknown[] }[] = [];
  const sent: string[] = [];
  let reply: unknown = { ok: true, result: { ok: true } };
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      on: (channel: string, fn: (event: unknown, ...args: unknown[]) => void) => handlers.set(channel, fn),
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push({ channel, args });
        return reply;
      },
      send: (channel: string) => sent.push(channel),
    },
  };
  const module = { exports: {} as Record<string, unknown> };
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  vm.runInNewContext(`(function (exports, require, module) {${js}\n})`, { Promise, Map, Set, Error })(module.exports, sandboxRequire, module);
  return { exposed, handlers, invoked, sent, required, setReply: (r: unknown) => (reply = r) };
}

type Bridge = {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, fn: (p: unknown) => void): () => void;
  onJoinLink(fn: (invite: string) => void): () => void;
};

test('the preload requires only electron and exposes exactly window.conclave = { call, on, onJoinLink }', () => {
  const p = loadPreload();
  assert.deepEqual(p.required, ['electron']);
  assert.deepEqual([...p.exposed.keys()], ['conclave']);
  assert.deepEqual(Object.keys(p.exposed.get('conclave') as object).sort(), ['call', 'on', 'onJoinLink']);
});

test('calls go to main over one invoke channel; errors come back as rejections', async () => {
  const p = loadPreload();
  const bridge = p.exposed.get('conclave') as Bridge;
  assert.deepEqual(await bridge.call('group.list', {}), { ok: true });
  // Objects built inside the preload's context have that realm's prototypes: compare as data.
  assert.deepEqual(JSON.parse(JSON.stringify(p.invoked)), [{ channel: 'conclave:call', args: [{ method: 'group.list', params: {} }] }]);
  p.setReply({ ok: false, code: -32602, message: 'invalid params for chat.send: text: too short' });
  await assert.rejects(bridge.call('chat.send', { text: '' }), /invalid params/);
});

test('events reach only their own listeners, and unsubscribing stops them', () => {
  const p = loadPreload();
  const bridge = p.exposed.get('conclave') as Bridge;
  const got: unknown[] = [];
  const off = bridge.on('chat.message', (m) => got.push(m));
  const emit = p.handlers.get('conclave:event')!;
  emit({}, { event: 'chat.message', payload: { id: 1 } });
  emit({}, { event: 'board.stroke', payload: { id: 2 } });
  off();
  emit({}, { event: 'chat.message', payload: { id: 3 } });
  assert.deepEqual(got, [{ id: 1 }]);
});

test('a join link that arrives before the UI listens is kept, then delivered, and main is told the UI is ready', () => {
  const p = loadPreload();
  const bridge = p.exposed.get('conclave') as Bridge;
  p.handlers.get('conclave:join-link')!({}, 'conclave://join/early');
  const links: string[] = [];
  bridge.onJoinLink((l) => links.push(l));
  p.handlers.get('conclave:join-link')!({}, 'conclave://join/later');
  assert.deepEqual(links, ['conclave://join/early', 'conclave://join/later']);
  assert.deepEqual(p.sent, ['conclave:ready']);
});
