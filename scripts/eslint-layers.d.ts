// Types for eslint-layers.js, so TypeScript tests can load the rule.
import type { ESLint } from 'eslint';

export declare const layersPlugin: ESLint.Plugin;
