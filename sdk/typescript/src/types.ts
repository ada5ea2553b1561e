// Names for the generated types (gen/typescript, copied to ./gen at build
// time): the REST schemas of spec/openapi.yaml and the stream payloads of
// spec/schemas/events.yaml. Nothing here restates a field by hand.
import type { components, operations } from './gen/api.js';
import type { components as eventComponents } from './gen/events.js';

type Schemas = components['schemas'];
type Events = eventComponents['schemas'];

export type Memory = Schemas['Memory'];
export type Metadata = Schemas['Metadata'];
export type CreateMemoryRequest = Schemas['CreateMemoryRequest'];
export type UpdateMemoryRequest = Schemas['UpdateMemoryRequest'];
export type StoreResult = Schemas['StoreResult'];
export type UpdateResult = Schemas['UpdateResult'];
export type DeleteResult = Schemas['DeleteResult'];
export type MemoryList = Schemas['MemoryList'];
export type SearchRequest = Schemas['SearchRequest'];
export type SearchResponse = Schemas['SearchResponse'];
export type SearchResult = Schemas['SearchResult'];
export type SearchFilters = Schemas['SearchFilters'];
export type StreamTicket = Schemas['StreamTicket'];
export type ErrorBody = Schemas['Error'];
export type ErrorCode = ErrorBody['error'];
/** The query of `GET /memory`: filters, page size and cursor. */
export type ListQuery = NonNullable<operations['listMemories']['parameters']['query']>;

/** Each stream message name (the SSE `event` field) and its payload. */
export interface StreamEventMap {
  welcome: Events['Welcome'];
  restart: Events['Restart'];
  heartbeat: Events['Heartbeat'];
  error: Events['StreamError'];
  'memory.created': Events['MemoryCreated'];
  'memory.updated': Events['MemoryUpdated'];
  'memory.deleted': Events['MemoryDeleted'];
  'search.performed': Events['SearchPerformed'];
  'user.activity': Events['UserActivity'];
  'system.health': Events['SystemHealth'];
  'analytics.update': Events['AnalyticsUpdate'];
}

export type StreamEventType = keyof StreamEventMap;

/**
 * One stream message: `type` narrows `data`. `id` is the message's stream
 * position ("" for `error`, which has none).
 */
export type StreamEvent = {
  [K in StreamEventType]: { type: K; id: string; data: StreamEventMap[K] };
}[StreamEventType];

/** Every message name of the stream channel in spec/asyncapi.yaml. */
export const STREAM_EVENT_TYPES: readonly StreamEventType[] = [
  'welcome', 'restart', 'heartbeat', 'error', 'memory.created', 'memory.updated', 'memory.deleted',
  'search.performed', 'user.activity', 'system.health', 'analytics.update',
];
