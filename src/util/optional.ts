/**
 * Optional packages (the service's Fastify, BullMQ, ioredis and better-sqlite3; each provider's
 * SDK; vega for charts) are peer dependencies a library user installs only when using them:
 * `loadOptional` imports one and turns a missing package into one line naming what to install.
 */
import { OmniprepError } from '../errors.js';

/** The package a failed import names (`Cannot find package 'vega' imported from ...`), if it is a missing one. */
export function missingPackage(e: unknown): string | undefined {
  const err = e as { code?: string; message?: string } | undefined;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const specifier = /Cannot find package '([^']+)'/.exec(err.message ?? '')?.[1];
  // The package's name, without a subpath: `@scope/name` or `name`.
  return specifier
    ?.split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

/** Imports with `load`; a missing package is MISSING_PACKAGE: `<what> needs <pkg>: npm install <pkg>`. */
export async function loadOptional<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const pkg = missingPackage(e);
    if (pkg === undefined) throw e;
    throw new OmniprepError('MISSING_PACKAGE', `${what} needs the package ${pkg}, which is not installed: npm install ${pkg}`, {
      input: pkg,
      cause: e,
    });
  }
}
