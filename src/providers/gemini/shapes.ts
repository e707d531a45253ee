/**
 * The shapes of `@google/genai` that omniprep writes and reads, declared here so that omniprep's
 * published declarations never import the SDK: its own types need `@modelcontextprotocol/sdk`, and
 * a user's `tsc --strict` without `skipLibCheck` failed on them (issue 25). Inside, client.ts and
 * batch.ts still call the SDK with its own types.
 */

/** A content part: text, inline data, a File API URI, and for video its window and rate. */
export interface GeminiPart {
  text?: string;
  thought?: boolean;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
  videoMetadata?: { fps?: number; startOffset?: string; endOffset?: string };
  /** `PartMediaResolutionLevel`: `MEDIA_RESOLUTION_LOW`, `..._MEDIUM`, `..._HIGH`, `..._ULTRA_HIGH`. */
  mediaResolution?: { level?: string };
}

export interface GeminiContent {
  role?: string;
  parts?: GeminiPart[];
}

/** The config fields omniprep sets (the SDK's `GenerateContentConfig`). */
export interface GeminiConfig {
  systemInstruction?: string;
  maxOutputTokens?: number;
  responseMimeType?: string;
  responseJsonSchema?: unknown;
  mediaResolution?: string;
}

/** A generateContent body, as `ai.models.generateContent()` takes it. */
export interface GeminiBody {
  model: string;
  contents: GeminiContent[];
  config?: GeminiConfig;
}

/** What omniprep reads of a generateContent response. */
export interface GeminiResponse {
  candidates?: Array<{ content?: GeminiContent }>;
  usageMetadata?: {
    promptTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
    totalTokenCount?: number;
    cachedContentTokenCount?: number;
    promptTokensDetails?: Array<{ modality?: string; tokenCount?: number }>;
  };
  responseId?: string;
}

/** A `GoogleGenAI` client, opaque in the declarations (any object with the SDK's three services). */
export interface GeminiClient {
  readonly models: object;
  readonly files: object;
  readonly batches: object;
}
