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

// Demonstration at 6b95634: the attack succeeds (display names, targets and blocklist in clear).
test('outsider with the group ID reads display names, exclusion targets and the blocklist from control traffic', () => {
  const { g, mallet } = excludedGroup();
  const seen = outsiderReads(g);
  assert.ok(seen.names.has(NAMES[1]!), 'a display name is read from MemberAdmitted');
  assert.ok(seen.targets.has(mallet), 'the exclusion target is read from a Table');
  assert.ok(seen.blocklisted.has(mallet), 'the blocklist is read from a Table');
  assert.ok(seen.types.has(MsgType.Heartbeat) && seen.types.has(MsgType.Table), 'message types are read');
  assert.ok(seen.rawHits.has(NAMES[1]!) && seen.rawHits.has('mallet-key'), 'names and keys appear as raw bytes');
});
