/** `65.4` -> `01:05`; `3725` -> `1:02:05` (whole seconds, rounded down). */
export function clockText(sec: number): string {
  const s = Math.floor(sec + 1e-6);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}
