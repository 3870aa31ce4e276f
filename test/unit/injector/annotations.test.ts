/**
 * The injector's refusals and warnings: every value it cannot honour refuses the pod with
 * a message naming the annotation, and a malformed AdmissionReview is an error the edges
 * answer with 400. Vault's readings of booleans and durations are Go's.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AdmissionReviewError, reviewAdmission } from "../../../shared/injector/admission-review.ts";
import { parseGoBool, parseGoDuration } from "../../../shared/injector/annotations.ts";
import { quantityValue } from "../../../shared/injector/injection-plan.ts";
import { readInjectorOptions } from "../../../shared/injector/injector-options.ts";
import { UNSUPPORTED_ANNOTATIONS } from "../../../shared/injector/parity.ts";
import { OPTIONS } from "./admission-cases.ts";

const base = {
  "vault.hashicorp.com/agent-inject": "true",
  "vault.hashicorp.com/role": "app",
  "vault.hashicorp.com/agent-inject-secret-db": "secret/data/app/db",
  "vault.hashicorp.com/agent-inject-template-db": "{{ .password }}",
};

function answer(annotations: Record<string, string>, spec: Record<string, unknown> = {}) {
  const pod = {
    metadata: { annotations },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      containers: [{ name: "app", image: "app:1" }],
      ...spec,
    },
  };
  return reviewAdmission(
    {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { uid: "u", namespace: "app", object: pod },
    },
    OPTIONS,
  ).response;
}

const refusal = (annotations: Record<string, string>, spec?: Record<string, unknown>) => {
  const response = answer(annotations, spec);
  expect(response?.allowed).toBe(false);
  expect(response?.patch).toBeUndefined();
  return response?.status?.message;
};

describe("refused annotations", () => {
  it.each([
    [
      "agent-inject is not a boolean",
      { "vault.hashicorp.com/agent-inject": "yes" },
      /agent-inject: "yes" is not a boolean/,
    ],
    ["no role", { "vault.hashicorp.com/role": "" }, /no role/],
    [
      "another auth type",
      { "vault.hashicorp.com/auth-type": "approle" },
      /auth-type: "approle" is not supported/,
    ],
    [
      "a quantity that is not one",
      { "vault.hashicorp.com/agent-limits-mem": "lots" },
      /agent-limits-mem: "lots" is not a quantity/,
    ],
    ["a negative quantity", { "vault.hashicorp.com/agent-requests-cpu": "-1" }, /is not a quantity/],
    [
      "a file outside the volume",
      { "vault.hashicorp.com/agent-inject-file-db": "../../etc/passwd" },
      /outside its volume/,
    ],
    [
      "a secret named ..",
      { "vault.hashicorp.com/agent-inject-secret-..": "secret/data/x" },
      /outside its volume/,
    ],
    [
      "a relative volume path",
      { "vault.hashicorp.com/secret-volume-path": "secrets" },
      /not an absolute path/,
    ],
    [
      "two secrets in one file",
      {
        "vault.hashicorp.com/agent-inject-secret-other": "secret/data/x",
        "vault.hashicorp.com/agent-inject-file-other": "db",
      },
      /more than one secret is written to \/vault\/secrets\/db/,
    ],
    [
      "a mode that is not one",
      { "vault.hashicorp.com/agent-inject-perms-db": "rw-------" },
      /is not a file mode/,
    ],
    ["root", { "vault.hashicorp.com/agent-run-as-user": "0" }, /does not run as root/],
    [
      "a user id that is not one",
      { "vault.hashicorp.com/agent-run-as-user": "app" },
      /is not a user or group id/,
    ],
    [
      "same user without one",
      { "vault.hashicorp.com/agent-run-as-same-user": "true" },
      /first container has no securityContext.runAsUser/,
    ],
    [
      "a duration that is not one",
      { "vault.hashicorp.com/auth-min-backoff": "5 seconds" },
      /is not a duration/,
    ],
    [
      "backoffs the wrong way round",
      { "vault.hashicorp.com/auth-min-backoff": "1m", "vault.hashicorp.com/auth-max-backoff": "1s" },
      /shorter than/,
    ],
    [
      "a render interval under 100ms",
      { "vault.hashicorp.com/template-static-secret-render-interval": "10ms" },
      /at most every 100ms/,
    ],
    [
      "an unknown default template",
      { "vault.hashicorp.com/agent-inject-default-template": "yaml" },
      /neither map nor json/,
    ],
    [
      "neither init nor sidecar",
      {
        "vault.hashicorp.com/agent-pre-populate": "false",
        "vault.hashicorp.com/agent-pre-populate-only": "true",
      },
      /neither before nor beside/,
    ],
    [
      "no secrets",
      {
        "vault.hashicorp.com/agent-inject-secret-db": "",
        "vault.hashicorp.com/agent-inject-template-db": "",
      },
      /no secrets/,
    ],
    [
      "an address that is not a URL",
      { "vault.hashicorp.com/service": "coffer:8200" },
      /is not an http\(s\) URL/,
    ],
    [
      "a Vault Enterprise namespace",
      { "vault.hashicorp.com/namespace": "team-a" },
      /namespace is not supported: Coffer has no Vault Enterprise namespaces/,
    ],
    [
      "a template command",
      { "vault.hashicorp.com/agent-inject-command-db": "kill -HUP 1" },
      /agent-inject-command-db is not supported/,
    ],
    [
      "a request above its limit",
      { "vault.hashicorp.com/agent-requests-mem": "256Mi", "vault.hashicorp.com/agent-limits-mem": "0.1Gi" },
      /agent-requests-mem: 256Mi is above the limit 0.1Gi/,
    ],
    [
      "templates too long to carry twice",
      { "vault.hashicorp.com/agent-inject-template-db": "x".repeat(140 * 1024) },
      /annotations would take \d+ bytes, more than Kubernetes' 262144/,
    ],
    [
      "a template file",
      { "vault.hashicorp.com/agent-inject-template-file-db": "/vault/configs/db.tmpl" },
      /agent-inject-template-file-db is not supported/,
    ],
    [
      "another auth config",
      { "vault.hashicorp.com/auth-config-token-path": "/t" },
      /auth-config-token-path is not supported/,
    ],
  ])("%s", (_name, annotations, message) => {
    expect(refusal({ ...base, ...annotations })).toMatch(message);
  });

  it("names every refused annotation at once", () => {
    const message = refusal({
      ...base,
      "vault.hashicorp.com/agent-inject-token": "true",
      "vault.hashicorp.com/tls-skip-verify": "true",
    });
    expect(message).toMatch(/agent-inject-token is not supported.*; .*tls-skip-verify is not supported/);
  });

  it("refuses a pod that already holds the agent unless asked to inject again", () => {
    expect(refusal(base, { volumes: [{ name: "coffer-token", emptyDir: {} }] })).toMatch(
      /already has coffer-token: to inject again, set agent-inject-status to "update"/,
    );
  });

  it("refuses a volume path a container already uses", () => {
    const containers = [
      { name: "app", image: "app:1", volumeMounts: [{ name: "x", mountPath: "/vault/secrets" }] },
    ];
    expect(refusal(base, { containers, volumes: [{ name: "x", emptyDir: {} }] })).toMatch(
      /app already mounts something at \/vault\/secrets/,
    );
  });
});

describe("admitted with warnings", () => {
  it("an annotation that asks for nothing passes silently", () => {
    const response = answer({
      ...base,
      "vault.hashicorp.com/agent-cache-enable": "false",
      "vault.hashicorp.com/tls-secret": "",
    });
    expect(response).toMatchObject({ allowed: true });
    expect(response?.warnings).toBeUndefined();
  });

  it.each([
    ["a tuning annotation", { "vault.hashicorp.com/log-level": "debug" }, /log-level is ignored/],
    [
      "a typo",
      { "vault.hashicorp.com/agent-inject-secrets-db": "x" },
      /agent-inject-secrets-db is not an annotation of the injector/,
    ],
    [
      "a mode for other readers",
      { "vault.hashicorp.com/agent-inject-perms-db": "0644" },
      /0644 lets other users read the file/,
    ],
    [
      "containers that do not exist",
      { "vault.hashicorp.com/agent-inject-containers": "app,sidecar" },
      /names no container sidecar/,
    ],
  ])("%s", (_name, annotations, warning) => {
    const response = answer({ ...base, ...annotations });
    expect(response?.allowed).toBe(true);
    expect(response?.warnings?.join("\n")).toMatch(warning);
  });

  it("an application whose user is unknown: the agent runs as Vault's default, with a warning", () => {
    const response = answer(base, { securityContext: { runAsNonRoot: true } });
    expect(response?.warnings?.join("\n")).toMatch(
      /the agent runs as 100 .*set runAsUser, or agent-run-as-user/,
    );
  });
});

describe("resources", () => {
  it("a default request comes down to a lower limit the pod asks for", () => {
    const response = answer({ ...base, "vault.hashicorp.com/agent-limits-mem": "96Mi" });
    const patch = JSON.parse(atob(response?.patch as string)) as {
      value: { name?: string; resources?: unknown }[];
    }[];
    const init = patch.find(
      (operation) => Array.isArray(operation.value) && operation.value[0]?.name === "coffer-agent-init",
    );
    expect(init?.value[0]?.resources).toEqual({
      requests: { cpu: "50m", memory: "96Mi" },
      limits: { cpu: "500m", memory: "96Mi" },
    });
  });

  it("compares quantities across units", () => {
    expect(quantityValue("1Gi")).toBe(1024 * quantityValue("1Mi"));
    expect(quantityValue("500m")).toBe(0.5);
    expect(quantityValue("1e3")).toBe(quantityValue("1k"));
    expect(quantityValue("128Mi") > quantityValue("100M")).toBe(true);
  });
});

describe("malformed reviews", () => {
  it.each([
    ["not an object", "x"],
    ["another kind", { kind: "Pod", apiVersion: "v1" }],
    [
      "another version",
      { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v2", request: { uid: "u" } },
    ],
    ["no uid", { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1", request: {} }],
  ])("%s", (_name, review) => {
    expect(() => reviewAdmission(review, OPTIONS)).toThrow(AdmissionReviewError);
  });

  it("refuses an object that is not a pod", () => {
    const response = reviewAdmission(
      {
        kind: "AdmissionReview",
        apiVersion: "admission.k8s.io/v1",
        request: { uid: "u", object: { spec: {} } },
      },
      OPTIONS,
    ).response;
    expect(response).toMatchObject({
      allowed: false,
      status: { message: expect.stringMatching(/not a pod/) },
    });
  });

  it("admits anything but the creation of a pod untouched", () => {
    const review = { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" };
    for (const request of [
      { uid: "u", kind: { kind: "Secret" }, operation: "CREATE" },
      { uid: "u", kind: { kind: "Pod" }, operation: "UPDATE", object: { metadata: { annotations: base } } },
    ]) {
      expect(reviewAdmission({ ...review, request }, OPTIONS).response).toEqual({ uid: "u", allowed: true });
    }
  });
});

describe("Go's readings", () => {
  it("booleans as strconv.ParseBool", () => {
    for (const value of ["1", "t", "T", "TRUE", "true", "True"])
      expect(parseGoBool({ key: "k", value })).toBe(true);
    for (const value of ["0", "f", "F", "FALSE", "false", "False"])
      expect(parseGoBool({ key: "k", value })).toBe(false);
    for (const value of ["yes", "on", "tRUE", ""])
      expect(() => parseGoBool({ key: "k", value })).toThrow(/not a boolean/);
  });

  it("durations as time.ParseDuration", () => {
    expect(parseGoDuration({ key: "k", value: "1h30m" })).toBe(5_400_000);
    expect(parseGoDuration({ key: "k", value: "1.5s" })).toBe(1_500);
    expect(parseGoDuration({ key: "k", value: "300ms" })).toBe(300);
    expect(parseGoDuration({ key: "k", value: "0" })).toBe(0);
    for (const value of ["5", "1d", "s", "-1s", "1h 30m"])
      expect(() => parseGoDuration({ key: "k", value })).toThrow();
  });
});

describe("settings", () => {
  it("names every bad setting at once", () => {
    expect(() =>
      readInjectorOptions({ COFFER_INJECTOR_ADDRESS: "coffer", COFFER_INJECTOR_SIDECAR: "both" }),
    ).toThrow(
      /COFFER_INJECTOR_ADDRESS: "coffer" is not an http\(s\) URL[\s\S]*COFFER_INJECTOR_SIDECAR: "both"/,
    );
  });
});

describe("docs/kubernetes.md", () => {
  it("lists every annotation Coffer refuses or ignores in its parity table, with the same effect", () => {
    const docs = readFileSync(new URL("../../../docs/kubernetes.md", import.meta.url), "utf8");
    for (const entry of UNSUPPORTED_ANNOTATIONS) {
      const name = entry.name.endsWith("-") ? `${entry.name}<` : `${entry.name}\``;
      const row = docs.split("\n").find((line) => line.startsWith(`| \`${name}`));
      expect(row, entry.name).toBeDefined();
      expect(row).toContain(entry.effect);
    }
  });
});
