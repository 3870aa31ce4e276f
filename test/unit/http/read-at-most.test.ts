/**
 * Reading an untrusted stream: never more than the limit is pulled, the stream is
 * cancelled when the limit is passed or the signal aborts, and a later abort of a stream
 * read whole is harmless.
 */
import { describe, expect, it } from "vitest";
import { readAtMost } from "../../../shared/http/read-at-most.ts";

const CHUNK = 1024;

/** An endless stream that counts what was pulled from it and whether it was cancelled. */
function endless() {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

const tooLarge = () => new Error("too large");

describe("readAtMost", () => {
  it("returns a stream that fits, whole", async () => {
    const stream = new Blob(["hello ", "world"]).stream();
    const bytes = await readAtMost(stream, 11, tooLarge);
    expect(new TextDecoder().decode(bytes)).toBe("hello world");
  });

  it("stops pulling an endless stream one chunk past the limit, and cancels it", async () => {
    const { stream, state } = endless();
    await expect(readAtMost(stream, 10 * CHUNK, tooLarge)).rejects.toThrow("too large");
    expect(state.pulled).toBeLessThanOrEqual(11 * CHUNK);
    expect(state.cancelled).toBe(true);
  });

  it("stops waiting when the signal aborts, and cancels the stream", async () => {
    const state = { cancelled: false };
    const stalled = new ReadableStream<Uint8Array>({
      cancel() {
        state.cancelled = true;
      },
    });
    const controller = new AbortController();
    const reading = readAtMost(stalled, CHUNK, tooLarge, controller.signal);
    controller.abort(new Error("deadline"));
    await expect(reading).rejects.toThrow("deadline");
    expect(state.cancelled).toBe(true);
  });

  it("ignores an abort after the stream was read whole", async () => {
    const controller = new AbortController();
    await readAtMost(new Blob(["{}"]).stream(), CHUNK, tooLarge, controller.signal);
    controller.abort(new Error("late"));
  });
});
