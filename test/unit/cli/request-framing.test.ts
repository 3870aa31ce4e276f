/**
 * The framer finds every request start of well-formed HTTP/1.1 traffic however it is
 * split, renames exactly the LIST methods, and on anything else changes no byte but a
 * LIST method's.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRequestFramer, LIST_STAND_IN } from "../../../cli/request-framing.ts";

/** Runs `chunks` through a new framer: the bytes out, and what it said of each request start. */
function frame(chunks: Buffer[]): { out: Buffer; starts: boolean[] } {
  const framer = createRequestFramer();
  const out = [...chunks.flatMap((chunk) => framer.push(chunk)), ...framer.flush()];
  const starts: boolean[] = [];
  for (let start = framer.nextRequestWasList(); start !== undefined; start = framer.nextRequestWasList())
    starts.push(start);
  return { out: Buffer.concat(out), starts };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.length));
}

/** A body that looks like requests, to mislead a framer that scans it. */
const trickyBody = fc.constantFrom("", "LIST /x HTTP/1.1\r\n\r\n", "\r\n\r\nLIST ", "LIST", "{}");

const request = fc.record({
  leading: fc.constantFrom("", "\r\n", "\n", "\r\n\r\n"),
  method: fc.constantFrom("LIST", "GET", "POST", "LISTEN", "LOCK", "LIS"),
  target: fc.constantFrom("/v1/a", "/v1/LIST /b", "*"),
  headers: fc.array(fc.constantFrom("Host: x", "X-A: LIST /v1/c", "Content-Type: a", "X-B:"), {
    maxLength: 3,
  }),
  body: trickyBody,
});
type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(r: Request, method = r.method): string {
  const length = r.body === "" ? [] : [`Content-Length: ${Buffer.byteLength(r.body)}`];
  return `${r.leading}${method} ${r.target} HTTP/1.1\r\n${[...r.headers, ...length].map((h) => `${h}\r\n`).join("")}\r\n${r.body}`;
}

describe("request framing", () => {
  it("renames the method of every LIST request and nothing else, however the bytes are split", () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (requests, cuts) => {
          const input = Buffer.from(requests.map((r) => bytesOf(r)).join(""), "latin1");
          const expected = requests
            .map((r) => bytesOf(r, r.method === "LIST" ? LIST_STAND_IN : r.method))
            .join("");
          const { out, starts } = frame(split(input, cuts));
          expect(out.toString("latin1")).toBe(expected);
          expect(starts).toEqual(requests.map((r) => r.method === "LIST"));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("changes no byte but a LIST method's, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            request.map((r) => Buffer.from(bytesOf(r), "latin1")),
          ),
          {
            maxLength: 6,
          },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        (parts, cuts) => {
          const input = Buffer.concat(parts);
          const { out, starts } = frame(split(input, cuts));
          // Where a LIST became the stand-in; every other byte must be as it came.
          const renamedInput = Buffer.from(input);
          let renamed = 0;
          for (let i = 0; i + 5 <= input.length; i++) {
            if (input.subarray(i, i + 5).toString("latin1") !== "LIST ") continue;
            if (out.subarray(i, i + 5).toString("latin1") !== `${LIST_STAND_IN} `) continue;
            renamedInput.write(LIST_STAND_IN, i, "latin1");
            renamed++;
          }
          expect(out).toEqual(renamedInput);
          expect(renamed).toBe(starts.filter(Boolean).length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("steps aside for the rest of a connection after framing it does not follow", () => {
    const list = "LIST /v1/a HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const first of [
      "POST /v1/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET /v1/a HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
      "CONNECT x:1 HTTP/1.1\r\n\r\n",
      "POST /v1/a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
      "POST /v1/a HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\na",
      `GET /v1/a HTTP/1.1\r\nX-Big: ${"a".repeat(70_000)}`,
    ]) {
      const { out, starts } = frame([Buffer.from(first + list, "latin1")]);
      expect(out.toString("latin1")).toBe(first + list);
      expect(starts).toEqual([false]);
    }
  });

  it("holds a request's first bytes only until its method is known, and gives them back at the end", () => {
    const framer = createRequestFramer();
    expect(framer.push(Buffer.from("\r\nLIS"))).toEqual([Buffer.from("\r\n")]);
    expect(framer.push(Buffer.from("T"))).toEqual([]);
    expect(Buffer.concat(framer.push(Buffer.from(" /"))).toString()).toBe(`${LIST_STAND_IN} /`);
    const other = createRequestFramer();
    expect(Buffer.concat(other.push(Buffer.from("LIT"))).toString()).toBe("LIT");
    const cut = createRequestFramer();
    cut.push(Buffer.from("LI"));
    expect(Buffer.concat(cut.flush()).toString()).toBe("LI");
  });
});
