/**
 * Backend selection: the only place that knows which backend runs.
 *
 * `ZKMETER_BACKEND` picks it (SPEC.md):
 *  - `native`: the addon, failing loudly (BACKEND_UNAVAILABLE) if it does not load;
 *  - `js`: pure TypeScript on @noble/curves;
 *  - unset or empty: native when it loads, otherwise js.
 * The choice is made on first use and then fixed for the process.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { createGroup } from './api.js';
import type { BackendName, Group } from './group.js';
import { createJsRaw } from './js.js';
import { createNativeRaw } from './native.js';

export * from './bytes.js';
export type { BackendName, Group, MsmInput, PointFormat, PointTable } from './group.js';

const instances = new Map<BackendName, Group>();
let active: Group | undefined;
let fallbackReason: string | undefined;

/**
 * Returns the named backend, creating it once. Throws BACKEND_UNAVAILABLE if the
 * native addon cannot be loaded. Use this to run both backends side by side.
 */
export function loadBackend(name: BackendName): Group {
  let g = instances.get(name);
  if (g === undefined) {
    if (name === 'js') {
      g = createGroup(createJsRaw());
    } else if (name === 'native') {
      try {
        g = createGroup(createNativeRaw());
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
        throw new ZkmeterError('BACKEND_UNAVAILABLE', `native backend unavailable: ${reason}`, { cause });
      }
    } else {
      throw new ZkmeterError('INVALID_ARGUMENT', `backend expected 'native' or 'js', got ${String(name)}`);
    }
    instances.set(name, g);
  }
  return g;
}

/** Whether the native addon loads in this process. */
export function nativeAvailable(): boolean {
  try {
    loadBackend('native');
    return true;
  } catch {
    return false;
  }
}

/** The active backend, chosen from ZKMETER_BACKEND on first call. */
export function getGroup(): Group {
  if (active === undefined) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const requested = env?.ZKMETER_BACKEND ?? '';
    if (requested === 'native' || requested === 'js') {
      active = loadBackend(requested);
    } else if (requested === '') {
      try {
        active = loadBackend('native');
      } catch (e) {
        fallbackReason = (e as Error).message;
        active = loadBackend('js');
      }
    } else {
      throw new ZkmeterError('INVALID_ARGUMENT', `ZKMETER_BACKEND expected 'native', 'js' or unset, got '${requested}'`);
    }
  }
  return active;
}

/** Name of the active backend: 'native' or 'js'. */
export function backendName(): BackendName {
  return getGroup().name;
}

/** Why the automatic choice fell back to js, if it did. */
export function backendFallbackReason(): string | undefined {
  getGroup();
  return fallbackReason;
}
