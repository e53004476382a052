/** Test helper: the `code` of the ZkmeterError that `fn` throws (fails the test otherwise). */
import { expect } from 'vitest';
import { ZkmeterError } from '../../lib/errors.js';

export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZkmeterError);
    return (e as ZkmeterError).code;
  }
  throw new Error('expected a ZkmeterError');
}

/** Whether a verifier rejects: it returns false, or throws a ZkmeterError (malformed input). */
export function rejects(verify: () => boolean): boolean {
  try {
    return !verify();
  } catch (e) {
    if (e instanceof ZkmeterError) return true;
    throw e;
  }
}

/** Test helper: the `code` of the ZkmeterError that `fn`'s promise rejects with (fails the test otherwise). */
export async function asyncErrorCode(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZkmeterError);
    return (e as ZkmeterError).code;
  }
  throw new Error('expected a ZkmeterError');
}

/** Test helper: the ZkmeterError `p` rejects with (fails the test otherwise). */
export async function failure(p: Promise<unknown>): Promise<ZkmeterError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ZkmeterError);
  return e as ZkmeterError;
}
