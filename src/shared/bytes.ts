/** Byte-array helpers shared by every layer. */

/** Joins `chunks` into one array (of `totalBytes` when the caller already knows the size). */
export function concatBytes(chunks: readonly Uint8Array[], totalBytes?: number): Uint8Array {
  const out = new Uint8Array(totalBytes ?? chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
