/**
 * Reading request bodies under a byte limit. The declared Content-Length is checked first (so an
 * honest oversized upload is refused before it is read) and the bytes actually received are
 * counted too (so a lying or absent Content-Length cannot push more than the limit into memory).
 * A body whose Content-Length is declared within the limit, without a Transfer-Encoding, is read
 * in one call: off the network the HTTP framing stops it at the declared length (HTTP/1.1 reads
 * exactly that many bytes when no Transfer-Encoding overrides it, and HTTP/2 and 3 refuse a
 * request whose data differs from it), so only a Request built in-process can carry more, and it
 * is still refused by its size. Any other body (chunked, or both headers, which a server may
 * read as chunked while keeping the Content-Length) is read chunk by chunk and stopped at the limit.
 */
import { concatBytes } from "../shared/bytes.ts";
import type { z } from "zod";
import { utf8BytesOf } from "../kv/index.ts";
import { bytesOfBase64, utf8Of } from "./encoding.ts";
import { problem } from "./problem.ts";
import type { ProblemCode } from "./problem.ts";

/** Largest JSON body of POST /v1/batch, in bytes: room for several large values in base64. */
export const batchBodyBytesMax = 8 * 1024 * 1024;
/** Largest JSON body of the small admin requests (groups, faults), in bytes. */
export const jsonBodyBytesMax = 64 * 1024;

/** What to say when a body is over its limit. */
export interface BodyLimit {
  readonly bytesMax: number;
  readonly code: Extract<ProblemCode, "valueTooLarge" | "bodyTooLarge">;
}

/** The request body as bytes, or a thrown 413 problem when it is (or claims to be) over `limit.bytesMax`. */
export async function readBodyLimited(request: Request, limit: BodyLimit): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  const declaresLength = declared !== null && /^\s*\d+\s*$/.test(declared);
  const framedByLength = declaresLength && request.headers.get("transfer-encoding") === null;
  if (declaresLength && Number(declared) > limit.bytesMax) {
    throw tooLarge(limit, `Content-Length ${declared.trim()} is over the limit`);
  }
  if (request.body === null) return new Uint8Array(0);
  if (framedByLength) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > limit.bytesMax) throw tooLarge(limit, `the body is over the limit`);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limit.bytesMax) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit, `the body is over the limit`);
    }
    chunks.push(value);
  }
  return concatBytes(chunks, received);
}

/** The request body parsed as JSON (UTF-8), or a thrown 400 badJson / 413 problem. */
export async function readJson(request: Request, limit: BodyLimit): Promise<unknown> {
  const bytes = await readBodyLimited(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw problem("badJson", "the body is not valid UTF-8");
  }
  if (text.trim() === "") throw problem("badJson", "the body is empty; a JSON document is required");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw problem("badJson", `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `value` checked against `schema`, or a thrown 400 badRequest naming zod's first issue. */
export function parseWithSchema<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
  throw problem("badRequest", `${where}: ${issue?.message ?? "does not match the schema"}`);
}

function tooLarge(limit: BodyLimit, reason: string): Error {
  return problem(limit.code, `${reason}: at most ${limit.bytesMax} bytes are accepted`, { extensions: { bytesMax: limit.bytesMax } });
}

/** The bytes of a put in a batch or transaction body: exactly one of `value` (UTF-8 text) or `valueBase64`, else 400 badRequest naming `where`. */
export function putValueOf(operation: { value?: string | undefined; valueBase64?: string | undefined }, where: string): Uint8Array {
  if ((operation.value === undefined) === (operation.valueBase64 === undefined)) {
    throw problem("badRequest", `${where}: a put needs exactly one of value (UTF-8 text) or valueBase64`);
  }
  if (operation.value !== undefined) {
    if (utf8BytesOf(operation.value) === undefined) throw problem("badRequest", `${where}.value: not well-formed text (lone surrogate)`);
    return utf8Of(operation.value);
  }
  const bytes = bytesOfBase64(operation.valueBase64 ?? "");
  if (bytes === undefined) throw problem("badRequest", `${where}.valueBase64: not padded standard base64`);
  return bytes;
}
