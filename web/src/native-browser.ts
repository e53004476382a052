/**
 * The native backend's place in browser bundles (web/build.mjs substitutes this file
 * for lib/backend/native.ts): there is no addon in a browser, so loading it fails the
 * way a missing addon does in Node, and getGroup() falls back to the pure-TypeScript
 * backend. Nothing here imports a Node built-in.
 * @module
 */
import type { RawGroup } from '../../lib/backend/group.js';

export function createNativeRaw(): RawGroup {
  throw new Error('the native addon does not exist in a browser; zkmeter uses its pure-TypeScript backend there');
}
