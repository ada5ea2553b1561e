// Compiled (not run) by typecheck.test.mjs: the seed's call and the typed
// stream must type-check against the package's declarations.
import { MemoryClient, NotFoundError, type StreamEvent } from '../dist/index.js';

export async function seed(client: MemoryClient): Promise<string> {
  const result = await client.upsert({
    text: "Meeting notes from Q4 planning",
    metadata: {
      type: "meeting",
      tags: ["planning", "q4"]
    }
  })
  const status: 'stored' | 'updated' = result.status;
  return status + result.id;
}

export function content(ev: StreamEvent): string {
  switch (ev.type) {
    case 'memory.created':
      return ev.data.content; // narrowed to MemoryCreated
    case 'restart':
      return ev.data.reason;
    default:
      return '';
  }
}

export function isMissing(e: unknown): boolean {
  return e instanceof NotFoundError && e.code === 'NOT_FOUND';
}
