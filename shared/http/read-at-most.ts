/**
 * Reads a byte stream whole without trusting its sender: reading stops, and the stream is
 * cancelled, as soon as more than `maxBytes` have arrived (so a body of any size costs at
 * most the limit in memory), or as soon as `signal` aborts (a sender dripping bytes
 * forever). Request bodies and documents fetched from a cluster's issuer both go through
 * here.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const aborted = signal ? untilAborted(signal) : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await (aborted ? Promise.race([reader.read(), aborted]) : reader.read());
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    // Not awaited: a sender that stopped answering must not hold the caller up.
    reader.cancel().catch(() => {});
    throw error;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function untilAborted(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  // The signal may fire long after the stream was read whole: that is not an error.
  aborted.catch(() => {});
  return aborted;
}
