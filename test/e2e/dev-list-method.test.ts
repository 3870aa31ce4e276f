/**
 * The LIST method on `coffer dev`, over raw sockets: whatever the bytes (split anywhere,
 * pipelined, kept alive, hostile headers, garbage), the server stays up, and every request
 * it answers is answered for its own request target, never for a path a header named.
 */
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { exchange, parseResponses } from "../support/raw-http.ts";

const ROOT = "list-method-root";

/** Request targets whose listings differ, so an answer shows which path it served. */
const LISTINGS: Record<string, string[]> = {
  "/v1/secret/metadata/": ["app/", "zz/"],
  "/v1/secret/metadata/app/": ["db"],
  "/v1/secret/metadata/zz/": ["top"],
  "/v1/sys/policies/acl": ["default", "root"],
};
const TARGETS = Object.keys(LISTINGS);

interface ListRequest {
  method: "LIST" | "GET";
  target: string;
  host: string;
  headers: [string, string][];
  /** Sent with a Content-Length; shaped like a request line to mislead a framer. */
  body?: string;
}

function bytesOf(request: ListRequest): Buffer {
  const target = request.method === "GET" ? `${request.target}?list=true` : request.target;
  const headers = [["Host", request.host], ["X-Vault-Token", ROOT], ...request.headers];
  const body = request.body === undefined ? undefined : Buffer.from(request.body, "utf8");
  if (body) headers.push(["Content-Length", String(body.length)]);
  const head = `${request.method} ${target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "utf8"), body ?? Buffer.alloc(0)]);
}

/** Answered, then the server closes: ends every exchange that is not cut short. */
const LAST = Buffer.from("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "latin1");

/** `bytes` cut at `cuts` (positions, taken modulo its length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % bytes.length))]
    .filter((cut) => cut > 0)
    .sort((a, b) => a - b);
  return [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.length));
}

function keysOf(body: string): unknown {
  return JSON.parse(body).data.keys;
}

// Host values a client may send and no router may follow: legal header values all.
const trickyHost = fc.constantFrom(
  "127.0.0.1",
  "evil@127.0.0.1",
  "127.0.0.1/v1/sys/policies/acl?",
  "127.0.0.1/v1/secret/metadata/app/#",
  "127.0.0.1:99999",
  "[::1",
  "a b",
  "%2e%2e/%2e%2e",
  "",
);
const headerName = fc.constantFrom("Accept", "User-Agent", "X-Forwarded-Host", "X-Original-URL", "Forwarded");
const legalValue = fc
  .array(fc.constantFrom("/v1/sys/policies/acl", "?", "#", "@", " ", "LIST ", "..", "%0d%0a", "x"), {
    maxLength: 5,
  })
  .map((parts) => parts.join(""));
const listRequest = (host: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.record(
    {
      method: fc.constantFrom<"LIST" | "GET">("LIST", "LIST", "GET"),
      target: fc.constantFrom(...TARGETS),
      host,
      headers: fc.array(fc.tuple(headerName, value), { maxLength: 3 }),
      body: fc.constantFrom("LIST /v1/sys/policies/acl HTTP/1.1\r\nHost: x\r\n\r\n", "{}"),
    },
    { requiredKeys: ["method", "target", "host", "headers"] },
  );
const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe("the LIST method on coffer dev", () => {
  const server = useDevServer({ rootToken: ROOT });
  let port: number;
  const health = async () => (await fetch(`${server.url}/v1/sys/health`)).status;

  beforeAll(async () => {
    port = Number(new URL(server.url).port);
    for (const path of ["app/db", "zz/top"]) {
      const write = await fetch(`${server.url}/v1/secret/data/${path}`, {
        method: "POST",
        headers: { "X-Vault-Token": ROOT },
        body: JSON.stringify({ data: { value: "v" } }),
      });
      expect(write.status).toBe(200);
    }
  });

  it("serves the request target whatever the Host header says", async () => {
    for (const host of [
      "evil@127.0.0.1",
      "127.0.0.1/v1/sys/policies/acl?",
      "127.0.0.1/v1/secret/metadata/zz/#",
    ]) {
      const request: ListRequest = { method: "LIST", target: "/v1/secret/metadata/app/", host, headers: [] };
      const [answer, last] = parseResponses(await exchange(port, [bytesOf(request), LAST]));
      expect(answer?.status, host).toBe(200);
      expect(keysOf(answer?.body ?? ""), host).toEqual(["db"]);
      expect(last?.status).toBe(200);
    }
  });

  it("answers a header value with a bare CR with 400 and keeps serving", async () => {
    const request: ListRequest = {
      method: "LIST",
      target: "/v1/secret/metadata/",
      host: "a\rb",
      headers: [],
    };
    const answers = parseResponses(await exchange(port, [bytesOf(request), LAST]));
    expect(answers.map((answer) => answer.status)).toEqual([400]);
    expect(await health()).toBe(200);
  });

  it("serves a LIST split in two at every byte position", async () => {
    const request: ListRequest = {
      method: "LIST",
      target: "/v1/secret/metadata/",
      host: "127.0.0.1",
      headers: [["Connection", "close"]],
    };
    const bytes = bytesOf(request);
    for (let cut = 1; cut < bytes.length; cut++) {
      const [answer] = parseResponses(await exchange(port, [bytes.subarray(0, cut), bytes.subarray(cut)]));
      expect(answer?.status, `cut at ${cut}`).toBe(200);
      expect(keysOf(answer?.body ?? ""), `cut at ${cut}`).toEqual(["app/", "zz/"]);
    }
  });

  it("serves LIST on a kept-alive connection after other requests, as the vault CLI sends it", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string) =>
      new Promise<{ status: number; body: string; reused: boolean }>((resolve, reject) => {
        const request = httpRequest(
          { host: "127.0.0.1", port, method, path, agent, headers: { "X-Vault-Token": ROOT } },
          (response) => {
            let body = "";
            response.on("data", (chunk) => {
              body += chunk;
            });
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, body, reused: request.reusedSocket }),
            );
          },
        );
        request.on("error", reject);
        request.end();
      });
    try {
      expect((await send("GET", "/v1/sys/internal/ui/mounts/secret/app")).status).toBe(200);
      const listed = await send("LIST", "/v1/secret/metadata/app/");
      expect(listed).toMatchObject({ status: 200, reused: true });
      expect(keysOf(listed.body)).toEqual(["db"]);
      const again = await send("LIST", "/v1/sys/policies/acl");
      expect(again).toMatchObject({ status: 200, reused: true });
      expect(keysOf(again.body)).toEqual(["default", "root"]);
    } finally {
      agent.destroy();
    }
  });

  it("serves pipelined requests in order, a LIST among them", async () => {
    const get = Buffer.from("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n", "latin1");
    const list = (target: string) => bytesOf({ method: "LIST", target, host: "x", headers: [] });
    const answers = parseResponses(
      await exchange(port, [
        Buffer.concat([get, list("/v1/secret/metadata/zz/"), list("/v1/sys/policies/acl"), LAST]),
      ]),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(keysOf(answers[1]?.body ?? "")).toEqual(["top"]);
    expect(keysOf(answers[2]?.body ?? "")).toEqual(["default", "root"]);
  });

  it("refuses oversized, malformed and unfinished requests cleanly and keeps serving", async () => {
    const cases: { bytes: string; status?: number; orThen?: number }[] = [
      {
        bytes: `LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
        status: 431,
      },
      { bytes: "LIST /v1/secret/metadata/ HTTP/1.1\nHost: x\n\n", status: 400 },
      { bytes: "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", status: 400 },
      {
        bytes:
          "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        status: 400,
      },
      // Without a token the head is refused before the body is read; Node's parser then
      // refuses the unfinished body, if the 403 left first.
      {
        bytes: "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        status: 403,
        orThen: 400,
      },
      { bytes: "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n", status: 400 },
      { bytes: "LIS", status: 400 },
      { bytes: "LIST", status: 400 },
      { bytes: "" },
      { bytes: "\r\n\r\nLIST \0\r\n\r\n", status: 400 },
    ];
    for (const { bytes, status, orThen } of cases) {
      const answers = parseResponses(await exchange(port, [Buffer.from(bytes, "latin1")], { end: true }));
      const statuses = answers.map((answer) => answer.status);
      const expected = status ? [status] : [];
      if (orThen && statuses.length === 2) expected.push(orThen);
      expect(statuses, JSON.stringify(bytes.slice(0, 60))).toEqual(expected);
      expect(await health()).toBe(200);
    }
  });

  it("closes a connection it is done with even when the peer keeps its side open", async () => {
    for (const request of [LAST, Buffer.from("LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: \0\r\n\r\n")]) {
      const closed = await new Promise<string>((resolve) => {
        const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => socket.write(request));
        socket.resume();
        // The server's side is gone when more bytes from this side are refused (a reset):
        // keep sending a request that never ends until they are, or forever if it lingers.
        const more = () => socket.write("a", (error) => !error && setImmediate(more));
        socket.on("end", () => socket.write("GET /v1/sys/health HTTP/1.1\r\nX-Slow: ", more));
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? ""));
      });
      expect(closed).toMatch(/^(ECONNRESET|EPIPE)$/);
    }
  });

  it("answers every well-formed request for its own target, however the bytes are split (fuzzed)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(listRequest(trickyHost, legalValue), { minLength: 1, maxLength: 3 }),
        cuts,
        async (requests, at) => {
          const bytes = Buffer.concat([...requests.map(bytesOf), LAST]);
          const answers = parseResponses(await exchange(port, split(bytes, at)));
          expect(answers.map((answer) => answer.status)).toEqual([...requests.map(() => 200), 200]);
          requests.forEach((request, i) => {
            expect(keysOf(answers[i]?.body ?? "")).toEqual(LISTINGS[request.target]);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("survives hostile bytes and never answers for another path (fuzzed)", async () => {
    // Any character but a line feed: a CR, NUL or DEL in a header is refused by the parser.
    const anyValue = fc.string({ unit: "binary", maxLength: 40 }).map((value) => value.replaceAll("\n", ""));
    const hostile = fc.oneof(
      fc
        .array(listRequest(fc.oneof(trickyHost, anyValue), anyValue), { minLength: 1, maxLength: 3 })
        .map((requests) => ({
          requests,
          bytes: Buffer.concat(requests.map(bytesOf)),
        })),
      fc.uint8Array({ maxLength: 300 }).map((garbage) => ({ requests: [], bytes: Buffer.from(garbage) })),
      fc
        .tuple(listRequest(trickyHost, legalValue), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))
        .map(([request, at, noise]) => {
          const bytes = bytesOf(request);
          const cut = at % bytes.length;
          return { requests: [], bytes: Buffer.concat([bytes.subarray(0, cut), noise, bytes.subarray(cut)]) };
        }),
    );
    await fc.assert(
      fc.asyncProperty(hostile, cuts, async ({ requests, bytes }, at) => {
        const answers = parseResponses(
          await exchange(port, split(Buffer.concat([bytes, Buffer.from("\r\n")]), at), { end: true }),
        );
        answers.forEach((answer, i) => {
          const request = requests[i];
          if (answer.status === 200 && request) expect(keysOf(answer.body)).toEqual(LISTINGS[request.target]);
        });
        expect(await health()).toBe(200);
      }),
      { numRuns: 200 },
    );
  });
});
