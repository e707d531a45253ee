/**
 * Decoder child process entry (src/extract/av-pool.ts forks it): node-av's FFmpeg libraries decode
 * frame tasks here, outside the process that started it, so a crash in a hostile file ends only
 * this process (src/extract/av-child.ts).
 */
import { serveAvTasks } from '../src/extract/av-child.js';

void serveAvTasks();
