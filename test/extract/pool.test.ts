import { describe, expect, it } from 'vitest';
import { acquirePool, closePool, releasePool } from '../../src/extract/pool.js';

describe('the shared pool', () => {
  it('stays warm between successive users and closes on demand', async () => {
    const a = acquirePool();
    await releasePool();
    const b = acquirePool();
    expect(b).toBe(a);
    await releasePool();
    await closePool();
    const c = acquirePool();
    expect(c).not.toBe(a);
    await releasePool();
    await closePool();
  });

  it('is not closed while someone uses it', async () => {
    const a = acquirePool();
    await closePool();
    expect(acquirePool()).toBe(a);
    await releasePool();
    await releasePool();
    await closePool();
  });
});
