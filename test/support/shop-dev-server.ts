/**
 * A `coffer dev` set up as the manifests in deploy/kubernetes/ expect the broker to be
 * (docs/kubernetes.md, step 2): the role shop-api for service account shop-api in
 * namespace shop with audience "coffer", its policy, and the secrets the agent's
 * configurations read. `projectedToken` mints what the kubelet would mount.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer } from "../../cli/dev.ts";
import { requestDevToken } from "../../cli/dev-token.ts";
import { api } from "../e2e/cli-harness.ts";
import { freePort } from "./moto.ts";

export const SHOP_SECRETS = {
  db: { password: "shop-db-password 7c1e" },
  api: { key: "shop-api-key-42b0" },
} as const;

export interface ShopDevServer {
  url: string;
  rootToken: string;
  projectedToken(): Promise<string>;
  writeSecret(name: keyof typeof SHOP_SECRETS, data: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startShopDevServer(): Promise<ShopDevServer> {
  const rootToken = "shop-dev-root";
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-shop-dev-"));
  const server = await startDevServer({
    port: await freePort(),
    host: "127.0.0.1",
    dataDir,
    inMemory: true,
    rootToken,
  });
  const call = (method: string, path: string, body?: unknown) =>
    api(server.url, rootToken, method, path, body);
  const writeSecret = async (name: keyof typeof SHOP_SECRETS, data: Record<string, string>) => {
    await call("POST", `secret/data/shop/${name}`, { data });
  };
  await call("PUT", "sys/policies/acl/shop-api", {
    policy: 'path "secret/data/shop/*" { capabilities = ["read"] }',
  });
  await call("POST", "auth/kubernetes/role/shop-api", {
    bound_service_account_names: "shop-api",
    bound_service_account_namespaces: "shop",
    audience: "coffer",
    token_policies: "shop-api",
    token_ttl: "1h",
  });
  for (const [name, data] of Object.entries(SHOP_SECRETS))
    await writeSecret(name as keyof typeof SHOP_SECRETS, data);
  return {
    url: server.url,
    rootToken,
    projectedToken: () =>
      requestDevToken(
        server.url,
        { namespace: "shop", serviceAccount: "shop-api", audience: "coffer" },
        rootToken,
      ),
    writeSecret,
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
