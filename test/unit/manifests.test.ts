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
import { validate as validateNamespace } from "kubernetes-models/_schemas/IoK8sApiCoreV1Namespace";
import { validate as validatePod } from "kubernetes-models/_schemas/IoK8sApiCoreV1Pod";
import { validate as validateServiceAccount } from "kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Pod } from "kubernetes-models/v1/Pod";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseAgentConfig } from "../../cli/agent/config.ts";
import {
  IMAGE_PLACEHOLDER_REPOSITORY,
  IMAGE_USER,
  imageProgram,
  placeholderReference,
} from "../../scripts/image/spec.ts";
import { type SchemaCheck, unknownFields } from "../support/kubernetes-schema.ts";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
};

const KINDS: Record<string, { model: new (data: never) => { validate(): void }; schema: SchemaCheck }> = {
  "v1/Namespace": { model: Namespace, schema: validateNamespace as SchemaCheck },
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

type Probe = { exec?: { command: string[] } };
type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: { memory?: string }; limits?: { memory?: string } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type PodSpec = {
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; projected?: unknown; emptyDir?: { medium?: string }; configMap?: unknown }[];
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    runAsNonRoot?: boolean;
    seccompProfile?: { type: string };
  };
};

function podSpecOf(manifest: Manifest): PodSpec {
  const spec = manifest.spec as { template?: { spec: PodSpec } } & PodSpec;
  return spec.template?.spec ?? spec;
}

const manifests = loadManifests();
const agentConfigs = (manifests.find(({ manifest }) => manifest.kind === "ConfigMap")?.manifest.data ??
  {}) as Record<string, string>;

describe("deploy/kubernetes manifests", () => {
  it("are the expected set: their Namespace, a ServiceAccount, the agent configuration, a Pod, a Deployment and a Job", () => {
    expect(manifests.map(({ manifest }) => manifest.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "Job",
      "Namespace",
      "Pod",
      "ServiceAccount",
    ]);
  });

  it("create the namespace every other manifest lives in", () => {
    const namespaces = manifests.filter(({ manifest }) => manifest.kind === "Namespace");
    const created = namespaces.map(({ manifest }) => manifest.metadata.name);
    for (const { file, manifest } of manifests) {
      if (manifest.kind !== "Namespace") expect(created, file).toContain(manifest.metadata.namespace);
    }
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
        const command = agent.command ?? [];
        const configFile = command[command.indexOf("--config") + 1]?.replace("/etc/coffer/", "") as string;
        expect(Object.keys(agentConfigs)).toContain(configFile);
        if (agent.restartPolicy === "Always") {
          expect(manifest.kind).toBe("Deployment");
          expect(agent.command).not.toContain("--once");
          const statusFile = command[command.indexOf("--status-file") + 1];
          expect(statusFile).toMatch(/^\/secrets\//);
          expect(agent.startupProbe?.exec?.command).toEqual([
            "coffer",
            "agent",
            "probe",
            "--status-file",
            statusFile,
            "--ready",
          ]);
          expect(agent.livenessProbe?.exec?.command).toEqual([
            "coffer",
            "agent",
            "probe",
            "--status-file",
            statusFile,
          ]);
        } else {
          expect(agent.command).toContain("--once");
        }
        if (manifest.kind === "Job") expect(spec.restartPolicy).toBe("Never");
      });
    },
  );
});

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/**
 * Peak RSS measured in docs/benchmarks.md (section 7): `coffer agent --once` from the
 * bundle, the sidecar after two minutes of refreshes and renewals, and an empty node
 * process, which is what an exec probe adds while it runs.
 */
const MEASURED_PEAK_MIB = { once: 48, sidecar: 53, probe: 38 };

/** "96Mi" or "1Gi" in MiB. */
function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? "");
  if (!match) throw new Error(`a memory quantity in Mi or Gi, not ${quantity}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

/** The volume mount a path is on: the longest mountPath that holds it. */
function mountOf(container: Container, path: string) {
  return (container.volumeMounts ?? [])
    .filter((mount) => path === mount.mountPath || path.startsWith(`${mount.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

const probesOf = (container: Container) =>
  [container.startupProbe, container.readinessProbe, container.livenessProbe].filter(
    (probe): probe is Probe => probe !== undefined,
  );

describe.each(manifests.filter(({ manifest }) => ["Pod", "Deployment", "Job"].includes(manifest.kind)))(
  "$file agrees with the image (scripts/image/spec.ts)",
  ({ manifest }) => {
    const spec = podSpecOf(manifest);
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    const coffer = all.filter((container) => container.image.startsWith(`${IMAGE_PLACEHOLDER_REPOSITORY}:`));

    it("names the image by the placeholder, at this version", () => {
      expect(coffer.map((container) => container.image)).toEqual(
        coffer.map(() => placeholderReference(version)),
      );
      expect(coffer.length).toBeGreaterThan(0);
    });

    it("runs every container as the image's user, non-root, on a read-only root, restricted", () => {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: IMAGE_USER.uid,
        runAsGroup: IMAGE_USER.gid,
        seccompProfile: { type: "RuntimeDefault" },
      });
      for (const container of all) {
        expect(container.securityContext, container.name).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
      }
    });

    it("runs, and probes with, programs the image has", () => {
      for (const container of coffer) {
        const argv = [...(container.command ?? []), ...(container.args ?? [])];
        expect(imageProgram(argv[0] ?? ""), argv.join(" ")).toBeDefined();
        for (const probe of probesOf(container)) {
          expect(imageProgram(probe.exec?.command[0] ?? ""), JSON.stringify(probe)).toBeDefined();
        }
      }
    });

    it("gives the agent a writable memory-backed emptyDir where it writes, and nothing else writable", async () => {
      for (const container of coffer) {
        const configPath = container.command?.[container.command.indexOf("--config") + 1] as string;
        const configMount = mountOf(container, configPath);
        expect(configMount?.readOnly, configPath).toBe(true);
        const config = await parseAgentConfig(agentConfigs[configPath.replace(/^.*\//, "")] as string, {
          file: configPath,
          env: { COFFER_ADDR: "https://coffer.example.com" },
        });
        expect(mountOf(container, config.auth.tokenFile as string)?.readOnly).toBe(true);
        const written = [...config.secrets.map((secret) => secret.destination), config.readyFile].filter(
          (path): path is string => path !== undefined,
        );
        const writable = new Set<string>();
        for (const path of written) {
          const mount = mountOf(container, path);
          expect(mount && !mount.readOnly, path).toBe(true);
          const volume = spec.volumes.find((candidate) => candidate.name === mount?.name);
          expect(volume?.emptyDir?.medium, path).toBe("Memory");
          writable.add(mount?.name as string);
        }
        const writableMounts = (container.volumeMounts ?? []).filter((mount) => !mount.readOnly);
        expect(writableMounts.map((mount) => mount.name)).toEqual([...writable]);
      }
    });

    it("sizes the agent's memory from the measured peak, with room for a probe beside it", () => {
      for (const container of coffer) {
        const limit = mebibytes(container.resources?.limits?.memory);
        const request = mebibytes(container.resources?.requests?.memory);
        const sidecar = container.restartPolicy === "Always";
        const agent = sidecar ? MEASURED_PEAK_MIB.sidecar : MEASURED_PEAK_MIB.once;
        const peak = agent + (probesOf(container).length > 0 ? MEASURED_PEAK_MIB.probe : 0);
        expect(request, container.name).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB.once);
        expect(limit, container.name).toBeGreaterThanOrEqual(Math.ceil(peak * 1.2));
        // Not the 128Mi guessed before it was measured: the limit is the figure plus headroom.
        expect(limit, container.name).toBeLessThanOrEqual(Math.ceil(peak * 1.5));
      }
    });
  },
);
