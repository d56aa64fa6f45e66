/** The suite registry: every suite by name. `box` is the default everywhere. */
import { SealwireError } from '../errors.js';
import { SUITE_NAMES, type Suite, type SuiteName } from '../session/handshake.js';
import { boxSuite } from './box/index.js';
import { secsessSuite } from './secsess/index.js';
import { ccmSuite } from './ccm/index.js';
import { sidSuite } from './sid/index.js';
import { cbcmacSuite } from './cbcmac/index.js';

const SUITES: Partial<Record<SuiteName, Suite>> = {
  box: boxSuite,
  secsess: secsessSuite,
  ccm: ccmSuite,
  sid: sidSuite,
  cbcmac: cbcmacSuite,
};

export const DEFAULT_SUITE: SuiteName = 'box';

/** The suite called `name`; throws `INVALID_ARGUMENT` for an unknown or unavailable one. */
export function getSuite(name: string = DEFAULT_SUITE): Suite {
  const suite = SUITES[name as SuiteName];
  if (!suite) {
    const known = SUITE_NAMES.filter((n) => SUITES[n]).join(', ');
    throw new SealwireError('INVALID_ARGUMENT', `unknown suite '${name}' (available: ${known})`);
  }
  return suite;
}

/** Names of the suites this build provides. */
export function availableSuites(): SuiteName[] {
  return SUITE_NAMES.filter((n) => SUITES[n]);
}
