/** omniprep/ffmpeg: which ffmpeg and ffprobe are used, and stopping every child process. */
export { resolveBinary, toolchain, type BinaryOptions, type ResolvedBinary } from './binaries.js';
export { killAllProcesses, liveProcessCount } from './runner.js';
