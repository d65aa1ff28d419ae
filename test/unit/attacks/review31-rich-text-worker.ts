// Child process for review31-local.test.ts: parses each message of its standard input with the renderer's
// richParts and prints how many parts it made (the test kills it if it has not answered in time).
import { readFileSync } from 'node:fs';
import { richParts } from '../../../renderer/src/rich-text.js';

// Several messages are separated by NUL characters.
const texts = readFileSync(0, 'utf8').split('\u0000');
process.stdout.write(String(texts.reduce((n, text) => n + richParts(text).length, 0)));
