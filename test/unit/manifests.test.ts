/**
 * The example manifests in deploy/kubernetes/ against Kubernetes' own schemas (the
 * kubernetes-models package: the API server's OpenAPI definitions compiled to validators,
 * offline). Kubernetes' schemas allow unknown fields, which the API server then refuses
 * or drops; here an unknown field, a typo included, fails too. The agent configurations
 * they carry must load, and the properties the walkthrough relies on must hold.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validate as validateDeployment } from "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment";
import { validate as validateJob } from "kubernetes-models/_schemas/IoK8sApiBatchV1Job";
import { validate as validateConfigMap } from "kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap";
import { validate as validatePod } from "kubernetes-models/_schemas/IoK8sApiCoreV1Pod";
import { validate as validateServiceAccount } from "kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseAgentConfig } from "../../cli/agent/config.ts";
import { type SchemaCheck, unknownFields } from "../support/kubernetes-schema.ts";

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };

const KINDS: Record<string, { model: new (data: never) => { validate(): void }; schema: SchemaCheck }> = {
  "v1/ServiceAccount": { model: ServiceAccount, schema: validateServiceAccount as SchemaCheck },
  "v1/ConfigMap": { model: ConfigMap, schema: validateConfigMap as SchemaCheck },
  "v1/Pod": { model: Pod, schema: validatePod as SchemaCheck },
  "apps/v1/Deployment": { model: Deployment, schema: validateDeployment as SchemaCheck },
  "batch/v1/Job": { model: Job, schema: validateJob as SchemaCheck },
};

const DIRECTORY = new URL("../../deploy/kubernetes/", import.meta.url).pathname;

function loadManifests(): { file: string; manifest: Manifest }[] {
  return readdirSync(DIRECTORY)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIRECTORY, file), "utf8")).map((document) => {
        expect(document.errors, file).toEqual([]);
        return { file, manifest: document.toJS() as Manifest };
      }),
    );
}

type Container = {
  name: string;
  command?: string[];
  restartPolicy?: string;
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: { exec?: { command: string[] } };
};
type PodSpec = {
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; projected?: unknown; emptyDir?: { medium?: string } }[];
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
};

function podSpecOf(manifest: Manifest): PodSpec {
  const spec = manifest.spec as { template?: { spec: PodSpec } } & PodSpec;
  return spec.template?.spec ?? spec;
}

const manifests = loadManifests();
const agentConfigs = (manifests.find(({ manifest }) => manifest.kind === "ConfigMap")?.manifest.data ??
  {}) as Record<string, string>;

describe("deploy/kubernetes manifests", () => {
  it("are the expected set: a ServiceAccount, the agent configuration, a Pod, a Deployment and a Job", () => {
    expect(manifests.map(({ manifest }) => manifest.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "Job",
      "Pod",
      "ServiceAccount",
    ]);
  });

  it.each(
    manifests.map(({ file, manifest }) => [`${file}: ${manifest.kind} ${manifest.metadata.name}`, manifest]),
  )("%s is valid against the Kubernetes schema, with no unknown field", (_name, manifest) => {
    const kind = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
    expect(kind, `${manifest.apiVersion}/${manifest.kind}`).toBeDefined();
    expect(() => new (kind as NonNullable<typeof kind>).model(manifest as never).validate()).not.toThrow();
    expect(unknownFields((kind as NonNullable<typeof kind>).schema, manifest)).toEqual([]);
  });

  it("the strict check catches a misspelled field that the schema alone lets through", () => {
    const pod = structuredClone(
      manifests.find(({ manifest }) => manifest.kind === "Pod")?.manifest,
    ) as Manifest;
    const container = (pod.spec as PodSpec).containers[0] as Container & {
      securityContext: Record<string, unknown>;
    };
    container.securityContext.readOnlyRootFilesytem = true;
    expect(() => new Pod(pod as never).validate()).not.toThrow();
    expect(unknownFields(validatePod as SchemaCheck, pod)).toEqual([
      "/spec/containers/0/securityContext/readOnlyRootFilesytem",
    ]);
  });

  it.each(Object.keys(agentConfigs))("the agent configuration %s loads", async (name) => {
    const config = await parseAgentConfig(agentConfigs[name] as string, {
      file: name,
      env: { COFFER_ADDR: "https://coffer.example.com" },
    });
    expect(config.auth).toMatchObject({ method: "kubernetes", tokenFile: "/var/run/secrets/coffer/token" });
    for (const secret of config.secrets) expect(secret.destination).toMatch(/^\/secrets\//);
  });

  describe.each(manifests.filter(({ manifest }) => ["Pod", "Deployment", "Job"].includes(manifest.kind)))(
    "$file",
    ({ manifest }) => {
      const spec = podSpecOf(manifest);
      const agent = spec.initContainers?.find((container) => container.name === "coffer-agent") as Container;

      it("mounts a projected token for Coffer's audience, short-lived, and not the default token", () => {
        expect(spec.automountServiceAccountToken).toBe(false);
        const token = spec.volumes.find((volume) => volume.name === "coffer-token");
        expect(token?.projected).toEqual({
          sources: [{ serviceAccountToken: { path: "token", audience: "coffer", expirationSeconds: 600 } }],
        });
        const mount = agent.volumeMounts?.find((volumeMount) => volumeMount.name === "coffer-token");
        expect(`${mount?.mountPath}/token`).toBe("/var/run/secrets/coffer/token");
      });

      it("keeps the secrets in memory and runs the application as the agent's user", () => {
        expect(spec.volumes.find((volume) => volume.name === "secrets")?.emptyDir?.medium).toBe("Memory");
        expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
      });

      it("runs the agent once as an init container, or as a native sidecar with a readiness probe", () => {
        const configFile = agent.command?.at(-1)?.replace("/etc/coffer/", "") as string;
        expect(Object.keys(agentConfigs)).toContain(configFile);
        if (agent.restartPolicy === "Always") {
          expect(manifest.kind).toBe("Deployment");
          expect(agent.command).not.toContain("--once");
          expect(agentConfigs[configFile]).toContain("ready_file: /secrets/.ready");
          expect(agent.startupProbe?.exec?.command).toEqual(["test", "-f", "/secrets/.ready"]);
        } else {
          expect(agent.command).toContain("--once");
        }
        if (manifest.kind === "Job") expect(spec.restartPolicy).toBe("Never");
      });
    },
  );
});
