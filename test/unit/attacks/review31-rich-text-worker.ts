// Child process for review31-local.test.ts: parses its standard input with the renderer's
// richParts and prints how many parts it made (the test kills it if it has not answered in time).
import { readFileSync } from 'node:fs';
import { richParts } from '../../../renderer/src/rich-text.js';

process.stdout.write(String(richParts(readFileSync(0, 'utf8')).length));
