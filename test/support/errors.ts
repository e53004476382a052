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
