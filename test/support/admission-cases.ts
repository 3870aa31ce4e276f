/**
 * Realistic pods as the API server sends them to a mutating webhook: created by their
 * controllers (a Deployment's ReplicaSet, a Job), with the fields those controllers and
 * admission defaults leave on them, and compliant with the restricted Pod Security
 * Standard before injection, so that any violation afterwards is the injector's.
 */
import type { InjectorOptions } from "../../shared/injector/injector-options.ts";
import { DEFAULT_OPTIONS } from "../../shared/injector/injector-options.ts";

export const OPTIONS: InjectorOptions = { ...DEFAULT_OPTIONS, address: "https://coffer.example.com" };

const restrictedContainer = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
  name,
  image,
  imagePullPolicy: "IfNotPresent",
  resources: { requests: { cpu: "100m", memory: "128Mi" } },
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
  },
  terminationMessagePath: "/dev/termination-log",
  terminationMessagePolicy: "File",
  ...extra,
});

const podSecurity = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  seccompProfile: { type: "RuntimeDefault" },
};

function deploymentPod(annotations: Record<string, string>, namespace = "shop") {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "shop-api-7d9c6b5f4-",
      namespace,
      labels: { app: "shop-api", "pod-template-hash": "7d9c6b5f4" },
      annotations,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "shop-api-7d9c6b5f4",
          uid: "5b0b5a36-2f5e-4a6b-9a3c-1f2e3d4c5b6a",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: "shop-api",
      automountServiceAccountToken: false,
      securityContext: podSecurity,
      containers: [
        restrictedContainer("app", "registry.example.com/shop-api:1.0.0", {
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          env: [{ name: "CONFIG", value: "/vault/secrets/app.conf" }],
        }),
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
      priority: 0,
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
    },
    status: {},
  };
}

function jobPod(annotations: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "shop-migrate-",
      namespace: "shop",
      labels: {
        "batch.kubernetes.io/controller-uid": "0c7a1e3b-5d2f-4f1a-8b6c-2e9d8f7a6b5c",
        "batch.kubernetes.io/job-name": "shop-migrate",
        "job-name": "shop-migrate",
      },
      annotations: { "batch.kubernetes.io/job-tracking": "", ...annotations },
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "Job",
          name: "shop-migrate",
          uid: "0c7a1e3b-5d2f-4f1a-8b6c-2e9d8f7a6b5c",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      finalizers: ["batch.kubernetes.io/job-tracking"],
    },
    spec: {
      serviceAccountName: "shop-migrate",
      automountServiceAccountToken: false,
      securityContext: podSecurity,
      restartPolicy: "Never",
      containers: [
        restrictedContainer("migrate", "registry.example.com/shop-migrate:1.0.0", {
          command: ["/app/migrate", "--config", "/vault/secrets/db"],
        }),
      ],
    },
  };
}

/** A pod with init containers, volumes, a security context per container, and three containers. */
function busyPod(annotations: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "shop-web-0", namespace: "shop", labels: { app: "shop-web" }, annotations },
    spec: {
      serviceAccountName: "shop-web",
      securityContext: { runAsNonRoot: true, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } },
      initContainers: [
        restrictedContainer("wait-for-db", "busybox:1.36", {
          command: ["sh", "-c", "until nc -z db 5432; do sleep 1; done"],
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsUser: 65534,
          },
        }),
        restrictedContainer("copy-assets", "registry.example.com/shop-assets:2.1.0", {
          volumeMounts: [{ name: "assets", mountPath: "/assets" }],
        }),
      ],
      containers: [
        restrictedContainer("web", "registry.example.com/shop-web:2.1.0", {
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
            runAsUser: 20001,
            runAsGroup: 20001,
          },
          volumeMounts: [
            { name: "assets", mountPath: "/srv/assets", readOnly: true },
            { name: "cache", mountPath: "/var/cache/web" },
          ],
        }),
        restrictedContainer("worker", "registry.example.com/shop-worker:2.1.0", {
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsUser: 20002,
          },
          volumeMounts: [{ name: "cache", mountPath: "/var/cache/web" }],
        }),
        restrictedContainer("metrics", "registry.example.com/exporter:0.9.0", {
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsUser: 65534,
          },
        }),
      ],
      volumes: [
        { name: "assets", emptyDir: {} },
        { name: "cache", emptyDir: { sizeLimit: "256Mi" } },
        { name: "settings", configMap: { name: "shop-web-settings" } },
      ],
    },
  };
}

const VAULT = "vault.hashicorp.com";
const COFFER = "coffer.dev";

const typicalVault = {
  [`${VAULT}/agent-inject`]: "true",
  [`${VAULT}/role`]: "shop-api",
  [`${VAULT}/agent-inject-secret-app.conf`]: "secret/data/shop/db",
  [`${VAULT}/agent-inject-template-app.conf`]: `{{- with secret "secret/data/shop/db" -}}
database_url = "postgres://{{ .Data.data.username }}:{{ .Data.data.password | urlquery }}@db.shop:5432/shop"
{{- end }}
`,
  [`${VAULT}/agent-inject-secret-aws`]: "aws/creds/deploy",
};

export interface AdmissionCase {
  name: string;
  description: string;
  pod: unknown;
  namespace?: string;
  options?: InjectorOptions;
  /** What the answer must be, beyond the golden file. */
  expect: "injected" | "unchanged" | "refused";
}

export const CASES: AdmissionCase[] = [
  {
    name: "deployment-pod",
    description: "a Deployment's pod with Vault's annotations: a templated secret and a default-template one",
    pod: deploymentPod(typicalVault),
    expect: "injected",
  },
  {
    name: "job-pod",
    description: "a Job's pod: pre-populated, with the native sidecar that lets the Job complete",
    pod: jobPod({
      [`${VAULT}/agent-inject`]: "true",
      [`${VAULT}/role`]: "shop-migrate",
      [`${VAULT}/agent-inject-secret-db`]: "secret/data/shop/db",
      [`${VAULT}/agent-inject-template-db`]:
        '{{ with secret "secret/data/shop/db" }}{{ .Data.data.password }}{{ end }}',
      [`${VAULT}/agent-requests-cpu`]: "25m",
      [`${VAULT}/agent-limits-mem`]: "96Mi",
      [`${VAULT}/agent-limits-cpu`]: "",
    }),
    expect: "injected",
  },
  {
    name: "job-pod-pre-populate-only",
    description: "a Job's pod that wants the init container only, with Vault's JSON default template",
    pod: jobPod({
      [`${VAULT}/agent-inject`]: "true",
      [`${VAULT}/role`]: "shop-migrate",
      [`${VAULT}/agent-inject-secret-db`]: "secret/data/shop/db",
      [`${VAULT}/agent-inject-default-template`]: "json",
      [`${VAULT}/agent-pre-populate-only`]: "true",
    }),
    expect: "injected",
  },
  {
    name: "busy-pod",
    description:
      "init containers, volumes, a security context per container and three containers, with Coffer's prefix: chosen containers, init first, own files, paths, modes and delimiters, the token file, strict keys",
    pod: busyPod({
      [`${COFFER}/agent-inject`]: "true",
      [`${COFFER}/role`]: "shop-web",
      [`${COFFER}/auth-path`]: "auth/cluster-eu",
      [`${COFFER}/service`]: "https://coffer.eu.example.com",
      [`${COFFER}/agent-inject-containers`]: "web,worker",
      [`${COFFER}/agent-init-first`]: "true",
      [`${COFFER}/agent-inject-secret-Database`]: "secret/data/shop/db",
      [`${COFFER}/agent-inject-template-Database`]:
        '{{ with secret "secret/data/shop/db" }}{{ .Data.data.username }}:{{ .Data.data.password }}{{ end }}\n',
      [`${COFFER}/agent-inject-file-Database`]: "db/credentials",
      [`${COFFER}/agent-inject-perms-Database`]: "0440",
      [`${COFFER}/error-on-missing-key-Database`]: "true",
      [`${COFFER}/agent-inject-secret-tls`]: "secret/data/shop/tls",
      [`${COFFER}/agent-inject-template-tls`]:
        '[[ with secret "secret/data/shop/tls" ]][[ .Data.data.key ]][[ end ]]',
      [`${COFFER}/agent-template-left-delim-tls`]: "[[",
      [`${COFFER}/agent-template-right-delim-tls`]: "]]",
      [`${COFFER}/secret-volume-path-tls`]: "/etc/tls",
      [`${COFFER}/agent-inject-token`]: "true",
      [`${COFFER}/template-static-secret-render-interval`]: "2m",
      [`${COFFER}/auth-min-backoff`]: "500ms",
      [`${COFFER}/auth-max-backoff`]: "30s",
      [`${VAULT}/role`]: "ignored-because-coffer-prefix-wins",
    }),
    expect: "injected",
  },
  {
    name: "template-command",
    description:
      "a Deployment's pod whose template runs a command, with an agent image that has a shell and the process namespace shared",
    pod: deploymentPod({
      ...typicalVault,
      [`${VAULT}/agent-inject-command-app.conf`]: "kill -HUP $(pidof shop-api)",
      [`${VAULT}/agent-image`]: "registry.example.com/coffer-shell:0.1.0",
      [`${VAULT}/agent-share-process-namespace`]: "true",
    }),
    expect: "injected",
  },
  {
    name: "regular-sidecar",
    description: "a Deployment's pod on a cluster older than 1.29: the injector runs with sidecar=container",
    pod: deploymentPod(typicalVault),
    options: { ...OPTIONS, sidecar: "container" },
    expect: "injected",
  },
  {
    name: "already-injected",
    description: "a pod whose status says injected: the webhook changes nothing",
    pod: deploymentPod({ ...typicalVault, [`${VAULT}/agent-inject-status`]: "injected" }),
    expect: "unchanged",
  },
  {
    name: "not-annotated",
    description: "a pod that does not ask for injection",
    pod: deploymentPod({}),
    expect: "unchanged",
  },
  {
    name: "excluded-namespace",
    description: "a pod in kube-system that asks for injection: refused, as Vault's injector does",
    pod: deploymentPod(typicalVault, "kube-system"),
    namespace: "kube-system",
    expect: "refused",
  },
  {
    name: "unsupported-annotation",
    description: "a pod that asks for the caching proxy: refused with the reason, never half-injected",
    pod: deploymentPod({ ...typicalVault, [`${VAULT}/agent-cache-enable`]: "true" }),
    expect: "refused",
  },
];
