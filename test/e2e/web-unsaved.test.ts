// End to end, in a real browser: a full disk under a member's profile. Alice's web
// peer keeps its profile on a small tmpfs of its own mount namespace; the test fills
// it, and a member's leave (a roster change, saved at once) cannot be written. Her
// page must then say so in the group (the "cannot save" banner: a restart now would
// lose the group's latest members and keys on this device), and once the disk has
// room again the retry (every 5 s) writes the state and the banner goes. Before this
// file the banner was covered only by unit tests of the API (state-save-fails).
import '../../app/net/shim.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startPeer, type RunningPeer } from '../../app/peer/peer.js';
import { RESULTS, buildUiFresh, fillDisk, freeDisk, launchChromium, openPeerPages, prerequisites, startWebPeer, tempDir, tmpfsProfileUsable, type WebPeer } from './web-peers.js';

const missing = prerequisites() ?? tmpfsProfileUsable();
const WAIT = 90_000;

let dirs: ReturnType<typeof tempDir>;
let context: BrowserContext;
let alice: WebPeer;
let page: Page;
const members: RunningPeer[] = [];

before(async () => {
  if (missing) return;
  mkdirSync(RESULTS, { recursive: true });
  dirs = tempDir('conclave-e2e-unsaved-');
  await buildUiFresh();
  alice = await startWebPeer('Alice', join(dirs.path, 'profiles'), { tmpfsMB: 24 });
  context = await launchChromium(dirs.path);
  const pages = new Map<string, Page>();
  await openPeerPages(context, [alice], pages);
  page = pages.get('Alice')!;
});

after(async () => {
  if (alice) {
    await page?.screenshot({ path: join(RESULTS, 'zz-unsaved-final-alice.png') }).catch(() => undefined);
    writeFileSync(join(RESULTS, 'unsaved-peer-alice.log'), alice.output().replace(/(token|launch)=[\w-]+/g, '$1=…'));
  }
  await context?.close().catch(() => undefined);
  await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  await alice?.stop();
  dirs?.remove();
});

async function member(name: string): Promise<RunningPeer> {
  const profile = join(dirs.path, name.toLowerCase());
  mkdirSync(profile, { recursive: true });
  const peer = await startPeer({ profile, name, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  members.push(peer);
  return peer;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('a full disk under a member: its page says the group cannot be saved, and stops saying so once a write succeeds', { skip: missing ?? false, timeout: 300_000 }, async () => {
  await page.getByTestId('onboarding-name').fill('Alice');
  await page.getByTestId('create-group-name').fill('Disk check');
  await page.getByTestId('create-group').click();
  await page.getByTestId('chat-input').and(page.locator(':enabled')).waitFor({ timeout: WAIT });
  await page.getByTestId('tab-invite').click();
  const link = page.getByTestId('invite-link');
  await link.filter({ hasText: 'conclave://join/' }).waitFor({ timeout: WAIT });
  const invite = (await link.textContent())!.trim();

  // Bob and Carol join while the disk has room; then it fills, and Carol leaves.
  const [bob, carol] = [await member('Bob'), await member('Carol')];
  const { group } = (await bob.api.call('group.join', { invite })) as { group: string };
  await until('Bob to be a member', async () => ((await bob.api.call('group.list', undefined)) as { group: string; state: string }[]).some((g) => g.group === group && g.state === 'member'));
  const { invite: carolInvite } = (await bob.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await carol.api.call('group.join', { invite: carolInvite });
  await until('Carol to be a member', async () => ((await carol.api.call('group.list', undefined)) as { group: string; state: string }[]).some((g) => g.group === group && g.state === 'member'));
  await page.getByTestId('tab-chat').click();
  const banner = page.getByTestId('unsaved-banner');
  assert.equal(await banner.count(), 0, 'no banner while the disk has room');

  fillDisk(alice);
  await carol.api.call('group.leave', { group });
  await banner.waitFor({ timeout: WAIT });
  assert.match((await banner.textContent())!, /cannot save this group/);
  assert.match((await banner.textContent())!, /no space left|ENOSPC|disk/i, 'the banner names the cause');
  await page.screenshot({ path: join(RESULTS, '16-unsaved.png'), animations: 'disabled', caret: 'hide' });

  freeDisk(alice);
  await banner.waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(await banner.count(), 0, 'the banner is gone once the state was written');
  // Carol left: the chat says so once, and not also that she was removed (test/unit/leave-notice).
  const aboutCarol = page.locator(`[data-testid="chat-notice"][data-peer="${carol.peerId}"]`);
  assert.deepEqual(await Promise.all((await aboutCarol.all()).map((n) => n.getAttribute('data-change'))), ['joined', 'left']);
});
