// peer/address-book: strangers' announced addresses are bounded; members' are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressBook, MAX_ADDRESSES_PER_PEER } from '../../app/peer/address-book.js';

test('any number of strangers announcing addresses keeps at most maxStrangers of them; members are never evicted', () => {
  const members = new Set(['m1', 'm2']);
  const book = new AddressBook((k) => members.has(k), 3);
  book.set('m1', ['/ip4/10.0.0.1/tcp/1']);
  for (let i = 0; i < 1000; i++) book.set(`stranger-${i}`, [`/ip4/10.0.0.2/tcp/${i}`]);
  book.set('m2', ['/ip4/10.0.0.3/tcp/1']);
  assert.equal(book.size, 2 + 3, 'two members and the three strangers heard last');
  assert.ok(book.get('m1') && book.get('m2'));
  assert.deepEqual(['stranger-997', 'stranger-998', 'stranger-999'].map((k) => book.get(k)?.length), [1, 1, 1]);
  assert.equal(book.get('stranger-0'), undefined);
});

test('a stranger admitted after it was heard keeps its entry; heard again, it is the most recent; at most 16 addresses', () => {
  const members = new Set<string>();
  const book = new AddressBook((k) => members.has(k), 2);
  book.set('joiner', ['/a']);
  book.set('s1', ['/b']);
  members.add('joiner'); // admitted
  book.set('s2', ['/c']);
  book.set('s3', ['/d']);
  assert.deepEqual(book.get('joiner'), ['/a'], 'admitted since it was heard: kept');
  assert.equal(book.get('s1'), undefined);
  book.set('s2', ['/c2']); // heard again: s3 is now the oldest
  book.set('s4', ['/e']);
  assert.equal(book.get('s3'), undefined);
  assert.deepEqual(book.get('s2'), ['/c2']);
  book.set('joiner', Array.from({ length: 40 }, (_, i) => `/x/${i}`));
  assert.equal(book.get('joiner')!.length, MAX_ADDRESSES_PER_PEER);
});
