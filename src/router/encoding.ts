/**
 * Byte encodings the JSON parts of the API use for values: standard base64 (RFC 4648 section 4,
 * padded) and UTF-8 text. Web-standard only (btoa, atob, TextEncoder, TextDecoder), so the app
 * runs on Workers, Deno and Node alike.
 */

/** Bytes encoded per btoa call; keeps String.fromCharCode's argument list short. */
const base64ChunkBytes = 0x8000;
/** Padded standard base64: groups of four, with one or two `=` only at the end. */
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const strictUtf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** `bytes` as padded standard base64. */
export function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (let start = 0; start < bytes.length; start += base64ChunkBytes) {
    binary += String.fromCharCode(...bytes.subarray(start, start + base64ChunkBytes));
  }
  return btoa(binary);
}

/** The bytes `text` encodes as padded standard base64, or undefined when it is not exactly that. */
export function bytesOfBase64(text: string): Uint8Array | undefined {
  if (!base64Pattern.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let position = 0; position < binary.length; position++) bytes[position] = binary.charCodeAt(position);
  return bytes;
}

/** `bytes` decoded as UTF-8 text, or null when they are not valid UTF-8. */
export function textOrNullOf(bytes: Uint8Array): string | null {
  try {
    return strictUtf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** `text` (well-formed UTF-16) encoded as UTF-8. */
export function utf8Of(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * How JSON responses show a value: `value` is the UTF-8 text when the bytes are valid UTF-8 (else
 * null) and `valueBase64` always holds the exact bytes, so text stays readable and binary survives.
 */
export function valueViewOf(bytes: Uint8Array): { value: string | null; valueBase64: string } {
  return { value: textOrNullOf(bytes), valueBase64: base64Of(bytes) };
}
