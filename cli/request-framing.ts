/**
 * Where each HTTP/1.1 request starts in the bytes of one connection, so that the method of
 * a LIST request can be renamed before Node's parser (which rejects LIST) sees it.
 *
 * Node's parser stays the one that parses: this only follows the framing far enough to
 * know where the next request begins (the head ends at the first empty line; a body is
 * Content-Length bytes). Whatever it does not follow exactly (chunked bodies, upgrades,
 * CONNECT, repeated or odd Content-Length, heads beyond any limit) makes it step aside for
 * the rest of the connection: the bytes pass unchanged, and a later LIST on that
 * connection gets Node's 400. A mistake here can therefore only turn a LIST into a 400,
 * never change what any request asks for: the method is the only thing ever rewritten.
 */

/** The method Node sees instead of LIST: same length, known to Node, served by no route. */
export const LIST_STAND_IN = "LOCK";

const LIST_PREFIX = Buffer.from("LIST ", "latin1");
const STAND_IN_PREFIX = Buffer.from(`${LIST_STAND_IN} `, "latin1");
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const CR = 0x0d;
const LF = 0x0a;
/** Far beyond Node's header limit (16 KiB by default), which answers 431 first. */
const MAX_HEAD_BYTES = 64 * 1024;

export interface RequestFramer {
  /** The bytes to hand to the parser now; a request's first bytes are held until its method is known. */
  push(chunk: Buffer): Buffer[];
  /** What is still held, unchanged, when the connection ends. */
  flush(): Buffer[];
  /**
   * For each request start found, in order: whether it was a LIST renamed to LIST_STAND_IN.
   * Undefined once the framer has stepped aside and found no more starts.
   */
  nextRequestWasList(): boolean | undefined;
}

type Phase =
  | { name: "start"; held: Buffer }
  /** The head so far, kept in pieces (joined once, when its end is found) and its last bytes. */
  | { name: "head"; pieces: Buffer[]; length: number; tail: Buffer }
  | { name: "body"; remaining: number }
  | { name: "opaque" };

/** Bytes of the body that follows a head, or undefined when it is not plain Content-Length framing. */
function bodyLength(head: Buffer): number | undefined {
  const lines = head.toString("latin1").split("\r\n");
  const requestLine = lines[0] ?? "";
  if (requestLine.startsWith("CONNECT ")) return undefined;
  let length: number | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (name === "transfer-encoding" || name === "upgrade") return undefined;
    if (name !== "content-length") continue;
    const value = line.slice(colon + 1).replace(/^ +| +$/g, "");
    if (length !== undefined || !/^\d{1,15}$/.test(value)) return undefined;
    length = Number(value);
  }
  return length ?? 0;
}

export function createRequestFramer(): RequestFramer {
  let phase: Phase = { name: "start", held: Buffer.alloc(0) };
  const starts: boolean[] = [];

  /** Consumes from `chunk` what belongs to the current phase; returns the rest. */
  function step(chunk: Buffer, out: Buffer[]): Buffer {
    switch (phase.name) {
      case "opaque":
        out.push(chunk);
        return Buffer.alloc(0);
      case "start": {
        let held = phase.held.length > 0 ? Buffer.concat([phase.held, chunk]) : chunk;
        // Empty lines before a request line are skipped by the parser (RFC 9112, 2.2).
        let skip = 0;
        while (skip < held.length && (held[skip] === CR || held[skip] === LF)) skip++;
        if (skip > 0) out.push(held.subarray(0, skip));
        held = held.subarray(skip);
        const known = Math.min(held.length, LIST_PREFIX.length);
        const isList = held.subarray(0, known).equals(LIST_PREFIX.subarray(0, known));
        if (held.length === 0 || (isList && known < LIST_PREFIX.length)) {
          phase = { name: "start", held };
          return Buffer.alloc(0);
        }
        starts.push(isList);
        phase = { name: "head", pieces: [], length: 0, tail: Buffer.alloc(0) };
        return isList ? Buffer.concat([STAND_IN_PREFIX, held.subarray(LIST_PREFIX.length)]) : held;
      }
      case "head": {
        // The end may straddle chunks: look from the last bytes already seen.
        const window = phase.tail.length > 0 ? Buffer.concat([phase.tail, chunk]) : chunk;
        const found = window.indexOf(HEAD_END);
        if (found === -1) {
          out.push(chunk);
          phase.pieces.push(chunk);
          phase.length += chunk.length;
          phase.tail = Buffer.from(window.subarray(-(HEAD_END.length - 1)));
          if (phase.length > MAX_HEAD_BYTES) phase = { name: "opaque" };
          return Buffer.alloc(0);
        }
        const taken = found - phase.tail.length + HEAD_END.length;
        out.push(chunk.subarray(0, taken));
        const length = bodyLength(Buffer.concat([...phase.pieces, chunk.subarray(0, taken)]));
        if (length === undefined) phase = { name: "opaque" };
        else if (length > 0) phase = { name: "body", remaining: length };
        else phase = { name: "start", held: Buffer.alloc(0) };
        return chunk.subarray(taken);
      }
      case "body": {
        const taken = Math.min(phase.remaining, chunk.length);
        out.push(chunk.subarray(0, taken));
        const remaining = phase.remaining - taken;
        phase = remaining > 0 ? { name: "body", remaining } : { name: "start", held: Buffer.alloc(0) };
        return chunk.subarray(taken);
      }
    }
  }

  return {
    push(chunk) {
      const out: Buffer[] = [];
      let rest = chunk;
      // A held start with no new bytes still needs one step to stay held.
      do rest = step(rest, out);
      while (rest.length > 0);
      return out.filter((piece) => piece.length > 0);
    },
    flush() {
      const held = phase.name === "start" ? phase.held : Buffer.alloc(0);
      phase = { name: "opaque" };
      return held.length > 0 ? [held] : [];
    },
    nextRequestWasList() {
      return starts.shift();
    },
  };
}
