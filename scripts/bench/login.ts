/**
 * Section 3: Kubernetes login through the app (verify the service account token against
 * the mount's keys, already cached; read the role; write the broker token; audit),
 * interleaved in rounds with its baseline: verifying the same token's signature and
 * claims with jose alone, the one piece of a login no broker can skip.
 */
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { interleavedRounds, median, type Ratio, ratioOf, round } from "./measure.ts";

const ISSUER = "https://oidc.bench.example";
const ALG = "RS256";

export interface KubernetesLogin {
  /** One login through the app; returns the broker token. */
  login(): Promise<string>;
  /** The baseline: the token's signature and claims verified with jose. */
  verifyOnly(): Promise<unknown>;
}

/**
 * Enables auth/kubernetes on `broker` with a role `app` granting `policies`, and signs one
 * projected service account token for it.
 */
export async function setUpKubernetesLogin(
  broker: Broker,
  rootToken: string,
  policies: string[] = ["default"],
): Promise<KubernetesLogin> {
  const app = createApp(broker);
  const call = async (path: string, body: unknown, token?: string) => {
    const response = await app.request(`/v1/${path}`, {
      method: "POST",
      headers: token ? { "X-Vault-Token": token } : {},
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.status === 204
      ? undefined
      : ((await response.json()) as { auth: { client_token: string } });
  };
  const pair = await generateKeyPair(ALG, { extractable: true });
  await call("sys/auth/kubernetes", { type: "kubernetes" }, rootToken);
  await call(
    "auth/kubernetes/config",
    { issuer: ISSUER, pem_keys: [await exportSPKI(pair.publicKey)] },
    rootToken,
  );
  await call(
    "auth/kubernetes/role/app",
    {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
      token_policies: policies.join(","),
    },
    rootToken,
  );
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({
    "kubernetes.io": {
      namespace: "default",
      serviceaccount: { name: "app", uid: crypto.randomUUID() },
      pod: { name: "app-1", uid: crypto.randomUUID() },
    },
  })
    .setProtectedHeader({ alg: ALG, kid: "bench" })
    .setIssuer(ISSUER)
    .setAudience("coffer")
    .setSubject("system:serviceaccount:default:app")
    .setIssuedAt(now)
    .setExpirationTime(now + 86_400)
    .sign(pair.privateKey);
  return {
    login: async () =>
      (await call("auth/kubernetes/login", { role: "app", jwt }))?.auth.client_token as string,
    verifyOnly: () =>
      jwtVerify(jwt, pair.publicKey, { issuer: ISSUER, audience: "coffer", algorithms: [ALG] }),
  };
}

export interface LoginResult {
  alg: string;
  rounds: number;
  iterations: number;
  loginP50Ms: number;
  loginP99Ms: number;
  verifyP50Ms: number;
  loginOverVerify: Ratio;
}

export async function benchLogin(
  broker: Broker,
  rootToken: string,
  options: { rounds: number; iterations: number },
): Promise<LoginResult> {
  const { login, verifyOnly } = await setUpKubernetesLogin(broker, rootToken);
  const result = await interleavedRounds(
    [
      { name: "login", run: login },
      { name: "jose verify", run: verifyOnly },
    ],
    { ...options, warmup: 50 },
  );
  const logins = result.p50Ms.login ?? [];
  const verifies = result.p50Ms["jose verify"] ?? [];
  return {
    alg: ALG,
    rounds: result.rounds,
    iterations: result.iterations,
    loginP50Ms: round(median(logins), 3),
    loginP99Ms: round(median(result.p99Ms.login ?? []), 3),
    verifyP50Ms: round(median(verifies), 3),
    loginOverVerify: ratioOf(logins, verifies),
  };
}
