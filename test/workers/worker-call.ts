/**
 * The public API of the Worker under test, called in-process (the workers tests' one way in), and
 * a setup helper that repeats a call a busy machine may not answer in time.
 */
import { exports } from "cloudflare:workers";

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const token = "workers-test-admin";

/** Calls `path` as the admin; a string body is sent as is, anything else as JSON. A JSON object answer is parsed, any other is `{ text }`. */
export async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await worker.fetch(new Request(`https://edgeraft.test${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }));
  const text = new TextDecoder().decode(await response.arrayBuffer());
  return { status: response.status, json: text.length > 0 && text.startsWith("{") ? JSON.parse(text) : { text } };
}

/** Setup, not under test: repeats `attempt` until it answers `ok` (a busy machine may not answer a call in time). */
export async function settled<T>(attempt: () => Promise<T>, ok: (answer: T) => boolean): Promise<T> {
  let answer = await attempt();
  for (let round = 0; round < 10 && !ok(answer); round++) answer = await attempt();
  return answer;
}
