/**
 * What the agent makes of an injected pod: each configuration the pod carries, written
 * to a file of the name its downwardAPI volume gives it and read by the agent's own loader
 * (which picks Vault Agent's language from the `.json` name), then every template rendered
 * by the agent's own template engine against fixed secrets, as the agent renders them:
 * each round asks for the secrets the templates named, until none is missing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LoadedConfig, loadAgentConfig, type SecretEntry } from "../../../cli/agent/config.ts";
import { renderEntries } from "../../../cli/agent/render-pass.ts";
import { type FetchedSecret, type SecretRequest, secretValues } from "../../../cli/agent/secret-source.ts";
import type { VaultResponse } from "../../../cli/client.ts";
import { CONFIG_VOLUME } from "../../../shared/injector/inject.ts";
import type { Pod } from "../../../shared/injector/kubernetes.ts";

const kvVersion2 = (data: Record<string, unknown>): VaultResponse => ({
  request_id: "c0ffee00-0000-4000-8000-000000000001",
  lease_id: "",
  lease_duration: 0,
  renewable: false,
  data: {
    data,
    metadata: {
      created_time: "2024-05-01T10:00:00.000000Z",
      custom_metadata: null,
      deletion_time: "",
      destroyed: false,
      version: 3,
    },
  },
  warnings: null,
  auth: null,
});

/** The secrets the cases read, as the broker answers them. */
const SECRETS: Record<string, VaultResponse> = {
  "secret/data/shop/db": kvVersion2({ username: "shop", password: "s3cret p@ss&" }),
  "secret/data/shop/tls": kvVersion2({
    key: "-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----\n",
  }),
  "secret/data/shop/extra": kvVersion2({ flag: true }),
  "aws/creds/deploy": {
    request_id: "c0ffee00-0000-4000-8000-000000000002",
    lease_id: "aws/creds/deploy/Xy7Qk2",
    lease_duration: 3600,
    renewable: true,
    data: { access_key: "ASIAEXAMPLE", secret_key: "wJalrXUtnFEMI", security_token: "FwoGZXIvYXdzEXAMPLE" },
    warnings: null,
    auth: null,
  },
};

function fetched(request: SecretRequest): FetchedSecret {
  const response = SECRETS[request.path];
  if (!response) throw new Error(`the test has no secret at ${request.path}`);
  return {
    request,
    response,
    values: secretValues(response),
    refreshAt: Number.POSITIVE_INFINITY,
    renewable: response.renewable ?? false,
    leaseMs: (response.lease_duration ?? 0) * 1000,
    issuedLeaseMs: (response.lease_duration ?? 0) * 1000,
  };
}

/** Every entry's content, as the agent would write it. */
export function renderAgentFiles(entries: readonly SecretEntry[]): Map<SecretEntry, string> {
  const held = new Map<string, FetchedSecret>();
  for (let round = 0; round < 8; round++) {
    const outcome = renderEntries(entries, held, {});
    if (outcome.pending.size === 0) {
      if (outcome.error) throw outcome.error;
      return outcome.contents;
    }
    for (const [key, request] of outcome.pending) held.set(key, fetched(request));
  }
  throw new Error("the templates kept asking for new secrets");
}

export interface AgentView {
  /** Each configuration by its file name, as the agent loaded it. */
  configs: Map<string, LoadedConfig>;
  /** The file name each agent container is started with. */
  containerConfigs: Map<string, string>;
  /** The rendered files by destination, from the first configuration (the files are the same in each). */
  files: Record<string, string>;
}

export async function agentView(pod: Pod): Promise<AgentView> {
  const volume = (pod.spec.volumes ?? []).find((candidate) => candidate.name === CONFIG_VOLUME) as
    | { downwardAPI: { items: { path: string; fieldRef: { fieldPath: string } }[] } }
    | undefined;
  const dir = await mkdtemp(join(tmpdir(), "coffer-injected-config-"));
  const configs = new Map<string, LoadedConfig>();
  try {
    for (const item of volume?.downwardAPI.items ?? []) {
      const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef.fieldPath)?.[1] as string;
      const file = join(dir, item.path);
      await writeFile(file, pod.metadata?.annotations?.[annotation] ?? "");
      configs.set(item.path, await loadAgentConfig(file, {}));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const containerConfigs = new Map<string, string>();
  for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const [program, , flag, file] = container.command ?? [];
    if (program === "coffer" && flag === "--config")
      containerConfigs.set(container.name, (file as string).split("/").at(-1) as string);
  }
  const [first] = configs.values();
  const files: Record<string, string> = {};
  for (const [entry, content] of renderAgentFiles(first?.config.secrets ?? []))
    files[entry.destination as string] = content;
  return { configs, containerConfigs, files };
}
