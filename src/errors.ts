/**
 * Every failure omniprep reports is an `OmniprepError` with a stable `code` and a one-line
 * message that names the input and the cause. The CLI prints `message` alone (exit 1 for bad
 * input or a processing failure, exit 2 for bad usage); the service maps `code` to an HTTP status.
 */
export type ErrorCode =
  | 'NOT_FOUND' // the path does not exist
  | 'NOT_A_FILE' // a directory or a device
  | 'EMPTY' // zero bytes
  | 'UNSUPPORTED_FORMAT' // not a container we accept (HLS playlist, concat script, text, random bytes)
  | 'CORRUPT' // a container we accept, but its data cannot be read
  | 'NO_VIDEO_STREAM'
  | 'NO_AUDIO_STREAM'
  | 'TOO_LARGE' // over a size, duration or pixel limit
  | 'TIMEOUT'
  | 'ABORTED'
  | 'BINARY_NOT_FOUND' // ffmpeg or ffprobe could not be resolved
  | 'MISSING_PACKAGE' // an optional package (a provider SDK, the service's, vega) is not installed
  | 'PROCESS_FAILED' // ffmpeg failed for a reason we could not classify
  | 'INVALID_OPTION' // bad usage: an option out of range
  | 'UNKNOWN_MODEL'
  | 'BUDGET_EXCEEDED'
  | 'LIMIT_EXCEEDED' // a provider request limit cannot be met
  | 'REQUEST_FAILED' // an API call failed after its retries
  | 'INVALID_RESPONSE' // an API answer does not match the requested schema
  | 'FORBIDDEN_URL'; // an SSRF-unsafe or otherwise refused URL

/** Codes that mean the caller used the tool wrongly (CLI exit code 2). */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['INVALID_OPTION', 'UNKNOWN_MODEL']);

export class OmniprepError extends Error {
  readonly code: ErrorCode;
  /** The input the error is about (a path, URL or model name), when there is one. */
  readonly input: string | undefined;
  /** Extra facts for programs (never shown by the CLI unless --verbose). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { input?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmniprepError';
    this.code = code;
    this.input = options.input;
    this.details = options.details;
  }

  get isUsageError(): boolean {
    return USAGE_CODES.has(this.code);
  }

  toJSON(): { code: ErrorCode; message: string; input?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.input === undefined ? {} : { input: this.input }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** Builds the one-line message: `<input>: <cause>`. Newlines in causes are folded. */
export function inputError(code: ErrorCode, input: string, cause: string, extra: { cause?: unknown; details?: Record<string, unknown> } = {}): OmniprepError {
  const oneLine = cause.replace(/\s*\n\s*/g, '; ').trim();
  return new OmniprepError(code, `${input}: ${oneLine}`, { input, ...extra });
}

/** An option with a bad value: names the option and what is allowed, as sharp does. */
export function invalidOption(name: string, allowed: string, got: unknown): OmniprepError {
  return new OmniprepError('INVALID_OPTION', `option ${name}: expected ${allowed}, got ${JSON.stringify(got) ?? String(got)}`, { details: { option: name } });
}

export function isOmniprepError(e: unknown): e is OmniprepError {
  return e instanceof OmniprepError;
}

/**
 * A container parser (MP4 boxes, Matroska/WebM elements, Annex B units) found a count or a size
 * the file cannot hold: a lie in its tables, refused before anything is allocated for it. The
 * parsers do not know the input's name; the caller that does reports it with `corruptInput`, as
 * `CORRUPT` (never a fallback to another reader, never a raw RangeError).
 */
export class CorruptContainer extends Error {
  /** The box or element that lies (`stsz`, `Cues`, `EBML size`...). */
  readonly where: string;
  constructor(where: string, cause: string) {
    super(`the ${where} ${cause}`);
    this.name = 'CorruptContainer';
    this.where = where;
  }
}

/** A parser's refusal (or any error a parser threw) as CORRUPT naming the input. */
export function corruptInput(input: string, e: unknown): OmniprepError {
  if (e instanceof OmniprepError) return e;
  const cause = e instanceof CorruptContainer ? e.message : `its container cannot be read (${e instanceof Error ? e.message : String(e)})`;
  return inputError('CORRUPT', input, cause, { cause: e });
}
