// Hostile test, issue 15 §4 "Less metadata in clear": an outsider who knows the group
// ID (an old invite) but holds no current key subscribes to the control topic and reads
// what it can with nothing but the public wire codec and a byte search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../app/core/bytes.js';
import { MsgType, decodeMessage } from '../../../app/core/wire.js';
import { groupBytes, honestGroup, identity, type Group } from './forge.js';

const NAMES = ['alice-in-the-clear', 'bob-in-the-clear', 'carol-in-the-clear', 'mallet-in-the-clear'];

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Everything the outsider learns from the control traffic of `g`. */
function outsiderReads(g: Group): { names: Set<string>; targets: Set<string>; blocklisted: Set<string>; types: Set<number>; rawHits: Set<string> } {
  const names = new Set<string>();
  const targets = new Set<string>();
  const blocklisted = new Set<string>();
  const types = new Set<number>();
  const rawHits = new Set<string>();
  const needles = [...NAMES.map((n) => [n, new TextEncoder().encode(n)] as const), ['mallet-key', fromHex(g.ids[NAMES[3]!]!.key)] as const];
  for (const s of g.net.log) {
    if (s.t.kind !== 'publish' || s.t.topic !== 'control') continue;
    for (const [label, needle] of needles) if (indexOf(s.t.bytes, needle) >= 0) rawHits.add(label);
    let m;
    try {
      m = decodeMessage(groupBytes, 'control', s.t.bytes);
    } catch {
      continue;
    }
    types.add(m.type);
    if (m.type === MsgType.MemberAdmitted) for (const e of m.members) if (e.name) names.add(e.name);
    if (m.type === MsgType.Table) {
      for (const t of m.header.targets) targets.add(t);
      for (const b of m.header.blocklist) blocklisted.add(b);
    }
  }
  return { names, targets, blocklisted, types, rawHits };
}

function excludedGroup(): { g: Group; mallet: string } {
  const ids = Object.fromEntries(NAMES.map((n) => [n, identity(n)]));
  const g = honestGroup(NAMES, { ids });
  const mallet = ids[NAMES[3]!]!.key;
  g.e[NAMES[0]!]!.exclude([mallet], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  return { g, mallet };
}

// At 6b95634 the attack succeeded (this test, asserting the opposite, passed there): display
// names, targets and the blocklist were in clear. Now every control message is a SealedControl.
test('outsider with the group ID reads no display name, exclusion target, blocklist or message type from control traffic', () => {
  const { g, mallet } = excludedGroup();
  assert.ok(g.e[NAMES[1]!]!.isBlocked(mallet), 'the exclusion took effect');
  const seen = outsiderReads(g);
  assert.deepEqual([...seen.names], [], 'no display name');
  assert.deepEqual([...seen.targets], [], 'no exclusion target');
  assert.deepEqual([...seen.blocklisted], [], 'no blocklist');
  assert.deepEqual([...seen.types], [MsgType.SealedControl], 'one message type only: SealedControl');
  assert.deepEqual([...seen.rawHits], [], 'neither names nor the target key appear as bytes');
});
