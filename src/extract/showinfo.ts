/** ffmpeg's showinfo lines: each decoded frame's time, byte position and keyframe flag. */
import { OmniprepError } from '../errors.js';
import type { FrameTask } from './types.js';

export interface Shown {
  /** Timeline seconds (the container's start time taken off). */
  time: number;
  key: boolean;
  pos: number;
}

/**
 * A frame's line. Before 7.0 it gives `pos:` after `pts_time:`; from 7.0 on (the packet position
 * left AVFrame's public fields) it gives `duration:` there and no position: `pos` is then -1.
 */
export const SHOWINFO = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+(?:e-?\d+)?)\s+(?:pos:\s*(-?\d+))?.*\biskey:(\d)/;

/** A showinfo line's frame, or undefined for any other line. */
export function parseShowinfo(line: string, startTimeSec: number): Shown | undefined {
  const m = SHOWINFO.exec(line);
  if (!m) return undefined;
  return { time: Number(m[1]) - startTimeSec, pos: m[2] === undefined ? -1 : Number(m[2]), key: m[3] === '1' };
}

/** Collects showinfo lines as they come; `nth(k)` waits for the k-th (frames are handled concurrently). */
export class ShowinfoLog {
  readonly shown: Shown[] = [];
  private readonly waiters = new Set<() => void>();
  private ended = false;

  constructor(private readonly task: Pick<FrameTask, 'input' | 'startTimeSec'>) {}

  get decoded(): number {
    return this.shown.length;
  }

  line(line: string): void {
    const s = parseShowinfo(line, this.task.startTimeSec);
    if (!s) return;
    this.shown.push(s);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  async nth(k: number): Promise<Shown> {
    while (this.shown.length <= k && !this.ended) await new Promise<void>((r) => this.waiters.add(r));
    const s = this.shown[k];
    if (!s) throw new OmniprepError('CORRUPT', `${this.task.input}: a decoded frame came without its timestamp`, { input: this.task.input });
    return s;
  }
}
