/**
 * The shapes of the `openai` SDK that omniprep writes and reads, declared here so that omniprep's
 * published declarations never import the SDK, an optional peer: a user's `tsc --strict` without
 * `skipLibCheck` failed on them when only the core was installed (issue 25). Inside, client.ts
 * passes these bodies to the SDK's own `create()` (so each shape is checked against the SDK's
 * type when omniprep compiles) and batch.ts calls the SDK with its own types.
 */

/** A Chat Completions content part (the SDK's `ChatCompletionContentPart`, as omniprep writes it). */
export type ChatPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'input_audio'; input_audio: { data: string; format: 'wav' | 'mp3' } };

/** A Chat Completions message omniprep sends: the system prompt, then one user message. */
export type ChatMessage = { role: 'system'; content: string } | { role: 'user'; content: string | ChatPart[] };

/** A `json_schema` structured-output format's fields. */
export interface JsonSchemaFormat {
  name: string;
  schema: Record<string, unknown>;
  strict: boolean;
}

/** `flex` and `priority` are sent; the standard tier is the default and not sent. */
export type ServiceTier = 'flex' | 'priority';

/** A Chat Completions body (the SDK's `ChatCompletionCreateParamsNonStreaming`, the fields omniprep sets). */
export interface ChatBody {
  model: string;
  messages: ChatMessage[];
  max_completion_tokens?: number;
  response_format?: { type: 'json_schema'; json_schema: JsonSchemaFormat };
  service_tier?: ServiceTier;
}

/** A Responses input content part (the SDK's `ResponseInputContent`, as omniprep writes it). */
export type ResponsesPart = { type: 'input_text'; text: string } | { type: 'input_image'; image_url: string; detail: 'auto' | 'low' | 'high' | 'original' };

/** A Responses body (the SDK's `ResponseCreateParamsNonStreaming`, the fields omniprep sets). */
export interface ResponsesBody {
  model: string;
  instructions?: string;
  input: Array<{ role: 'user'; content: ResponsesPart[] }>;
  max_output_tokens?: number;
  text?: { format: { type: 'json_schema' } & JsonSchemaFormat };
  service_tier?: ServiceTier;
}

/** What omniprep reads of a Chat Completions answer (the SDK's `ChatCompletion`). */
export interface ChatAnswerBody {
  id: string;
  choices?: Array<{ message?: { content?: string | null } }>;
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number };
    completion_tokens_details?: { reasoning_tokens?: number };
  };
}

/** What omniprep reads of a Responses answer (the SDK's `Response`). */
export interface ResponsesAnswerBody {
  id: string;
  output?: Array<{ type: string; content?: Array<{ type: string; text?: string }> }>;
  usage?: {
    input_tokens: number;
    output_tokens: number;
    total_tokens: number;
    input_tokens_details?: { cached_tokens?: number };
    output_tokens_details?: { reasoning_tokens?: number };
  };
}

/**
 * An `OpenAI` client, opaque in the declarations: any object with the SDK's services omniprep
 * calls (an `OpenAI` instance is one). Cast it to the SDK's `OpenAI` to use it directly.
 */
export interface OpenAIClient {
  readonly chat: object;
  readonly responses: object;
  readonly files: object;
  readonly batches: object;
}

/** An OpenAI batch's `status` (the SDK's `Batch['status']`). */
export type OpenAIBatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
