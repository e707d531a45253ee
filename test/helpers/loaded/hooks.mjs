// The resolve hook of register.mjs: appends every module's resolved URL to the log as it resolves
// (synchronously, so nothing is lost when the process exits).
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, `${r.url}\n`);
  return r;
}
