/**
 * A cluster's issuer as Coffer meets it over the wire: a real node:http server on a free
 * loopback port serving OIDC discovery and a JWKS, counting requests. Stopping it is
 * "the issuer is down"; swapping its keys is a key rotation; `misbehave` makes it a
 * hostile one.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface IssuerServer {
  /** The issuer URL (also the discovery base URL). */
  url: string;
  jwksUrl: string;
  /** Requests served, by path. */
  requests: Map<string, number>;
  total(): number;
  setJwks(jwks: { keys: unknown[] }): void;
  /** Answer every request with this status instead (an issuer in trouble). */
  failWith(status: number | undefined): void;
  /**
   * Answer `path` as a hostile issuer would: `flood` streams a chunked body without end,
   * `drip` sends its headers and then one byte every 10 ms, `silent` never answers.
   */
  misbehave(path: string, behaviour: Misbehaviour | undefined): void;
  /** Resolves once the client hung up on the last misbehaving answer: the bytes sent to it. */
  hungUp(): Promise<number>;
  stop(): Promise<void>;
}

export type Misbehaviour = "flood" | "drip" | "silent";

/** More than a flood ever sends, so a client that reads everything ends. */
const FLOOD_BYTES = 256 * 1024 * 1024;
const FLOOD_CHUNK = new Uint8Array(64 * 1024).fill(0x20);

function misbehave(response: ServerResponse, behaviour: Misbehaviour): Promise<number> {
  const socket = response.socket;
  const hungUp = new Promise<number>((resolve) =>
    response.on("close", () => resolve(socket?.bytesWritten ?? 0)),
  );
  if (behaviour === "silent") return hungUp;
  // Chunked, with no content-length to refuse it by.
  response.writeHead(200, { "content-type": "application/json" });
  response.write('{"keys":[');
  if (behaviour === "drip") {
    const timer = setInterval(() => response.write(" "), 10);
    response.on("close", () => clearInterval(timer));
    return hungUp;
  }
  let sent = 0;
  const pump = () => {
    while (!response.destroyed && sent < FLOOD_BYTES) {
      sent += FLOOD_CHUNK.byteLength;
      if (!response.write(FLOOD_CHUNK)) return void response.once("drain", pump);
    }
    if (!response.destroyed) response.end("]}");
  };
  pump();
  return hungUp;
}

export async function startIssuerServer(jwks: { keys: unknown[] }, issuer?: string): Promise<IssuerServer> {
  let keys = jwks;
  let failure: number | undefined;
  const misbehaviours = new Map<string, Misbehaviour>();
  let hungUp: Promise<number> = Promise.resolve(0);
  const requests = new Map<string, number>();
  let url = "";
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (failure !== undefined) return send(failure, { error: "unavailable" });
    const behaviour = misbehaviours.get(path);
    if (behaviour) {
      hungUp = misbehave(response, behaviour);
      return;
    }
    if (path === "/.well-known/openid-configuration") {
      return send(200, {
        issuer: issuer ?? url,
        jwks_uri: `${url}/openid/v1/jwks`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
      });
    }
    if (path === "/openid/v1/jwks") return send(200, keys);
    send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}/openid/v1/jwks`,
    requests,
    total: () => [...requests.values()].reduce((sum, count) => sum + count, 0),
    setJwks(next) {
      keys = next;
    },
    failWith(status) {
      failure = status;
    },
    misbehave(path, behaviour) {
      if (behaviour) misbehaviours.set(path, behaviour);
      else misbehaviours.delete(path);
    },
    hungUp: () => hungUp,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
