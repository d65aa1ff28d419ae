// Review 37 (MEDIUM): a chat message the API acknowledged (sendChat resolved: in this member's history,
// fsynced) is silently never published when more than MAX_HELD_DATA data publications wait behind
// a held key turn (unsaved-hold.ts `pass`: "past that, dropped"). Only the state file's write
// fails here (free space below the state file's size: its atomic rewrite fails, the history's
// short appends do not), which is what a "cannot save" banner usually means. The dropped message
// is never kept in the traffic log either (group.ts transmit() keeps it only once sent), so no
// reconciliation can bring it to the others: their view of a's numbering has a gap nobody fills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refreshUnsaved, setup } from './unsaved-runtime.js';

test('every chat message the API acknowledged while a key turn is held reaches the others once saved', async (t) => {
  const s = setup(t);
  const saveGroup = s.profile.saveGroup.bind(s.profile);
  let full = true;
  (s.profile as { saveGroup: unknown }).saveGroup = (r: never) => {
    if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    return saveGroup(r);
  };
  refreshUnsaved(s); // the refresh turn is held
  const n = 1001; // past the 1,000 data publications the first version held
  const acked: string[] = [];
  for (let i = 0; i < n; i++) acked.push((await s.rt.sendChat(`m${i}`)).id);
  assert.equal(acked.length, n, 'the API acknowledged every message');
  full = false;
  s.rt.save();
  assert.equal(s.rt.unsaved(), null);
  s.deliverToB();
  const got = s.bEvents.filter((e) => e.type === 'data' && e.from === s.a.key).length;
  assert.equal(got, n, `b received ${got} of the ${n} acknowledged messages`);
});
