// The renderer's text limits (renderer/src/limits.ts) are the peer's
// (app/api/contract.ts), and past one the UI says so instead of cutting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZodObject, ZodRawShape, ZodString } from 'zod';
import { Methods } from '../../app/api/contract.js';
import { LIMITS, limitState } from '../../renderer/src/limits.js';

const maxOf = (method: keyof typeof Methods, field: string): number => {
  const schema = (Methods[method].params as unknown as ZodObject<ZodRawShape>).shape[field] as ZodString;
  return schema.maxLength!;
};

test('the limits are the contract\'s', () => {
  assert.equal(LIMITS.message, maxOf('chat.send', 'text'));
  assert.equal(LIMITS.groupName, maxOf('group.create', 'name'));
  assert.equal(LIMITS.displayName, maxOf('profile.setName', 'name'));
});

test('past a limit: over, with how much, and nothing cut', () => {
  const s = limitState('x'.repeat(20_000), LIMITS.message);
  assert.equal(s.over, true);
  assert.equal(s.length, 20_000);
  assert.match(s.text!, /20,000 \/ 16,000 characters: 4,000 too many/);
  assert.equal(limitState('short', 100).text, null);
  assert.equal(limitState('x'.repeat(95), 100).over, false);
  assert.match(limitState('x'.repeat(95), 100).text!, /95 \/ 100/);
});
