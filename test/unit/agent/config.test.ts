import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  loadAgentConfig,
  parseAgentConfig,
  parseConfigDuration,
} from "../../../cli/agent/config.ts";

const base = "/etc/coffer";
const parse = (text: string, env: Record<string, string> = {}) => parseAgentConfig(text, { base, env });

async function problems(text: string, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await parse(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const MINIMAL = `
address: https://coffer.example.com
auth:
  role: app
secrets:
  - path: secret/data/app/db
    destination: /secrets/db.json
`;

describe("agent configuration", () => {
  it("fills defaults for a minimal file", async () => {
    const config = await parse(MINIMAL);
    expect(config).toEqual({
      address: "https://coffer.example.com",
      auth: {
        method: "kubernetes",
        mount: "kubernetes",
        role: "app",
        tokenFile: "/var/run/secrets/coffer/token",
      },
      secrets: [{ path: "secret/data/app/db", destination: "/secrets/db.json", format: "json" }],
      refreshIntervalMs: 300_000,
      backoff: { initialMs: 1_000, maxMs: 60_000 },
      onceTimeoutMs: 120_000,
    });
  });

  it("reads every key, resolving relative paths against the file's directory", async () => {
    const config = await parse(`
address: http://127.0.0.1:8200
auth: { method: kubernetes, mount: auth/k8s-prod/, role: web, token_file: token }
secrets:
  - { path: /v1/secret/data/app/db, destination: out/password, format: raw, field: password }
  - path: secret/data/app/db
    destination: out/db.env
    format: dotenv
  - destination: out/app.conf
    format: template
    template: 'key={{ secret "aws/creds/deploy" "access_key" }}'
refresh_interval: 1m30s
ready_file: out/.ready
on_change: { command: [kill, -HUP, "1"], timeout: 5s }
backoff: { initial: 500ms, max: 30s }
once_timeout: 45s
`);
    expect(config.auth).toEqual({
      method: "kubernetes",
      mount: "k8s-prod",
      role: "web",
      tokenFile: "/etc/coffer/token",
    });
    expect(config.secrets[0]).toEqual({
      path: "secret/data/app/db",
      destination: "/etc/coffer/out/password",
      format: "raw",
      field: "password",
    });
    expect(config.secrets[2]?.template?.secretPaths).toEqual(["aws/creds/deploy"]);
    expect(config.secrets[2]?.path).toBeUndefined();
    expect(config.refreshIntervalMs).toBe(90_000);
    expect(config.readyFile).toBe("/etc/coffer/out/.ready");
    expect(config.onChange).toEqual({ command: ["kill", "-HUP", "1"], timeoutMs: 5_000 });
    expect(config.backoff).toEqual({ initialMs: 500, maxMs: 30_000 });
    expect(config.onceTimeoutMs).toBe(45_000);
  });

  it("takes the address from COFFER_ADDR, then VAULT_ADDR, when the file has none", async () => {
    const text = MINIMAL.replace("address: https://coffer.example.com\n", "");
    expect((await parse(text, { COFFER_ADDR: "http://a:1", VAULT_ADDR: "http://b:2" })).address).toBe(
      "http://a:1",
    );
    expect((await parse(text, { VAULT_ADDR: "http://b:2" })).address).toBe("http://b:2");
    expect(await problems(text)).toEqual(["address: is required (or set COFFER_ADDR)"]);
  });

  it("accepts the token method with a token file", async () => {
    const config = await parse(MINIMAL.replace("role: app", "method: token\n  token_file: /run/token"));
    expect(config.auth).toEqual({ method: "token", tokenFile: "/run/token" });
  });

  it("reports every problem at once, each with where it is", async () => {
    const found = await problems(`
address: ftp://x
auth: { method: kubernetes, role: app, tokenfile: /t }
secrets:
  - { path: secret/data/a, destination: /s/a, format: yaml }
  - { path: secret/data/a, destination: /s/b, format: raw }
  - { destination: /s/c, format: json }
  - { path: secret/data/a, destination: /s/d, format: json, field: x, template: "t" }
  - { path: secret/data/a, destination: /s/e, format: template }
  - { destination: /s/f, format: template, template: "{{ .password }}" }
  - { path: secret/data/a, destination: /s/g, format: template, template: "{{ nope }}" }
  - { path: secret/data/a, destination: /s/g }
refresh_interval: soon
on_change: { command: "kill -HUP 1", timeout: 1s }
backoff: { initial: 10s, max: 1s }
extra: true
`);
    expect(found).toEqual(
      expect.arrayContaining([
        "extra: unknown key (known: address, auth, secrets, refresh_interval, ready_file, on_change, backoff, once_timeout, exec)",
        'address: "ftp://x" is not an http(s) URL',
        "auth.tokenfile: unknown key (known: method, mount, role, token_file)",
        'secrets[0].format: unknown format "yaml": use raw, json, dotenv, template, consul-template',
        "secrets[1].field: is required for format raw",
        "secrets[2].path: is required (the secret to read)",
        "secrets[3].field: is only for format raw",
        "secrets[3].template: is only for format template or consul-template",
        "secrets[4].template: a template entry needs exactly one of template or template_file",
        "secrets[5].path: is required (the secret to read)",
        'secrets[6].template: line 1: unknown action "nope": expected .field, field "name", secret "path" "field" or a "string"',
        "secrets: /s/g is the destination of more than one secret",
        'refresh_interval: expected a duration such as "30s", "5m", "1h30m" or "500ms"',
        'on_change.command: expected a list, e.g. ["a", "b"]',
        "backoff.max: must not be less than backoff.initial",
      ]),
    );
    expect(found, found.join("\n")).toHaveLength(15);
  });

  it("refuses YAML that does not parse, a missing auth, and an empty list of secrets", async () => {
    expect((await problems("a: [1\n"))[0]).toMatch(/^YAML: /);
    expect(await problems("address: http://x\nsecrets: []\n")).toEqual([
      "auth: is required",
      "secrets: expected a list of at least one secret",
    ]);
    expect(await problems(MINIMAL.replace("role: app", "method: ldap"))).toEqual([
      'auth.method: unknown method "ldap": use kubernetes or token',
    ]);
    expect(await problems("- a\n- b\n")).toEqual([": expected a mapping of keys to values"]);
  });

  it("reads consul-template entries, environment entries and exec", async () => {
    const config = await parse(`
address: http://127.0.0.1:8200
auth: { role: app }
secrets:
  - destination: out/app.conf
    format: consul-template
    template: '{{ with secret "secret/data/app/db" }}{{ .Data.data.password }}{{ end }}'
    error_on_missing_key: true
  - { path: secret/data/app/db, env: DB_PASSWORD, format: raw, field: password }
exec:
  command: ["./app", "--serve"]
  restart_on_secret_changes: never
  restart_stop_signal: SIGINT
`);
    expect(config.secrets[0]).toMatchObject({
      format: "consul-template",
      destination: "/etc/coffer/out/app.conf",
    });
    expect(config.secrets[0]?.goTemplate?.missingKey).toBe("error");
    expect(config.secrets[1]).toMatchObject({ env: "DB_PASSWORD", format: "raw", field: "password" });
    expect(config.exec).toEqual({
      command: ["./app", "--serve"],
      restartOnSecretChanges: false,
      stopSignal: "SIGINT",
      stopTimeoutMs: 30_000,
    });
  });

  it("refuses env entries without exec, a path on a consul-template entry, and template errors with their place", async () => {
    expect(
      await problems(`
address: http://x
auth: { role: r }
secrets:
  - { path: secret/data/a, env: A, format: raw, field: x }
  - { path: secret/data/a, env: "1A", destination: /x, format: raw, field: x }
  - { path: secret/data/a, destination: /y, format: consul-template, template: "{{ with secret \\"a\\" }}" }
  - { path: secret/data/a, destination: /z, error_on_missing_key: true }
exec: { command: [], restart_on_secret_changes: sometimes, restart_stop_signal: SIGFOO }
`),
    ).toEqual([
      "secrets[1].destination: is required (or env, for exec mode), and not both",
      'secrets[1].env: "1A" is not a variable name',
      "secrets[2].template: template: template:1:4: unexpected EOF: {{with}} has no {{end}}",
      'secrets[2].path: is not for format consul-template: its template names its secrets ({{ with secret "..." }})',
      "secrets[3].error_on_missing_key: is only for format consul-template",
      'exec.command: expected a non-empty list of strings, e.g. ["./app", "--serve"]',
      'exec.restart_on_secret_changes: expected "always" or "never", not "sometimes"',
      'exec.restart_stop_signal: unknown signal "SIGFOO": use SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGKILL',
    ]);
    expect(await problems(MINIMAL.replace("destination: /secrets/db.json", "env: DB"))).toEqual([
      "secrets: environment variables need exec (the program to start with them)",
    ]);
  });

  it("parses durations with units or as seconds", () => {
    expect(parseConfigDuration("1h30m")).toBe(5_400_000);
    expect(parseConfigDuration("250ms")).toBe(250);
    expect(parseConfigDuration(2)).toBe(2_000);
    expect(parseConfigDuration("2")).toBeUndefined();
    expect(parseConfigDuration("-1s")).toBeUndefined();
    expect(parseConfigDuration(-1)).toBeUndefined();
  });

  describe("from a file", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "coffer-agent-config-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("reads template_file beside the configuration and reports a missing one", async () => {
      await writeFile(join(dir, "app.tmpl"), "user={{ .username }}\n");
      await writeFile(
        join(dir, "agent.yaml"),
        `address: http://x\nauth: { role: r }\nsecrets:\n  - { path: secret/data/a, destination: out, format: template, template_file: app.tmpl }\n`,
      );
      const { config } = await loadAgentConfig(join(dir, "agent.yaml"));
      expect(config.secrets[0]?.template?.usesOwnSecret).toBe(true);
      expect(config.secrets[0]?.destination).toBe(join(dir, "out"));

      await writeFile(
        join(dir, "broken.yaml"),
        `address: http://x\nauth: { role: r }\nsecrets:\n  - { path: secret/data/a, destination: out, format: template, template_file: none.tmpl }\n`,
      );
      await expect(loadAgentConfig(join(dir, "broken.yaml"))).rejects.toThrow(
        /template_file: cannot read none.tmpl: ENOENT/,
      );
      await expect(loadAgentConfig(join(dir, "absent.yaml"))).rejects.toThrow(/cannot read the file: ENOENT/);
    });
  });
});
