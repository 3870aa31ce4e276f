/**
 * A `coffer dev` for the enclosing suite, set up as the manifests in deploy/kubernetes/
 * expect the broker to be (docs/kubernetes.md, step 2): the role shop-api for service
 * account shop-api in namespace shop with audience "coffer", its policy, and the secrets
 * the agent's configurations read. `projectedToken` mints what the kubelet would mount.
 */
import { beforeAll } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { api } from "../e2e/cli-harness.ts";
import { type SuiteDevServer, useDevServer } from "./dev-server.ts";

export const SHOP_SECRETS = {
  db: { password: "shop-db-password 7c1e" },
  api: { key: "shop-api-key-42b0" },
} as const;

export interface ShopDevServer extends SuiteDevServer {
  projectedToken(): Promise<string>;
  writeSecret(name: keyof typeof SHOP_SECRETS, data: Record<string, string>): Promise<void>;
}

export function useShopDevServer(): ShopDevServer {
  const server = Object.assign(useDevServer(), {
    projectedToken: () =>
      requestDevToken(
        server.url,
        { namespace: "shop", serviceAccount: "shop-api", audience: "coffer" },
        server.rootToken,
      ),
    async writeSecret(name: keyof typeof SHOP_SECRETS, data: Record<string, string>) {
      await api(server.url, server.rootToken, "POST", `secret/data/shop/${name}`, { data });
    },
  });
  beforeAll(async () => {
    await api(server.url, server.rootToken, "PUT", "sys/policies/acl/shop-api", {
      policy: 'path "secret/data/shop/*" { capabilities = ["read"] }',
    });
    await api(server.url, server.rootToken, "POST", "auth/kubernetes/role/shop-api", {
      bound_service_account_names: "shop-api",
      bound_service_account_namespaces: "shop",
      audience: "coffer",
      token_policies: "shop-api",
      token_ttl: "1h",
    });
    for (const [name, data] of Object.entries(SHOP_SECRETS)) {
      await server.writeSecret(name as keyof typeof SHOP_SECRETS, data);
    }
  });
  return server;
}
