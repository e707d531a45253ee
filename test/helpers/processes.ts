/** TEST CODE. Whether processes are still there, for the tests that check nothing is left behind. */

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of the pids is alive (true), or `waitMs` passes (false). */
export async function gone(pids: readonly number[], waitMs = 20_000): Promise<boolean> {
  for (const until = Date.now() + waitMs; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    if (!pids.some(alive)) return true;
  }
  return !pids.some(alive);
}
