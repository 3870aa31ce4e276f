/**
 * The injector's AdmissionReview function on realistic pods (test/support/admission-cases.ts): its
 * JSON Patch applies cleanly to the original pod (with an applier written from RFC 6902,
 * not the injector's), the patched pod is valid against Kubernetes' Pod schema with no
 * unknown field, passes the restricted Pod Security Standard, carries agent configurations
 * that the agent's own loader reads and its own template engine renders, and the answer
 * matches its golden file, reviewed by hand (UPDATE_GOLDEN=1 rewrites them). The golden
 * file shows the configurations decoded and the files they render against fixed secrets
 * (agent-files.ts), so a reviewer reads what the application will read.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validate as validatePod } from "kubernetes-models/_schemas/IoK8sApiCoreV1Pod";
import { Pod as PodModel } from "kubernetes-models/v1/Pod";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../../cli/agent/config.ts";
import { reviewAdmission } from "../../../shared/injector/admission-review.ts";
import { TOKEN_FILE } from "../../../shared/injector/agent-config.ts";
import {
  CONFIG_ANNOTATION,
  CONFIG_VOLUME,
  INIT_CONFIG_ANNOTATION,
  INIT_CONTAINER,
  SIDECAR_CONTAINER,
} from "../../../shared/injector/inject.ts";
import { quantityValue } from "../../../shared/injector/injection-plan.ts";
import type { AdmissionReview, Pod } from "../../../shared/injector/kubernetes.ts";
import { type AdmissionCase, CASES, OPTIONS } from "../../support/admission-cases.ts";
import { applyJsonPatch, type Operation } from "../../support/json-patch.ts";
import { type SchemaCheck, unknownFields } from "../../support/kubernetes-schema.ts";
import { restrictedViolations } from "../../support/pod-security.ts";
import { agentView, renderAgentFiles } from "./agent-files.ts";

const GOLDEN = new URL("./golden/", import.meta.url).pathname;

function review(pod: unknown, namespace = "shop"): AdmissionReview {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: {
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: ["system:serviceaccounts"],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

function patchOf(answer: AdmissionReview): Operation[] {
  const patch = answer.response?.patch;
  return patch === undefined
    ? []
    : JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(patch), (c) => c.charCodeAt(0))));
}

/**
 * The golden file: the answer with its patch decoded, so a reviewer reads operations, not
 * base64; for an injected pod also its agent configurations decoded, and the files they render.
 */
async function golden(answer: AdmissionReview, pod: unknown) {
  const { patch: _patch, ...response } = answer.response ?? { uid: "", allowed: false };
  const operations = patchOf(answer);
  if (operations.length === 0) return { response, patch: operations };
  const patched = applyJsonPatch(pod as Pod, operations);
  const annotations = patched.metadata?.annotations ?? {};
  const agentConfigs = Object.fromEntries(
    [INIT_CONFIG_ANNOTATION, CONFIG_ANNOTATION]
      .filter((name) => annotations[name] !== undefined)
      .map((name) => [name, JSON.parse(annotations[name] as string)]),
  );
  return { response, patch: operations, agentConfigs, files: (await agentView(patched)).files };
}

function injectedPod(pod: unknown, options = OPTIONS, namespace?: string): Pod {
  return applyJsonPatch(pod as Pod, patchOf(reviewAdmission(review(pod, namespace), options)) as Operation[]);
}

// A pod injected once and then marked "update": the injection is redone, not doubled.
const deploymentCase = CASES.find((entry) => entry.name === "deployment-pod") as AdmissionCase;
const injectedOnce = injectedPod(deploymentCase.pod);
const reinjected = structuredClone(injectedOnce);
(reinjected.metadata as { annotations: Record<string, string> }).annotations[
  "vault.hashicorp.com/agent-inject-status"
] = "update";
(reinjected.metadata as { annotations: Record<string, string> }).annotations[
  "vault.hashicorp.com/agent-inject-secret-extra"
] = "secret/data/shop/extra";
const ALL_CASES: AdmissionCase[] = [
  ...CASES,
  {
    name: "reinject-update",
    description: "an injected pod marked agent-inject-status: update, with one more secret: injected anew",
    pod: reinjected,
    expect: "injected",
  },
];

describe.each(ALL_CASES)("$name: $description", (entry) => {
  const options = entry.options ?? OPTIONS;
  const answer = reviewAdmission(review(entry.pod, entry.namespace), options);
  const operations = patchOf(answer);

  it("answers the request's uid, in AdmissionReview v1", () => {
    expect(answer).toMatchObject({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" });
    expect(answer.response?.uid).toBe("705ab4f5-6393-11e8-b7cc-42010a800002");
    expect(answer.response?.allowed).toBe(entry.expect !== "refused");
    if (entry.expect === "injected") expect(answer.response?.patchType).toBe("JSONPatch");
    else expect(answer.response?.patch).toBeUndefined();
    if (entry.expect === "refused") expect(answer.response?.status?.message).toMatch(/^coffer injector: /);
  });

  it("matches its golden file", async () => {
    const file = `${GOLDEN}${entry.name}.golden`;
    const actual = `${JSON.stringify(await golden(answer, entry.pod), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, actual);
    }
    expect(actual).toBe(readFileSync(file, "utf8"));
  });

  if (entry.expect !== "injected") return;
  const patched = applyJsonPatch(entry.pod as Pod, operations as Operation[]);

  it("patches cleanly into a pod valid against Kubernetes' schema, with no unknown field", () => {
    expect(() => new PodModel(patched as never).validate()).not.toThrow();
    expect(unknownFields(validatePod as SchemaCheck, patched)).toEqual([]);
  });

  it("asks for no more than its limits, which the API server would refuse", () => {
    for (const container of [...(patched.spec.initContainers ?? []), ...patched.spec.containers]) {
      const { requests = {}, limits = {} } = (container.resources ?? {}) as Record<
        string,
        Record<string, string>
      >;
      for (const [resource, limit] of Object.entries(limits)) {
        const request = requests[resource];
        if (request !== undefined)
          expect(quantityValue(request), `${container.name} ${resource}`).toBeLessThanOrEqual(
            quantityValue(limit),
          );
      }
    }
  });

  it("passes the restricted Pod Security Standard", () => {
    expect(restrictedViolations((entry.pod as Pod).spec as never)).toEqual([]);
    expect(restrictedViolations(patched.spec as never)).toEqual([]);
  });

  it("carries configurations the agent loads: exit_after_auth for the init container only, files in its volumes", async () => {
    const view = await agentView(patched);
    const containers = [...(patched.spec.initContainers ?? []), ...patched.spec.containers];
    const agents = containers.filter((c) => c.name === INIT_CONTAINER || c.name === SIDECAR_CONTAINER);
    expect(agents.length).toBeGreaterThan(0);
    for (const container of agents) {
      const file = view.containerConfigs.get(container.name) as string;
      expect(file, container.name).toMatch(/\.json$/);
      const loaded = view.configs.get(file);
      expect(loaded?.warnings).toEqual([]);
      const config = loaded?.config;
      expect(config?.auth).toMatchObject({ method: "kubernetes", tokenFile: TOKEN_FILE });
      expect(config?.exitAfterAuth ?? false).toBe(container.name === INIT_CONTAINER);
      const written = [
        ...(config?.secrets ?? []).map((secret) => secret.destination ?? ""),
        ...(config?.sinks ?? []).map((sink) => sink.path),
      ];
      for (const destination of written) {
        expect(
          container.volumeMounts?.some((mount) => destination.startsWith(`${mount.mountPath}/`)),
          destination,
        ).toBe(true);
      }
    }
    // The init container and the sidecar render the same files.
    for (const loaded of view.configs.values()) {
      const rendered = renderAgentFiles(loaded.config.secrets);
      expect(Object.fromEntries([...rendered].map(([entry, text]) => [entry.destination, text]))).toEqual(
        view.files,
      );
    }
  });

  it("is done once: the patched pod is admitted unchanged", () => {
    expect(reviewAdmission(review(patched), options).response).toEqual({
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      allowed: true,
    });
  });
});

/**
 * The golden files as a reviewer approved them, read by the agent: each configuration the
 * golden patch writes into the pod's annotations, saved under the file name its downwardAPI
 * item gives it, loads with the agent's own loader, with nothing refused or ignored.
 */
describe("the golden files' agent configurations", () => {
  const dir = mkdtempSync(join(tmpdir(), "coffer-golden-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const goldens = readdirSync(GOLDEN).filter((name) => name.endsWith(".golden"));
  type Golden = {
    patch: { op: string; path: string; value?: unknown }[];
    agentConfigs?: Record<string, unknown>;
  };

  it.each(goldens)("%s", async (name) => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, name), "utf8")) as Golden;
    const added = (test: (op: Golden["patch"][number]) => boolean) =>
      golden.patch.find((op) => op.op === "add" && test(op))?.value;
    const annotationOf = (annotation: string) =>
      added((op) => op.path === `/metadata/annotations/${annotation.replace("/", "~1")}`) as
        | string
        | undefined;
    const volume = added((op) => (op.value as { name?: string })?.name === CONFIG_VOLUME) as
      | { downwardAPI: { items: { path: string; fieldRef: { fieldPath: string } }[] } }
      | undefined;
    const files = (volume?.downwardAPI.items ?? []).map((item) => ({
      file: item.path,
      annotation: /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef.fieldPath)?.[1] as string,
    }));
    // A golden file without an injection has nothing for the agent; one with it has both views.
    expect(files.map(({ annotation }) => annotation).sort()).toEqual(
      Object.keys(golden.agentConfigs ?? {}).sort(),
    );
    for (const { file, annotation } of files) {
      const text = annotationOf(annotation);
      expect(text, `${name}: ${annotation}`).toBeDefined();
      const decoded = golden.agentConfigs?.[annotation] as { template: unknown[] };
      expect(JSON.parse(text as string)).toEqual(decoded);
      const path = join(dir, name, file);
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(path, text as string);
      const { config, warnings } = await loadAgentConfig(path, {});
      expect(warnings, `${name}: ${file}`).toEqual([]);
      expect(config.exitAfterAuth ?? false).toBe(annotation === INIT_CONFIG_ANNOTATION);
      expect(config.secrets.length).toBe(decoded.template.length);
    }
  });
});

describe("the checks themselves", () => {
  it("the restricted check catches an agent container that could escalate", () => {
    const pod = injectedPod(deploymentCase.pod);
    const agent = pod.spec.initContainers?.[0] as { securityContext: Record<string, unknown> };
    agent.securityContext.allowPrivilegeEscalation = true;
    expect(restrictedViolations(pod.spec as never)).toEqual([
      "Privilege Escalation: initContainers[coffer-agent-init]",
    ]);
  });

  it("the patch applier refuses an operation on a path that does not exist", () => {
    expect(() =>
      applyJsonPatch({ spec: {} }, [{ op: "add", path: "/spec/containers/0/volumeMounts/-", value: {} }]),
    ).toThrow(/does not exist/);
  });
});
