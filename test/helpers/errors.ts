/** The `SealwireError` a call throws; fails the test when it throws something else or nothing. */
import { expect } from 'vitest';
import { SealwireError } from '../../src/errors.js';

export function thrown(fn: () => unknown): SealwireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SealwireError);
    return e as SealwireError;
  }
  throw new Error('expected a SealwireError, but nothing was thrown');
}
