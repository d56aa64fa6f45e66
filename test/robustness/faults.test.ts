/** Faults (see lib/faults.ts) for every suite over every stream transport. */
import { describe, expect, it } from 'vitest';
import { FAULTS } from './lib/faults.js';
import { targets } from './lib/targets.js';

describe('robustness: faults', () => {
  for (const target of targets()) {
    describe(`${target.suite} over ${target.transport}`, () => {
      it.each(Object.keys(FAULTS))('%s', async (name) => {
        const tally = await FAULTS[name]!(target);
        for (const code of tally.errors.keys()) expect(code).not.toMatch(/^non-SealwireError/);
      }, 60_000);
    });
  }
});
