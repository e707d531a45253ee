import type { Command } from 'commander';
import { action } from '../util.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('which ffmpeg and ffprobe are used (path, version, where they came from), sharp and Node versions')
    .action(
      action(async () => {
        const { doctor, doctorText } = await import('../../doctor.js');
        const r = await doctor();
        const text = doctorText(r);
        return { json: r, text };
      }),
    );

  program
    .command('probe <input>')
    .description('MediaInfo: duration, container, size, video and audio streams')
    .action(
      action(async (input: string) => {
        const { probe } = await import('../../probe/probe.js');
        const info = await probe(input);
        const v = info.video;
        const a = info.audio;
        const text = [
          `${info.input}: ${info.container}, ${info.durationSec.toFixed(3)} s, ${info.sizeBytes} bytes`,
          v
            ? `video: ${v.codec} ${v.width}x${v.height}${v.rotation ? ` (rotated ${v.rotation})` : ''}, ${v.fps} fps${v.vfr ? ' (variable)' : ''}`
            : 'video: none',
          a ? `audio: ${a.codec} ${a.sampleRate} Hz, ${a.channels} ch` : 'audio: none',
        ].join('\n');
        return { json: info, text };
      }),
    );
}
