// The main process's validation of what crosses the preload bridge (main/ipc-validation.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BRIDGE_EVENTS, BRIDGE_METHODS, checkCall, checkEvent, errorReply } from '../../main/ipc-validation.js';
import { Events, Methods } from '../../app/api/contract.js';

const GROUP = '0123456789abcdef0123456789abcdef';

test('the bridge exposes every contract method except auth, and every event', () => {
  assert.deepEqual(new Set(BRIDGE_METHODS), new Set(Object.keys(Methods).filter((m) => m !== 'auth')));
  assert.deepEqual(new Set(BRIDGE_EVENTS), new Set(Object.keys(Events)));
});

test('a well-formed call passes with its parsed params', () => {
  const r = checkCall({ method: 'chat.send', params: { group: GROUP, text: 'hi' } });
  assert.deepEqual(r, { ok: true, method: 'chat.send', params: { group: GROUP, text: 'hi' } });
});

test('methods whose params are optional accept none', () => {
  assert.equal(checkCall({ method: 'group.list' }).ok, true);
  assert.equal(checkCall({ method: 'status', params: {} }).ok, true);
});

test('unknown methods, auth and prototype names are refused as method-not-found', () => {
  for (const method of ['nope', 'auth', '__proto__', 'constructor', 'toString', 42, null]) {
    const r = checkCall({ method, params: {} });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, -32601);
  }
});

test('a message that is not an object is an invalid request', () => {
  for (const m of [null, 'chat.send', 7, ['chat.send', {}], undefined]) {
    const r = checkCall(m);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, -32600);
  }
});

test('params that break the schema are refused with the failing field named', () => {
  const cases: [string, unknown, string][] = [
    ['chat.send', { group: 'not-hex', text: 'x' }, 'group'],
    ['chat.send', { group: GROUP, text: '' }, 'text'],
    ['group.exclude', { group: GROUP, peers: [] }, 'peers'],
    ['board.draw', { group: GROUP, stroke: { id: 'a', color: 'red', width: 2, tool: 'pen', points: [] } }, 'stroke.color'],
    ['board.draw', { group: GROUP, stroke: { id: 'a', color: '#ff0000', width: 2, tool: 'pen', points: [{ x: Infinity, y: 0 }] } }, 'stroke.points.0.x'],
    ['profile.setName', { name: 'x'.repeat(65) }, 'name'],
  ];
  for (const [method, params, field] of cases) {
    const r = checkCall({ method, params });
    assert.equal(r.ok, false, `${method} ${JSON.stringify(params)}`);
    if (!r.ok) {
      assert.equal(r.code, -32602);
      assert.match(r.message, new RegExp(`: ${field.replace(/\./g, '\\.')}:`));
    }
  }
});

test('unknown keys are stripped from params before the peer sees them', () => {
  const r = checkCall({ method: 'group.members', params: { group: GROUP, extra: 'x' } });
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(r.params, { group: GROUP });
});

test('events are forwarded only when named in the contract and well-formed', () => {
  const msg = { id: 'm1', group: GROUP, sender: 'peer', senderName: 'A', text: 'hi', sentAt: 1, receivedAt: 2 };
  assert.equal(checkEvent('chat.message', msg), true);
  assert.equal(checkEvent('chat.message', { ...msg, sentAt: 'yesterday' }), false);
  assert.equal(checkEvent('secret.leak', msg), false);
  assert.equal(checkEvent('group.excluded', { group: GROUP, by: 'p' }), true);
});

test('errors cross IPC as plain code and message; anything else is a generic internal error', () => {
  assert.deepEqual(errorReply(Object.assign(new Error('nope'), { code: -32003 })), { ok: false, code: -32003, message: 'nope' });
  assert.deepEqual(errorReply(new Error('stack and secrets')), { ok: false, code: -32603, message: 'internal error' });
  assert.deepEqual(errorReply('boom'), { ok: false, code: -32603, message: 'internal error' });
});
