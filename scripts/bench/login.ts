/**
 * Section 3: Kubernetes login (verify the service account token against the mount's keys,
 * read the role, issue a broker token), with the keys already cached.
 */
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { initialize } from "../../shared/sys/init.ts";
import { type Sample, sample } from "./measure.ts";

const ISSUER = "https://oidc.bench.example";

export async function benchLogin(broker: Broker, logins: number): Promise<Sample & { alg: string }> {
  const { rootToken } = await initialize(broker);
  const app = createApp(broker);
  const call = async (method: string, path: string, body: unknown, token?: string) => {
    const response = await app.request(`/v1/${path}`, {
      method,
      headers: token ? { "X-Vault-Token": token } : {},
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  const alg = "RS256";
  const pair = await generateKeyPair(alg, { extractable: true });
  await call("POST", "sys/auth/kubernetes", { type: "kubernetes" }, rootToken);
  await call(
    "POST",
    "auth/kubernetes/config",
    { issuer: ISSUER, pem_keys: [await exportSPKI(pair.publicKey)] },
    rootToken,
  );
  await call(
    "POST",
    "auth/kubernetes/role/app",
    {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
      token_policies: "default",
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
    .setProtectedHeader({ alg, kid: "bench" })
    .setIssuer(ISSUER)
    .setAudience("coffer")
    .setSubject("system:serviceaccount:default:app")
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(pair.privateKey);
  const result = await sample(logins, () => call("POST", "auth/kubernetes/login", { role: "app", jwt }));
  return { ...result, alg };
}
