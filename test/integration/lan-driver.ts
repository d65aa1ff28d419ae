/**
 * Helper for lan.test.ts, run INSIDE a test network namespace (the peer's control
 * API listens on that namespace's loopback): send one chat message and wait until
 * the expected one shows up in chat.history. Prints one JSON line; exit 0 on success.
 * Usage: node --import tsx lan-driver.ts API_URL TOKEN GROUP SEND_TEXT EXPECT_TEXT
 */
import { ApiClient, until } from './harness.js';

const [url, token, group, send, expect] = process.argv.slice(2);
const api = await ApiClient.connect(url!, token!);
try {
  await until('membership', async () => {
    const list = await api.call<{ group: string; state: string }[]>('group.list');
    return list.some((g) => g.group === group && g.state === 'member');
  }, 60_000);
  await api.call('chat.send', { group, text: send });
  await until(`"${expect}"`, async () => {
    const h = await api.call<{ text: string }[]>('chat.history', { group });
    return h.some((m) => m.text === expect);
  }, 60_000);
  const info = await api.call<{ connections: { kind: string }[] }>('net.info');
  process.stdout.write(JSON.stringify({ ok: true, kinds: info.connections.map((c) => c.kind) }) + '\n');
  api.close();
  process.exit(0);
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
  api.close();
  process.exit(1);
}
