/**
 * The shapes of `@anthropic-ai/sdk` that omniprep writes and reads, declared here so that
 * omniprep's published declarations never import the SDK, an optional peer: a user's
 * `tsc --strict` without `skipLibCheck` failed on them when only the core was installed
 * (issue 25). Inside, client.ts passes these bodies to the SDK's own `messages.create()` (so each
 * shape is checked against the SDK's type when omniprep compiles) and batch.ts calls the SDK with
 * its own types.
 */
import type { ImageMime } from '../parts.js';

/** An image block's source: base64 data or a URL. */
export type ImageSource = { type: 'base64'; media_type: ImageMime; data: string } | { type: 'url'; url: string };

/** A content block omniprep sends (the SDK's `ContentBlockParam`: text and images). */
export type MessagesPart = { type: 'text'; text: string } | { type: 'image'; source: ImageSource };

/** A Messages body (the SDK's `MessageCreateParamsNonStreaming`, the fields omniprep sets). */
export interface MessagesBody {
  model: string;
  max_tokens: number;
  system?: string;
  messages: Array<{ role: 'user'; content: MessagesPart[] }>;
  output_config?: { format: { type: 'json_schema'; schema: Record<string, unknown> } };
}

/** What omniprep reads of a Message (the SDK's `Message`). */
export interface MessagesAnswerBody {
  id: string;
  content?: Array<{ type: string; text?: string }>;
  usage?: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number | null;
    cache_creation_input_tokens?: number | null;
    output_tokens_details?: { thinking_tokens?: number | null } | null;
  };
}

/**
 * An `Anthropic` client, opaque in the declarations: any object with the SDK's `messages` service
 * (an `Anthropic` instance is one). Cast it to the SDK's `Anthropic` to use it directly.
 */
export interface AnthropicClient {
  readonly messages: object;
}
