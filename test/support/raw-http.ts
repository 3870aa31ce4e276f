/**
 * HTTP/1.1 spoken byte by byte over a raw socket: what no HTTP client will send (fragments,
 * pipelines, broken headers), and the answers as they came back.
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A pause between writes long enough for the server to read what came before, so that
 * the pieces reach it as separate reads rather than coalesced in the socket buffer.
 * Pacing only: nothing is asserted about time.
 */
const pause = () => new Promise((resolve) => setTimeout(resolve, 2));

/**
 * Writes `pieces` with a pause before each, then ends the connection if asked, and
 * resolves with every byte received until it closes.
 */
export function exchange(port: number, pieces: readonly Buffer[], options: { end?: boolean } = {}) {
  return new Promise<Buffer>((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = connect({ port, host: "127.0.0.1", noDelay: true }, async () => {
      for (const piece of pieces) {
        await pause();
        if (socket.destroyed) break;
        socket.write(piece);
      }
      if (options.end && !socket.destroyed) socket.end();
    });
    socket.on("data", (chunk) => received.push(chunk));
    // A reset after the server answered is still an answer.
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNRESET" && error.code !== "EPIPE") reject(error);
    });
    socket.on("close", () => resolve(Buffer.concat(received)));
  });
}

/** The responses in `bytes`, in order; a response cut short ends the list. */
export function parseResponses(bytes: Buffer): RawResponse[] {
  const text = bytes.toString("latin1");
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd === -1) break;
    const [statusLine = "", ...lines] = text.slice(at, headEnd).split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
    if (!status) break;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body: string;
    at = headEnd + 4;
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (at + length > text.length) break;
      body = text.slice(at, at + length);
      at += length;
    } else if (headers["transfer-encoding"] === "chunked") {
      body = "";
      for (;;) {
        const lineEnd = text.indexOf("\r\n", at);
        if (lineEnd === -1) return responses;
        const size = Number.parseInt(text.slice(at, lineEnd), 16);
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      body = text.slice(at);
      at = text.length;
    }
    responses.push({ status: Number(status), headers, body: Buffer.from(body, "latin1").toString("utf8") });
  }
  return responses;
}
