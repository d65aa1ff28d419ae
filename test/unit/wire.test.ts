import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LIMITS, MsgType, WIRE_VERSION, decodeControlInner, decodeMessage, encodeControlInner, encodeMessage, type ControlMessage, type Message } from '../../app/core/wire.js';
import { RemoteProtocolError } from '../../app/core/errors.js';
import { DEFAULT_PARAMS } from '../../app/core/params.js';

const group = Uint8Array.from({ length: 16 }, (_, i) => i);
const key = (b: number) => b.toString(16).padStart(2, '0').repeat(32);
const info = { slot: 3, version: 2, revision: 7, creators: [key(1), key(2)] };
const sealed = { info, basedOn: { version: 1, revision: 4, creators: [key(3)] }, owner: key(4), nonce: new Uint8Array(24).fill(9), sealed: new Uint8Array(48).fill(5) };

/** 'sealed': the message travels inside a SealedControl on the control topic (its inner type ‖ body). */
const samples: [Message, 'control' | 'data' | 'unicast' | 'sealed'][] = [
  [{ type: MsgType.Heartbeat, sentAt: 1234, keys: [info], history: [info], blocklistCount: 2, rosterCount: 9 }, 'sealed'],
  [{ type: MsgType.Revision, keys: [info] }, 'sealed'],
  [{ type: MsgType.MemberAdmitted, members: [{ key: key(7), name: 'zoë ✓', admittedAt: 99 }, { key: key(8), name: '', admittedAt: 100 }], revisions: [info], signature: new Uint8Array(64).fill(3) }, 'sealed'],
  [{ type: MsgType.JoinRequest, name: 'bob', credential: Uint8Array.from([1, 2, 3]), sentAt: 5 }, 'unicast'],
  [
    {
      type: MsgType.Admit,
      groupName: 'team',
      params: { ...DEFAULT_PARAMS, policy: { exclude: 'admins', admins: [key(1)] } },
      roster: [{ key: key(1), name: 'a', admittedAt: 1 }],
      blocklist: [key(9), key(10)],
      blocks: [
        { key: key(9), name: 'x', admittedAt: 4, blockedAtVersion: 2, blockedBy: [key(1), key(3)], many: false, dropBy: key(5) },
        { key: key(10), name: '', admittedAt: 5, blockedAtVersion: 3, blockedBy: [], many: true, dropBy: null },
      ],
      tekCoverage: { version: 2, creators: [key(1)], members: [key(10)] },
      owners: [{ ...info, owner: key(1) }],
      grants: [sealed],
      certificate: { admitter: key(1), member: key(2), admittedAt: 3, signature: new Uint8Array(64).fill(1) },
    },
    'unicast',
  ],
  [{ type: MsgType.JoinRefused, reason: 'no' }, 'unicast'],
  [{ type: MsgType.KeyRequest, slots: [0, 5], certificate: { admitter: key(1), member: key(2), admittedAt: 3, signature: new Uint8Array(64) } }, 'unicast'],
  [{ type: MsgType.KeyGrant, grants: [sealed, { ...sealed, basedOn: null }] }, 'unicast'],
  [{ type: MsgType.Data, senderId: Uint8Array.from([1, 2]), tekVersion: 3, tekTag: new Uint8Array(8).fill(2), revision: 4, sentAt: 77, nonce: new Uint8Array(24), ciphertext: new Uint8Array(40).fill(3) }, 'data'],
  [
    {
      type: MsgType.Table,
      header: { kind: 'exclude', excluder: key(1), targets: [key(2)], base: { version: 1, creators: [key(1)] }, newVersion: 2, createdAt: 10, blocklist: [key(2)], tekCommitment: new Uint8Array(32).fill(4), panel: { round: 3, members: [key(1), key(3)] }, replaced: [{ slot: 4, version: 1, revision: 300 }], plan: [{ prefix: new Uint8Array(8).fill(9), symbols: [0, 3, 15] }] },
      headerSignature: new Uint8Array(64).fill(6),
      entries: [{ slot: 5, kekVersion: 1, kekRevision: 200_000, sealed: new Uint8Array(48).fill(1) }],
      pairwise: [{ member: key(3), sealed: new Uint8Array(48).fill(2) }],
    },
    'sealed',
  ],
  [{ type: MsgType.FetchRequest, slot: 0, version: 3, tag: new Uint8Array(8) }, 'unicast'],
  [{ type: MsgType.FetchReply, table: Uint8Array.from([1, 2]), key: sealed }, 'unicast'],
  [{ type: MsgType.Leave, sentAt: 3, signature: new Uint8Array(64).fill(6) }, 'sealed'],
  [{ type: MsgType.Panel, body: Uint8Array.from([7, 7, 7]) }, 'unicast'],
  [{ type: MsgType.SealedControl, tekVersion: 4, tekTag: new Uint8Array(8).fill(8), revision: 12, nonce: new Uint8Array(24).fill(1), ciphertext: new Uint8Array(70).fill(2) }, 'control'],
];

test('every message type round-trips through the codec', () => {
  for (const [m, channel] of samples) {
    if (channel === 'sealed') {
      assert.deepEqual(decodeControlInner(encodeControlInner(m as ControlMessage)), m, `type ${m.type} inside a SealedControl`);
      assert.equal(reason(() => decodeMessage(group, 'control', encodeMessage(group, m))), 'decode', `type ${m.type} in clear on the control topic`);
      continue;
    }
    const bytes = encodeMessage(group, m);
    assert.deepEqual(decodeMessage(group, channel, bytes), m, `type ${m.type}`);
  }
  // A Table also travels in clear inside unicast (fetch replies, exclusion notices).
  const table = samples.find(([m]) => m.type === MsgType.Table)![0];
  assert.deepEqual(decodeMessage(group, 'unicast', encodeMessage(group, table)), table);
});

test('a sealed control body refuses types that do not ride the control topic, and truncation', () => {
  for (const [m, channel] of samples) {
    if (channel === 'sealed') {
      const inner = encodeControlInner(m as ControlMessage);
      for (const cut of [0, 1, inner.length - 1]) assert.equal(reason(() => decodeControlInner(inner.slice(0, cut))), 'decode');
      assert.equal(reason(() => decodeControlInner(Uint8Array.from([...inner, 0]))), 'decode');
    } else {
      const body = encodeMessage(group, m).slice(3 + 16);
      assert.equal(reason(() => decodeControlInner(Uint8Array.from([m.type, ...body]))), 'decode', `type ${m.type} inside a SealedControl`);
    }
  }
});

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemoteProtocolError, `expected RemoteProtocolError, got ${String(e)}`);
    return e.reason;
  }
  assert.fail('expected a rejection');
}

test('truncated, extended, wrong-version, wrong-group and misplaced messages are rejected with a reason', () => {
  for (const [m, channel] of samples) {
    if (channel === 'sealed') continue;
    const bytes = encodeMessage(group, m);
    for (const cut of [1, 3, 10, bytes.length - 1]) if (cut < bytes.length) assert.equal(reason(() => decodeMessage(group, channel, bytes.slice(0, cut))), 'decode');
    assert.equal(reason(() => decodeMessage(group, channel, Uint8Array.from([...bytes, 0]))), 'decode');
    const v = Uint8Array.from(bytes);
    v[1] = WIRE_VERSION + 1;
    assert.equal(reason(() => decodeMessage(group, channel, v)), 'wire-version');
    const other = Uint8Array.from(group);
    other[0] = 99;
    assert.equal(reason(() => decodeMessage(other, channel, bytes)), 'wrong-group');
  }
  const data = encodeMessage(group, samples[8]![0]);
  assert.equal(reason(() => decodeMessage(group, 'control', data)), 'decode', 'data on the control topic');
});

test('an Admit\'s block grounds: more grounds than blocks, unknown flags or more than 8 supporters are refused', () => {
  const admit = samples[4]![0] as Extract<Message, { type: typeof MsgType.Admit }>;
  const ground = admit.blocks![0]!;
  const tooMany = encodeMessage(group, { ...admit, blocklist: [key(9)], blocks: admit.blocks });
  assert.equal(reason(() => decodeMessage(group, 'unicast', tooMany)), 'decode', 'two grounds for one block');
  const supporters = encodeMessage(group, { ...admit, blocks: [{ ...ground, blockedBy: Array.from({ length: LIMITS.blockSupporters + 1 }, (_, i) => key(20 + i)) }] });
  assert.equal(reason(() => decodeMessage(group, 'unicast', supporters)), 'decode', 'nine supporters');
  const bytes = encodeMessage(group, { ...admit, blocks: [{ ...ground, dropBy: null }] });
  // The flags byte follows key, name ('x'), admittedAt and blockedAtVersion of the first ground.
  const at = indexOf(bytes, Uint8Array.from(Buffer.from(key(9), 'hex')), indexOf(bytes, Uint8Array.from(Buffer.from(key(10), 'hex')), 0) + 32) + 32 + 4 + 1 + 8 + 4;
  assert.equal(bytes[at], 0, 'flags of the first ground found');
  const flags = Uint8Array.from(bytes);
  flags[at] = 4;
  assert.equal(reason(() => decodeMessage(group, 'unicast', flags)), 'decode', 'unknown flag');
});

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = from; i + needle.length <= hay.length; i++) if (needle.every((b, j) => hay[i + j] === b)) return i;
  return -1;
}

test('oversized messages and fields are refused before parsing', () => {
  assert.equal(reason(() => decodeMessage(group, 'data', new Uint8Array(LIMITS.dataBytes + 1))), 'decode');
  const big = encodeMessage(group, { type: MsgType.JoinRequest, name: 'x'.repeat(LIMITS.name + 1), credential: new Uint8Array(0), sentAt: 0 });
  assert.equal(reason(() => decodeMessage(group, 'unicast', big)), 'decode');
});

test('random bytes never throw anything but a RemoteProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('control', 'data', 'unicast'), (bytes, channel) => {
      try {
        decodeMessage(group, channel as 'control', bytes);
      } catch (e) {
        assert.ok(e instanceof RemoteProtocolError);
      }
    }),
    { numRuns: 2000 },
  );
  // Valid prefix, then random tail: exercises the deeper decoders.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 15 }), (tail, type) => {
      const bytes = Uint8Array.from([0x43, WIRE_VERSION, type, ...group, ...tail]);
      for (const ch of ['control', 'data', 'unicast'] as const) {
        try {
          decodeMessage(group, ch, bytes);
        } catch (e) {
          assert.ok(e instanceof RemoteProtocolError);
        }
      }
    }),
    { numRuns: 2000 },
  );
});
