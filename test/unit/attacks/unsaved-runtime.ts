// A member's GroupRuntime over a real profile whose writes can be made to fail (a full disk), in a
// group of engines the test drives (attacks/unsaved-fresh-key, attacks/review37-*): what a key made
// from fresh randomness while the state file cannot be written lets out (peer/unsaved-hold.ts).
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import type { Channel } from '../../../app/core/engine/gate.js';
import type { EngineEvent } from '../../../app/core/types.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { offlineHost } from '../solo-runtime.js';
import { GROUP, PARAMS, deps, drain, honestGroup } from './forge.js';

export const params = { ...PARAMS, refreshVersionMs: 60_000 };

/** Every fs.writeSync fails (a full disk). */
export function diskFull(full: boolean): void {
  const self = diskFull as unknown as { orig?: typeof fs.writeSync };
  if (full && !self.orig) {
    self.orig = fs.writeSync;
    (fs as { writeSync: unknown }).writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    };
  } else if (!full && self.orig) {
    (fs as { writeSync: unknown }).writeSync = self.orig;
    self.orig = undefined;
  }
  syncBuiltinESMExports();
}

export function setup(t: { after(fn: () => void): void }, names = ['a', 'b'], p = params) {
  const g = honestGroup(names, { params: p });
  const a = g.ids.a!;
  g.net.engines.delete(a.key);
  drain(g.e.a!);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-r37-'));
  const profile = Profile.open(dir);
  let clock = g.net.now;
  const sent: { channel: Channel; bytes: Uint8Array }[] = [];
  const logs: string[] = [];
  const notices: unknown[] = [];
  const host = {
    ...offlineHost({ selfKey: a.key, profile, seed: a.seed, now: () => clock, name: 'a', log: (l) => void logs.push(l), emit: (e, p) => void notices.push([e, p]) }),
    publish: (_group: string, topic: 'control' | 'data', bytes: Uint8Array) => void sent.push({ channel: topic, bytes }),
    unicast: (_group: string, _to: string, bytes: Uint8Array) => void sent.push({ channel: 'unicast', bytes }),
  };
  const rt = new GroupRuntime(host, newGroupRecord(GROUP, 'g', clock), () => g.e.a!, 100);
  const runtimes = [rt];
  t.after(() => {
    diskFull(false);
    for (const r of runtimes) r.stop();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rt.drive();
  rt.save();
  const bEvents: EngineEvent[] = [];
  const deliverToB = (): void => {
    for (const m of sent.splice(0)) {
      try {
        g.e.b!.receive(a.key, m.channel, m.bytes, clock);
      } catch {
        /* refused */
      }
      bEvents.push(...drain(g.e.b!).events);
    }
  };
  deliverToB();
  const fromDisk = (): GroupEngine => GroupEngine.restore(deps('a-disk'), a, new Uint8Array(Buffer.from(profile.loadGroup(GROUP)!.snapshot!, 'base64')), clock);
  const onDisk = (): number => fromDisk().tekInfo()!.version;
  /** a starts again from its profile (its runtime stopped or killed): a new runtime over the record and engine on disk. */
  const restart = (): GroupRuntime => {
    const engine = fromDisk();
    const again = new GroupRuntime(host, profile.loadGroup(GROUP)!, () => engine, 100);
    runtimes.push(again);
    again.drive();
    return again;
  };
  return { g, a, rt, profile, sent, logs, notices, bEvents, deliverToB, fromDisk, onDisk, restart, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** a refreshes its TEK while the disk is full: the key turn is held. */
export function heldRefresh(s: ReturnType<typeof setup>): number {
  diskFull(true);
  return refreshUnsaved(s);
}

/** a's refresh comes due and is made while its state cannot be written (however the test makes it fail): the key turn is held. Returns the version before. */
export function refreshUnsaved(s: ReturnType<typeof setup>): number {
  const before = s.rt.engine.tekInfo()!.version;
  s.advance(params.refreshVersionMs + 1);
  s.rt.engine.tick(s.now());
  s.rt.drive();
  if (s.rt.engine.tekInfo()!.version !== before + 1 || !s.rt.unsaved()) throw new Error('setup: no held refresh');
  return before;
}
