/**
 * A cluster's issuer as Coffer meets it over the wire: a real node:http server on a free
 * loopback port serving OIDC discovery and a JWKS, counting requests. Stopping it is
 * "the issuer is down"; swapping its keys is a key rotation.
 */
import { createServer, type Server } from "node:http";
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
  stop(): Promise<void>;
}

export async function startIssuerServer(jwks: { keys: unknown[] }, issuer?: string): Promise<IssuerServer> {
  let keys = jwks;
  let failure: number | undefined;
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
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
