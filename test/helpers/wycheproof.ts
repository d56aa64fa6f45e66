// Loader for the Wycheproof vector files copied into test/vectors/wycheproof/
// (see test/vectors/README.md). One loader serves every primitive's tests so
// each test file only says which file and which fields it needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../vectors/wycheproof/', import.meta.url));

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: WycheproofResult;
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadWycheproof(name: string): WycheproofFile {
  const file = name.endsWith('.json') ? name : `${name}_test.json`;
  return JSON.parse(readFileSync(dir + file, 'utf8')) as WycheproofFile;
}

/** Every test of a file, flattened, each with its group beside it. */
export function wycheproofCases(name: string): Array<{ group: WycheproofGroup; test: WycheproofTest }> {
  const out: Array<{ group: WycheproofGroup; test: WycheproofTest }> = [];
  for (const group of loadWycheproof(name).testGroups) {
    for (const test of group.tests) out.push({ group, test });
  }
  return out;
}

/** A hex field of a test or group as a Buffer. */
export function hex(record: Record<string, unknown>, field: string): Buffer {
  const value = record[field];
  if (typeof value !== 'string') throw new Error(`vector field ${field} is not a hex string`);
  return Buffer.from(value, 'hex');
}
