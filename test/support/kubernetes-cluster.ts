/**
 * A Kubernetes cluster a broker trusts, for tests that need tokens an auth method proved:
 * an auth mount configured with the cluster's static key (no issuer to serve), a role any
 * service account may log in through, and projected tokens minted for any namespace and
 * service account.
 */
import { type ClusterKey, clusterKey, mintProjected } from "./cluster-keys.ts";
import type { ApiCall, Reply } from "./http.ts";

export const CLUSTER_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const CLUSTER_AUDIENCE = "coffer";

export interface KubernetesCluster {
  /** The auth mount's accessor, as templated policies name it. */
  accessor: string;
  key: ClusterKey;
  /** A login through `role` as the service account `name` of `namespace`. */
  login(namespace: string, name: string, role?: string): Promise<Reply>;
  /** The client token of such a login; throws when the login is refused. */
  token(namespace: string, name: string, role?: string): Promise<string>;
}

export interface ClusterOptions {
  /** Where the auth mount goes, below auth/ (default "kubernetes"). */
  mount?: string;
  /** Policies of the role "workload", which binds every service account. */
  policies: string[];
  /** The broker's clock, for the tokens' iat (epoch ms). */
  now: () => number;
}

export async function trustCluster(call: ApiCall, options: ClusterOptions): Promise<KubernetesCluster> {
  const mount = options.mount ?? "kubernetes";
  const key = await clusterKey("ES256");
  const ok = (reply: Reply, what: string) => {
    if (reply.status >= 300) throw new Error(`${what} failed: ${JSON.stringify(reply.body)}`);
    return reply;
  };
  ok(await call("POST", `sys/auth/${mount}`, { type: "kubernetes" }), "enabling the auth mount");
  ok(
    await call("POST", `auth/${mount}/config`, { issuer: CLUSTER_ISSUER, pem_keys: [key.pem] }),
    "configuring the auth mount",
  );
  ok(
    await call("POST", `auth/${mount}/role/workload`, {
      bound_service_account_names: "*",
      bound_service_account_namespaces: "*",
      audience: CLUSTER_AUDIENCE,
      token_policies: options.policies,
      token_ttl: "1h",
    }),
    "writing the role",
  );
  const accessor = String(
    ok(await call("GET", "sys/auth"), "listing auth mounts").body.data[`${mount}/`].accessor,
  );

  const login = async (namespace: string, name: string, role = "workload") => {
    const jwt = await mintProjected(key, {
      issuer: CLUSTER_ISSUER,
      audience: [CLUSTER_AUDIENCE],
      iat: Math.floor(options.now() / 1000),
      namespace,
      serviceAccount: name,
      // One uid per service account, as a cluster gives them.
      uid: await uidOf(namespace, name),
    });
    return call("POST", `auth/${mount}/login`, { role, jwt });
  };
  return {
    accessor,
    key,
    login,
    async token(namespace, name, role) {
      return String(ok(await login(namespace, name, role), "login").body.auth.client_token);
    },
  };
}

async function uidOf(namespace: string, name: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${namespace}/${name}`)),
  );
  const hex = Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
