/**
 * One injected pod, run: a Deployment's pod annotated for Vault's injector goes through
 * the injector, its patch is applied, and its containers run as processes (the small
 * kubelet in test/support/pod-runner.ts: each container's volumes at their real paths,
 * as its own user, with its own command and environment) against `coffer dev`, with a
 * token from the dev issuer at the projected token's path.
 *
 * The init container writes every file and exits; the application's view of the secrets
 * volume then holds the rendered template, owned by the application's user with mode
 * 0600; the native sidecar rewrites the file when the secret rotates, and stops on
 * SIGTERM with 0.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { reviewAdmission } from "../../shared/injector/admission-review.ts";
import { DEFAULT_OPTIONS } from "../../shared/injector/injector-options.ts";
import type { Pod } from "../../shared/injector/kubernetes.ts";
import { useDevServer } from "../support/dev-server.ts";
import { applyJsonPatch, type Operation } from "../support/json-patch.ts";
import { type PodRunner, preparePod, type RunningContainer } from "../support/pod-runner.ts";
import { waitFor } from "../support/wait.ts";
import { api } from "./cli-harness.ts";

const ROOT = "injector-e2e-root";
const APP_USER = 10001;

function deploymentPod(address: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "shop-api-7d9c6b5f4-",
      namespace: "shop",
      annotations: {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": "shop-api",
        "vault.hashicorp.com/service": address,
        "vault.hashicorp.com/agent-inject-secret-db.conf": "secret/data/shop/db",
        "vault.hashicorp.com/agent-inject-template-db.conf":
          '{{ with secret "secret/data/shop/db" }}url = "postgres://{{ .Data.data.username }}:{{ .Data.data.password | urlquery }}@db.shop:5432/shop"\n{{ end }}',
        "vault.hashicorp.com/template-static-secret-render-interval": "1s",
      },
    },
    spec: {
      serviceAccountName: "shop-api",
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: APP_USER,
        runAsGroup: APP_USER,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "app",
          image: "registry.example.com/shop-api:1.0.0",
          // Reads its file, and cannot write beside it.
          command: ["sh", "-c", "cat /vault/secrets/db.conf && ! touch /vault/secrets/planted 2>/dev/null"],
        },
      ],
    },
  };
}

// Mounting and changing users need root, as CI runs; elsewhere this says so and skips.
const canRun = process.getuid?.() === 0 || process.env.CI === "true";
if (!canRun)
  process.stderr.write("injector-pod.test.ts: skipped, it needs root (CI=true makes it fail instead)\n");

describe.runIf(canRun)("an injected pod, run against coffer dev", () => {
  const server = useDevServer({ inMemory: false, rootToken: ROOT });
  let work: string;
  let pod: Pod;
  let kubelet: PodRunner;
  let sidecar: RunningContainer | undefined;
  const root = (method: string, path: string, body?: unknown) => api(server.url, ROOT, method, path, body);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "coffer-injector-pod-"));
    await root("PUT", "sys/policies/acl/shop-api", {
      policy: 'path "secret/data/shop/*" { capabilities = ["read"] }',
    });
    await root("POST", "auth/kubernetes/role/shop-api", {
      bound_service_account_names: "shop-api",
      bound_service_account_namespaces: "shop",
      audience: "coffer",
      token_policies: "shop-api",
      token_ttl: "1h",
    });
    await root("POST", "secret/data/shop/db", { data: { username: "shop", password: "first:p@ss" } });

    const original = deploymentPod(server.url);
    const answer = reviewAdmission(
      {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: "e2e",
          kind: { kind: "Pod" },
          operation: "CREATE",
          namespace: "shop",
          object: original,
        },
      },
      DEFAULT_OPTIONS,
    );
    expect(answer.response?.allowed).toBe(true);
    const patch = JSON.parse(atob(answer.response?.patch as string)) as Operation[];
    pod = applyJsonPatch(original, patch);
    kubelet = await preparePod(pod, work, (audience) =>
      requestDevToken(
        server.url,
        { namespace: "shop", serviceAccount: pod.spec.serviceAccountName as string, audience },
        ROOT,
      ),
    );
  });

  afterAll(async () => {
    if (sidecar && sidecar.child.exitCode === null) sidecar.child.kill("SIGKILL");
    await kubelet?.close();
    await rm(work, { recursive: true, force: true });
  });

  const secretsVolume = () => {
    const mount = pod.spec.containers[0]?.volumeMounts?.find(
      (volumeMount) => volumeMount.mountPath === "/vault/secrets",
    );
    return kubelet.volumeDirectory(mount?.name as string);
  };

  it("the init container writes the file, as the application's user, mode 0600, and exits 0", async () => {
    const [init, native] = pod.spec.initContainers ?? [];
    expect(init?.name).toBe("coffer-agent-init");
    expect(native?.restartPolicy).toBe("Always");
    const run = kubelet.start(init as NonNullable<typeof init>);
    expect(await run.exited, run.output()).toBe(0);

    const file = join(secretsVolume(), "db.conf");
    expect(await readFile(file, "utf8")).toBe('url = "postgres://shop:first%3Ap%40ss@db.shop:5432/shop"\n');
    const info = await stat(file);
    expect(info.mode & 0o777).toBe(0o600);
    if (kubelet.asTheirUsers) expect(info.uid).toBe(APP_USER);
    // What the agent logged names paths, never the secret.
    expect(run.output()).not.toContain("first:p@ss");
  });

  it("the native sidecar rewrites the file when the secret rotates, and stops on SIGTERM with 0", async () => {
    const native = pod.spec.initContainers?.[1] as NonNullable<Pod["spec"]["initContainers"]>[number];
    sidecar = kubelet.start(native);
    const running = sidecar;
    await waitFor("the sidecar's first render", () =>
      running.output().includes('"first render complete"') ? true : undefined,
    );
    await root("POST", "secret/data/shop/db", { data: { username: "shop", password: "second:p@ss" } });
    const file = join(secretsVolume(), "db.conf");
    const rotated = await waitFor("the rotated file", async () => {
      const text = await readFile(file, "utf8");
      return text.includes("second") ? text : undefined;
    });
    expect(rotated).toBe('url = "postgres://shop:second%3Ap%40ss@db.shop:5432/shop"\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    running.child.kill("SIGTERM");
    expect(await running.exited, running.output()).toBe(0);
  });

  it("the application, as its own user, reads the file and cannot write beside it", async () => {
    expect(pod.spec.containers[0]?.volumeMounts).toEqual([
      { name: "coffer-secrets", mountPath: "/vault/secrets", readOnly: true },
    ]);
    const app = kubelet.start(pod.spec.containers[0] as Pod["spec"]["containers"][number]);
    expect(await app.exited, app.output()).toBe(0);
    expect(app.output()).toBe('url = "postgres://shop:second%3Ap%40ss@db.shop:5432/shop"\n');
  });
});
