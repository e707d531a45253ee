/**
 * What a request will cost, before it is sent: image tokens from the assets (the plan's exact
 * numbers), audio tokens from the chunks, text tokens of every text part (the prompt, the system
 * message, the timestamp labels, transcripts) with the model's per-message and per-request
 * overhead, and dollars at a price tier.
 */
import type { Tier } from '../models/registry.js';
import { dollars, textTokens } from '../models/tokens.js';
import type { Part } from './content.js';
import type { ResolvedRequestOptions } from './options.js';

export interface RequestEstimate {
  model: string;
  tier: Tier;
  images: number;
  audioChunks: number;
  audioSeconds: number;
  imageTokens: number;
  /** Frames sampled from video sent as video (Gemini), and their tokens (its audio is in audioTokens). */
  videoFrames: number;
  videoTokens: number;
  audioTokens: number;
  textTokens: number;
  /** imageTokens + videoTokens + audioTokens + textTokens. */
  inputTokens: number;
  /** `maxOutputTokens` when set, else the expected output. */
  outputTokens: number;
  inputUsd: number;
  /** Input plus the expected output, in dollars. */
  usd: number;
  /** Why the dollars are 0: the model has no price where it is sent (a local server). */
  priceNote?: string;
}

/**
 * Text tokens of a request: each text part in the model's encoding, plus the model's overhead per
 * message (the user message, and the system message or instructions when there is one) and per request.
 */
export function textTokensOf(parts: readonly Part[], o: Pick<ResolvedRequestOptions, 'model' | 'system'>): number {
  const m = o.model;
  let tokens = m.text.perRequest + m.text.perMessage;
  if (o.system !== undefined) tokens += m.text.perMessage + textTokens(m, o.system);
  for (const p of parts) if (p.kind === 'text') tokens += textTokens(m, p.text);
  return tokens;
}

export function estimateParts(parts: readonly Part[], o: ResolvedRequestOptions): RequestEstimate {
  let images = 0;
  let imageTok = 0;
  let audioChunks = 0;
  let audioSeconds = 0;
  let audioTok = 0;
  let videoFrames = 0;
  let videoTok = 0;
  for (const p of parts) {
    if (p.kind === 'image') {
      images++;
      imageTok += p.tokens;
    } else if (p.kind === 'video') {
      videoFrames += p.clip.frames;
      videoTok += p.clip.frameTokens;
      audioSeconds += p.clip.audioSeconds;
      audioTok += p.clip.audioTokens;
    } else if (p.kind === 'audio') {
      audioChunks++;
      audioSeconds += p.chunk.endSec - p.chunk.startSec;
      audioTok += p.tokens;
    }
  }
  const textTok = textTokensOf(parts, o);
  const outputTokens = o.expectedOutputTokens;
  // Video frames are priced like images (the input price); the video's audio track like audio.
  const inputUsd = dollars(o.model, { imageTokens: imageTok + videoTok, audioTokens: audioTok, textTokens: textTok }, o.tier);
  const usd = dollars(o.model, { imageTokens: imageTok + videoTok, audioTokens: audioTok, textTokens: textTok, outputTokens }, o.tier);
  return {
    model: o.model.name,
    tier: o.tier,
    images,
    audioChunks,
    audioSeconds: Math.round(audioSeconds * 1000) / 1000,
    imageTokens: imageTok,
    videoFrames,
    videoTokens: videoTok,
    audioTokens: audioTok,
    textTokens: textTok,
    inputTokens: imageTok + videoTok + audioTok + textTok,
    outputTokens,
    inputUsd,
    usd,
    ...(o.priceNote ? { priceNote: o.priceNote } : {}),
  };
}

/** The sum of several estimates (one model and tier). */
export function sumEstimates(list: readonly RequestEstimate[]): Omit<RequestEstimate, 'model' | 'tier'> {
  const keys = [
    'images',
    'audioChunks',
    'audioSeconds',
    'imageTokens',
    'videoFrames',
    'videoTokens',
    'audioTokens',
    'textTokens',
    'inputTokens',
    'outputTokens',
    'inputUsd',
    'usd',
  ] as const;
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<(typeof keys)[number], number>;
  for (const e of list) for (const k of keys) out[k] += e[k];
  out.inputUsd = Math.round(out.inputUsd * 1e8) / 1e8;
  out.usd = Math.round(out.usd * 1e8) / 1e8;
  out.audioSeconds = Math.round(out.audioSeconds * 1000) / 1000;
  return out;
}
