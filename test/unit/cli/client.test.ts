/**
 * The command's HTTP client against a raw loopback server that answers byte by byte:
 * what it sends, and how it ends an exchange that goes wrong (refused, silent, cut short).
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, createClient } from "../../../cli/client.ts";
import { freePort } from "../../support/moto.ts";

let server: Server | undefined;
const sockets = new Set<Socket>();

/** A server that hands every connection to `answer`, with the request bytes received so far. */
async function rawServer(answer: (socket: Socket, received: () => string) => void): Promise<string> {
  server = createServer((socket) => {
    sockets.add(socket);
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
    });
    socket.on("error", () => {});
    answer(socket, () => received);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const ENVELOPE = JSON.stringify({ request_id: "r", lease_id: "", data: { value: "v" } });

/** Resolves with the request's bytes once its head and `bodyBytes` of body have arrived. */
function whenRequestArrived(received: () => string, socket: Socket, bodyBytes = 0): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      const text = received();
      const head = text.indexOf("\r\n\r\n");
      if (head >= 0 && Buffer.byteLength(text.slice(head + 4)) >= bodyBytes) resolve(text);
      else socket.once("data", () => setImmediate(check));
    };
    check();
  });
}

describe("the command's HTTP client", () => {
  it("sends the token and a JSON body with its exact length, and reads the envelope", async () => {
    let request: Promise<string> | undefined;
    const body = { data: { name: "café ☕" } };
    const bodyBytes = Buffer.byteLength(JSON.stringify(body));
    const address = await rawServer((socket, received) => {
      request = whenRequestArrived(received, socket, bodyBytes).then((text) => {
        socket.end(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${ENVELOPE.length}\r\n\r\n${ENVELOPE}`,
        );
        return text;
      });
    });
    const answer = await createClient({ address, token: "cof.test" }).request("POST", "secret/data/a b", {
      body,
    });
    expect(answer?.data).toEqual({ value: "v" });
    const text = (await request) as string;
    expect(text.split("\r\n")[0]).toBe("POST /v1/secret/data/a%20b HTTP/1.1");
    expect(text).toMatch(/\r\nx-vault-token: cof\.test\r\n/i);
    expect(text).toMatch(new RegExp(`\\r\\ncontent-length: ${bodyBytes}\\r\\n`, "i"));
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text.endsWith(JSON.stringify(body))).toBe(true);
  });

  it("refuses an answer cut short: an error, never an empty success", async () => {
    const address = await rawServer((socket, received) => {
      void whenRequestArrived(received, socket).then(() => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data"',
        );
        setImmediate(() => socket.destroy());
      });
    });
    const outcome = createClient({ address, token: "t" }).request("POST", "secret/data/x", {
      body: { data: { a: "b" } },
    });
    await expect(outcome).rejects.toThrow(ConnectionError);
    await expect(outcome).rejects.toThrow(`the answer from ${address} was cut short`);
  });

  it("ends an exchange the server never answers, with the reason", async () => {
    const address = await rawServer(() => {});
    await expect(createClient({ address, timeoutMs: 200 }).request("GET", "sys/health")).rejects.toThrow(
      `cannot reach Coffer at ${address}: the server did not answer in time`,
    );
  });

  it("ends an answer whose body never comes, with the reason", async () => {
    const address = await rawServer((socket, received) => {
      void whenRequestArrived(received, socket).then(() =>
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"),
      );
    });
    await expect(createClient({ address, timeoutMs: 200 }).request("GET", "sys/health")).rejects.toThrow(
      `the answer from ${address} was cut short: the server did not answer in time`,
    );
  });

  it("names a refused connection", async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    await expect(createClient({ address }).request("GET", "sys/health")).rejects.toThrow(
      `cannot reach Coffer at ${address}: connection refused`,
    );
  });
});
