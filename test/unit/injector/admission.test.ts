/**
 * The injector's AdmissionReview function on realistic pods (admission-cases.ts): its
 * JSON Patch applies cleanly to the original pod (with an applier written from RFC 6902,
 * not the injector's), the patched pod is valid against Kubernetes' Pod schema with no
 * unknown field, passes the restricted Pod Security Standard, carries an agent
 * configuration the agent loads, and the answer matches its golden file, reviewed by hand
 * (UPDATE_GOLDEN=1 rewrites them).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { validate as validatePod } from "kubernetes-models/_schemas/IoK8sApiCoreV1Pod";
import { Pod as PodModel } from "kubernetes-models/v1/Pod";
import { describe, expect, it } from "vitest";
import { parseAgentConfig } from "../../../cli/agent/config.ts";
import { reviewAdmission } from "../../../shared/injector/admission-review.ts";
import { CONFIG_ANNOTATION } from "../../../shared/injector/inject.ts";
import { quantityValue } from "../../../shared/injector/injection-plan.ts";
import type { AdmissionReview, Pod } from "../../../shared/injector/kubernetes.ts";
import { applyJsonPatch, type Operation } from "../../support/json-patch.ts";
import { type SchemaCheck, unknownFields } from "../../support/kubernetes-schema.ts";
import { restrictedViolations } from "../../support/pod-security.ts";
import { type AdmissionCase, CASES, OPTIONS } from "./admission-cases.ts";

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

/** The golden file: the answer with its patch decoded, so a reviewer reads operations, not base64. */
function golden(answer: AdmissionReview) {
  const { patch: _patch, ...response } = answer.response ?? { uid: "", allowed: false };
  return { response, patch: patchOf(answer) };
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

  it("matches its golden file", () => {
    const file = `${GOLDEN}${entry.name}.golden`;
    const actual = `${JSON.stringify(golden(answer), null, 2)}\n`;
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

  it("carries an agent configuration that the agent loads", async () => {
    const text = patched.metadata?.annotations?.[CONFIG_ANNOTATION] as string;
    const config = await parseAgentConfig(text, { file: "agent.yaml", env: {} });
    expect(config.auth).toMatchObject({ method: "kubernetes", tokenFile: "/var/run/secrets/coffer/token" });
    const volumeMounts = patched.spec.initContainers?.find((c) =>
      c.name.startsWith("coffer-agent"),
    )?.volumeMounts;
    for (const secret of config.secrets) {
      const destination = secret.destination ?? "";
      expect(volumeMounts?.some((mount) => destination.startsWith(`${mount.mountPath}/`))).toBe(true);
    }
  });

  it("is done once: the patched pod is admitted unchanged", () => {
    expect(reviewAdmission(review(patched), options).response).toEqual({
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      allowed: true,
    });
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
