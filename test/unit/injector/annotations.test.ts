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
import {
  annotationParity,
  PER_SECRET_ANNOTATIONS,
  SUPPORTED_ANNOTATIONS,
  UNSUPPORTED_ANNOTATIONS,
} from "../../../shared/injector/parity.ts";
import { OPTIONS } from "../../support/admission-cases.ts";

const base = {
  "vault.hashicorp.com/agent-inject": "true",
  "vault.hashicorp.com/role": "app",
  "vault.hashicorp.com/agent-inject-secret-db": "secret/data/app/db",
  "vault.hashicorp.com/agent-inject-template-db":
    '{{ with secret "secret/data/app/db" }}{{ .Data.data.password }}{{ end }}',
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
      "a template command with the injector's image, which has no shell",
      { "vault.hashicorp.com/agent-inject-command-db": "kill -HUP 1" },
      /agent-inject-command-db: the agent runs a command with \/bin\/sh -c, .* the injector's agent image has no shell: name an image that has \/bin\/sh .* in agent-image/,
    ],
    [
      "a template command with the injector's image named",
      {
        "vault.hashicorp.com/agent-inject-command-db": "kill -HUP 1",
        "vault.hashicorp.com/agent-image": OPTIONS.image,
      },
      /agent-inject-command-db: the agent runs a command with \/bin\/sh -c/,
    ],
    [
      "error-on-missing-key that is not a boolean",
      { "vault.hashicorp.com/error-on-missing-key-db": "yes" },
      /error-on-missing-key-db: "yes" is not a boolean/,
    ],
    [
      "agent-inject-token that is not a boolean",
      { "vault.hashicorp.com/agent-inject-token": "on" },
      /agent-inject-token: "on" is not a boolean/,
    ],
    [
      "a secret named token beside agent-inject-token",
      {
        "vault.hashicorp.com/agent-inject-token": "true",
        "vault.hashicorp.com/agent-inject-secret-token": "secret/data/app/token",
      },
      /more than one file \(a secret and agent-inject-token's\) is written to \/vault\/secrets\/token/,
    ],
    [
      "agent-inject-token in a relative volume path",
      {
        "vault.hashicorp.com/agent-inject-token": "true",
        "vault.hashicorp.com/secret-volume-path-db": "/db",
        "vault.hashicorp.com/secret-volume-path": "secrets",
      },
      /secret-volume-path: "secrets" is not an absolute path/,
    ],
    [
      "exit-on-retry-failure that is not a boolean",
      { "vault.hashicorp.com/template-config-exit-on-retry-failure": "always" },
      /template-config-exit-on-retry-failure: "always" is not a boolean/,
    ],
    [
      "a request above its limit",
      { "vault.hashicorp.com/agent-requests-mem": "256Mi", "vault.hashicorp.com/agent-limits-mem": "0.1Gi" },
      /agent-requests-mem: 256Mi is above the limit 0.1Gi/,
    ],
    [
      "templates too long to carry three times (the annotation, and each agent's configuration)",
      { "vault.hashicorp.com/agent-inject-template-db": "x".repeat(90 * 1024) },
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
      "vault.hashicorp.com/agent-cache-enable": "true",
      "vault.hashicorp.com/tls-skip-verify": "true",
    });
    expect(message).toMatch(/agent-cache-enable is not supported.*; .*tls-skip-verify is not supported/);
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
      /the agent runs as 100 and writes \/vault\/secrets\/db readable by that user only .*set runAsUser, or agent-run-as-user/,
    );
  });

  it("no warning about users when agent-inject-perms lets the group read every file", () => {
    const containers = [
      { name: "app", image: "app:1" },
      { name: "worker", image: "worker:1", securityContext: { runAsUser: 10002 } },
    ];
    const readable = { ...base, "vault.hashicorp.com/agent-inject-perms-db": "0440" };
    expect(answer(readable, { containers })?.warnings).toBeUndefined();
    expect(answer(base, { containers })?.warnings?.join("\n")).toMatch(
      /the agent runs as 10001 and writes \/vault\/secrets\/db readable by that user only .*: worker runs as another user and cannot read it/,
    );
  });
});

describe("the agent's configuration", () => {
  const configs = (annotations: Record<string, string>) => {
    const response = answer(annotations);
    expect(response?.allowed).toBe(true);
    const patch = JSON.parse(atob(response?.patch as string)) as { path: string; value: unknown }[];
    const config = (name: string) => {
      const operation = patch.find((op) => op.path === `/metadata/annotations/coffer.dev~1${name}`);
      return operation && JSON.parse(operation.value as string);
    };
    return { init: config("agent-config-init"), sidecar: config("agent-config") };
  };

  it("is Vault Agent's: the init container's exits after its first render, the sidecar's does not", () => {
    const { init, sidecar } = configs(base);
    expect(init).toMatchObject({ exit_after_auth: true, vault: { address: "https://coffer.example.com" } });
    expect(sidecar).toEqual({ ...init, exit_after_auth: false });
    expect(init.auto_auth).toEqual({
      method: {
        type: "kubernetes",
        mount_path: "auth/kubernetes",
        config: { role: "app", token_path: "/var/run/secrets/coffer/token" },
      },
    });
    expect(init.template_config).toEqual({ exit_on_retry_failure: true });
  });

  it("with agent-pre-populate-only, only the init container's; with agent-pre-populate false, only the sidecar's", () => {
    expect(
      configs({ ...base, "vault.hashicorp.com/agent-pre-populate-only": "true" }).sidecar,
    ).toBeUndefined();
    expect(configs({ ...base, "vault.hashicorp.com/agent-pre-populate": "false" }).init).toBeUndefined();
  });

  it("a secret without a template renders Vault's default template, map or json", () => {
    const untemplated = {
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/role": "app",
      "vault.hashicorp.com/agent-inject-secret-db": "secret/data/app/db",
    };
    expect(configs(untemplated).init.template[0].contents).toBe(
      '{{ with secret "secret/data/app/db" }}{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}',
    );
    const json = { ...untemplated, "vault.hashicorp.com/agent-inject-default-template": "JSON" };
    expect(configs(json).init.template[0].contents).toBe(
      '{{ with secret "secret/data/app/db" }}{{ .Data | toJSON }}\n{{ end }}',
    );
  });

  it("Vault's template settings: perms, command, error_on_missing_key, delimiters, the token sink, exit_on_retry_failure", () => {
    const { sidecar } = configs({
      ...base,
      "vault.hashicorp.com/agent-inject-perms-db": "0440",
      "vault.hashicorp.com/agent-inject-command-db": "kill -HUP $(pidof app)",
      "vault.hashicorp.com/agent-image": "registry.example.com/coffer-shell:1",
      "vault.hashicorp.com/error-on-missing-key-db": "false",
      "vault.hashicorp.com/agent-template-left-delim-db": "<<",
      "vault.hashicorp.com/agent-template-right-delim-db": ">>",
      "vault.hashicorp.com/agent-inject-token": "true",
      "vault.hashicorp.com/template-config-exit-on-retry-failure": "false",
      "vault.hashicorp.com/template-static-secret-render-interval": "90s",
    });
    expect(sidecar.template).toEqual([
      {
        destination: "/vault/secrets/db",
        contents: base["vault.hashicorp.com/agent-inject-template-db"],
        left_delimiter: "<<",
        right_delimiter: ">>",
        perms: "0440",
        command: "kill -HUP $(pidof app)",
        error_on_missing_key: false,
      },
    ]);
    expect(sidecar.auto_auth.sink).toEqual([{ type: "file", config: { path: "/vault/secrets/token" } }]);
    expect(sidecar.template_config).toEqual({
      exit_on_retry_failure: false,
      static_secret_render_interval: "90s",
    });
  });

  it("a default template is written in the secret's own delimiters", () => {
    const { init } = configs({
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/role": "app",
      "vault.hashicorp.com/agent-inject-secret-db": "secret/data/app/db",
      "vault.hashicorp.com/agent-template-left-delim-db": "[[",
      "vault.hashicorp.com/agent-template-right-delim-db": "]]",
    });
    expect(init.template[0].contents).toBe(
      '[[ with secret "secret/data/app/db" ]][[ range $k, $v := .Data ]][[ $k ]]: [[ $v ]]\n[[ end ]][[ end ]]',
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

/**
 * Every annotation Vault's injector reads (the constants of agent-inject/agent/annotations.go
 * in hashicorp/vault-k8s), per-secret ones written `<base>-<name>` and free-form ones
 * `<base>-<key>`.
 */
const VAULT_INJECTOR_ANNOTATIONS = [
  "agent-auto-auth-exit-on-err",
  "agent-cache-enable",
  "agent-cache-exit-on-err",
  "agent-cache-listener-port",
  "agent-cache-use-auto-auth-token",
  "agent-configmap",
  "agent-copy-volume-mounts",
  "agent-disable-idle-connections",
  "agent-disable-keep-alives",
  "agent-enable-quit",
  "agent-extra-secret",
  "agent-image",
  "agent-init-first",
  "agent-init-json-patch",
  "agent-inject",
  "agent-inject-command-<name>",
  "agent-inject-containers",
  "agent-inject-default-template",
  "agent-inject-file-<name>",
  "agent-inject-perms-<name>",
  "agent-inject-secret-<name>",
  "agent-inject-status",
  "agent-inject-template-<name>",
  "agent-inject-template-file-<name>",
  "agent-inject-token",
  "agent-json-patch",
  "agent-limits-cpu",
  "agent-limits-ephemeral",
  "agent-limits-mem",
  "agent-pre-populate",
  "agent-pre-populate-only",
  "agent-request-namespace",
  "agent-requests-cpu",
  "agent-requests-ephemeral",
  "agent-requests-mem",
  "agent-revoke-grace",
  "agent-revoke-on-shutdown",
  "agent-run-as-group",
  "agent-run-as-same-user",
  "agent-run-as-user",
  "agent-service-account-token-volume-name",
  "agent-set-security-context",
  "agent-share-process-namespace",
  "agent-telemetry-<key>",
  "agent-template-left-delim-<name>",
  "agent-template-right-delim-<name>",
  "auth-config-<key>",
  "auth-max-backoff",
  "auth-min-backoff",
  "auth-path",
  "auth-type",
  "ca-cert",
  "ca-key",
  "client-cert",
  "client-key",
  "client-max-retries",
  "client-timeout",
  "error-on-missing-key-<name>",
  "go-max-procs",
  "log-format",
  "log-level",
  "namespace",
  "preserve-secret-case",
  "preserve-secret-case-<name>",
  "proxy-address",
  "role",
  "secret-volume-path",
  "secret-volume-path-<name>",
  "service",
  "template-config-exit-on-retry-failure",
  "template-lease-renewal-threshold",
  "template-max-connections-per-host",
  "template-static-secret-render-interval",
  "tls-secret",
  "tls-server-name",
  "tls-skip-verify",
];
/** The annotations only Coffer's injector writes, which Vault's does not know. */
const COFFER_ONLY = ["agent-config", "agent-config-init", "agent-inject-warnings"];

/** An annotation name as a pod writes it: a per-secret or free-form one with a suffix. */
const instance = (name: string) => name.replace(/<name>$/, "db").replace(/<key>$/, "timeout");

/** The rows of the annotation table in docs/kubernetes.md: each annotation named in a row, with the row. */
function parityRows(): Map<string, { status: string; text: string }[]> {
  const docs = readFileSync(new URL("../../../docs/kubernetes.md", import.meta.url), "utf8");
  const section = docs.slice(docs.indexOf("### The annotations\n"));
  const table = section.slice(section.indexOf("| Annotation | Coffer |"));
  const lines = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
  const rows = new Map<string, { status: string; text: string }[]>();
  for (const line of lines) {
    const [names = "", status = "", text = ""] = line.slice(2, -2).split(" | ");
    for (const [, name] of names.matchAll(/`([^`]+)`/g)) {
      rows.set(name as string, [...(rows.get(name as string) ?? []), { status, text }]);
    }
  }
  return rows;
}

describe("docs/kubernetes.md: the annotation table", () => {
  const rows = parityRows();

  it("has one row for every annotation of Vault's injector, and none that is not one", () => {
    expect(VAULT_INJECTOR_ANNOTATIONS.filter((name) => rows.get(name)?.length !== 1)).toEqual([]);
    // auth-config-role is one of auth-config-<key>, with a row of its own.
    expect([...rows.keys()].filter((name) => !VAULT_INJECTOR_ANNOTATIONS.includes(name))).toEqual([
      "auth-config-role",
    ]);
  });

  it("says what the injector does with each: supported, or refused or ignored with the injector's reason", () => {
    for (const [name, [row]] of rows as Map<string, [{ status: string; text: string }]>) {
      const parity = annotationParity(instance(name));
      if (parity === "unknown") throw new Error(`the injector does not know ${name}`);
      if (parity === "supported") {
        expect(row.status, name).toBe("supported");
        continue;
      }
      expect(row.status, name).toBe(
        `${parity.effect} (when ${parity.kind === "flag" ? "true" : "not empty"})`,
      );
      expect(row.text.toLowerCase(), name).toBe(`${parity.reason.toLowerCase()}.`);
    }
  });

  it("the injector's own lists name annotations of Vault's injector only, and Coffer's own", () => {
    const vault = new Set(VAULT_INJECTOR_ANNOTATIONS.map((name) => name.replace(/<(name|key)>$/, "")));
    for (const entry of UNSUPPORTED_ANNOTATIONS) expect(vault.has(entry.name), entry.name).toBe(true);
    for (const name of SUPPORTED_ANNOTATIONS) {
      expect(vault.has(name) || COFFER_ONLY.includes(name) || name === "auth-config-role", name).toBe(true);
    }
    for (const base of PER_SECRET_ANNOTATIONS) expect(vault.has(`${base}-`), base).toBe(true);
  });
});

describe("every annotation the injector does not act on", () => {
  it.each(UNSUPPORTED_ANNOTATIONS.map((entry) => [entry.name, entry] as const))(
    "%s: refused or warned about when it asks for something, silent when it does not",
    (_name, entry) => {
      const key = `vault.hashicorp.com/${entry.name.endsWith("-") ? `${entry.name}db` : entry.name}`;
      const asking = answer({ ...base, [key]: entry.kind === "flag" ? "true" : "x" });
      if (entry.effect === "refused") {
        expect(asking?.allowed).toBe(false);
        expect(asking?.status?.message).toContain(`${key} is not supported: ${entry.reason}`);
      } else {
        const warning = `${key} is ignored: ${entry.reason}`;
        expect(asking?.allowed).toBe(true);
        expect(asking?.warnings).toContain(`coffer injector: ${warning}`);
        const patch = JSON.parse(atob(asking?.patch as string)) as { path: string; value: unknown }[];
        const recorded = patch.find(
          (op) => op.path === "/metadata/annotations/coffer.dev~1agent-inject-warnings",
        );
        expect(String(recorded?.value).split("\n")).toContain(warning);
      }
      const silent = answer({ ...base, [key]: entry.kind === "flag" ? "false" : "" });
      expect(silent).toMatchObject({ allowed: true });
      expect(silent?.warnings).toBeUndefined();
    },
  );
});
