// Review 37 (HIGH): a key turn that made a key from fresh randomness but transmitted nothing in that turn
// is not held at all. UnsavedHold.pass(outgoing, false, true) pushes `outgoing` — empty — so
// holding() stays false, and every later turn (a heartbeat naming the key, a grant of it) goes out
// as if nothing were held. The case in practice: a joiner admitted while its state cannot be
// written creates the slots nobody holds (admission.ts onAdmit → createSlot: fresh randomness,
// key-changed, but no transmit in that turn); its next heartbeat and any KeyRequest answered
// afterwards publish a KEK that a restart from the state file (the join's first write, without
// that KEK) makes again with another key: two KEKs of one slot, one version, one creator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import type { Channel } from '../../../app/core/engine/gate.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { offlineHost } from '../solo-runtime.js';
import { GROUP, deps, drain, honestGroup, identity } from './forge.js';
import { slotsOf } from '../../../app/core/params.js';
import { params } from './unsaved-runtime.js';

test('a slot a joiner created while its state cannot be written is not announced until saved', (t) => {
  const g = honestGroup(['b'], { params });
  const b = g.ids.b!;
  const a = identity('a');
  g.gate.allowed.add(a.key);
  let clock = g.net.now;
  const dir = mkdtempSync(join(tmpdir(), 'conclave-r37-join-'));
  const profile = Profile.open(dir);
  const saveGroup = profile.saveGroup.bind(profile);
  let full = false;
  (profile as { saveGroup: unknown }).saveGroup = (r: never) => {
    if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    return saveGroup(r);
  };
  const sent: { channel: Channel; to?: string; bytes: Uint8Array; at: number }[] = [];
  const host = {
    ...offlineHost({ selfKey: a.key, profile, seed: a.seed, now: () => clock, name: 'a' }),
    publish: (_g: string, topic: 'control' | 'data', bytes: Uint8Array) => void sent.push({ channel: topic, bytes, at: clock }),
    unicast: (_g: string, to: string, bytes: Uint8Array) => void sent.push({ channel: 'unicast', to, bytes, at: clock }),
  };
  const rt = new GroupRuntime(host, newGroupRecord(GROUP, 'g', clock), (d) => GroupEngine.join(d, a, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [b.key], now: clock }), 100);
  t.after(() => {
    full = false;
    rt.stop();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rt.saveOrAbandon(); // the join's first write (join.ts), before anything is asked
  rt.drive();
  full = true; // then the disk fills
  let keyMadeAt = -1;
  const sentAfterKey: string[] = [];
  const step = () => {
    for (const m of sent.splice(0)) {
      try {
        g.e.b!.receive(a.key, m.channel, m.bytes, clock);
      } catch {
        /* refused */
      }
      const ev = drain(g.e.b!);
      for (const o of ev.out) { if (o.kind === 'unicast' && o.to !== a.key) continue; rt.receive(b.key, o.kind === 'unicast' ? 'unicast' : o.topic, o.bytes); }
      if (keyMadeAt >= 0) sentAfterKey.push(m.channel);
    }
    const out = drain(g.e.b!).out;
    for (const o of out) {
      if (o.kind === 'unicast' && o.to !== a.key) continue;
      rt.receive(b.key, o.kind === 'unicast' ? 'unicast' : o.topic, o.bytes);
    }
    if (keyMadeAt < 0 && rt.engine.exportKeyMaterial().some((k) => k.slot !== 0 && k.creators.includes(a.key))) keyMadeAt = clock;
  };
  for (let i = 0; i < 10; i++) {
    step();
    clock += params.heartbeatMs;
    g.e.b!.tick(clock);
    rt.engine.tick(clock);
    rt.drive();
  }
  step();
  assert.equal(rt.engine.state(), 'member', 'a was admitted');
  assert.ok(keyMadeAt >= 0, 'a created a slot nobody held (fresh randomness)');
  assert.ok(rt.unsaved(), 'and could not save it');
  const onDisk = GroupEngine.restore(deps('a-disk'), a, new Uint8Array(Buffer.from(profile.loadGroup(GROUP)!.snapshot!, 'base64')), clock);
  assert.ok(!onDisk.exportKeyMaterial().some((k) => k.slot !== 0 && k.creators.includes(a.key)), 'the state file does not hold that slot');
  // b learnt a's slot and who made it (a heartbeat of a names it): b's view of it
  // A third member whose ID selects the slot a made joins (through b): it asks the slot's owner, a.
  const made = rt.engine.exportKeyMaterial().find((k) => k.slot !== 0 && k.creators.includes(a.key))!;
  let c = identity('c0');
  let ce: GroupEngine | null = null;
  for (let i = 0; i < 500 && !ce; i++) {
    c = identity(`c${i}`);
    const e = GroupEngine.join(deps(c.name, { admission: g.gate }), c, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [b.key], now: clock });
    const slots = slotsOf((e as unknown as { core: { selfId: number[] } }).core.selfId, params.V);
    if (slots.includes(made.slot)) ce = e;
  }
  assert.ok(ce, 'found an ID that selects the slot');
  g.gate.allowed.add(c.key);
  const engines: Record<string, GroupEngine> = { [b.key]: g.e.b!, [c.key]: ce! };
  const route = (from: string, o: { kind?: string; to?: string; topic?: 'control' | 'data'; channel?: Channel; bytes: Uint8Array }) => {
    const ch: Channel = o.kind === 'unicast' || o.channel === 'unicast' ? 'unicast' : (o.topic ?? o.channel)!;
    for (const k of [a.key, b.key, c.key]) {
      if (k === from || (ch === 'unicast' && o.to !== k)) continue;
      if (k === a.key) rt.receive(from, ch, o.bytes);
      else {
        try {
          engines[k]!.receive(from, ch, o.bytes, clock);
        } catch {
          /* refused */
        }
      }
    }
  };
  for (let i = 0; i < 30; i++) {
    for (let moved = true; moved; ) {
      moved = false;
      for (const m of sent.splice(0)) {
        route(a.key, m);
        moved = true;
      }
      for (const [k, e] of Object.entries(engines)) {
        for (const o of drain(e).out) {
          route(k, o);
          moved = true;
        }
      }
    }
    clock += params.heartbeatMs;
    for (const e of Object.values(engines)) e.tick(clock);
    rt.engine.tick(clock);
    rt.drive();
  }
  assert.equal(ce!.state(), 'member', 'c joined');
  assert.ok(rt.unsaved(), 'a still cannot save');
  const cHolds = ce!.exportKeyMaterial().find((k) => k.slot === made.slot && k.version === made.version && k.creators.includes(a.key));
  assert.equal(cHolds, undefined, 'no other member took a key a could forget on a restart (its state file does not hold it)');
});
