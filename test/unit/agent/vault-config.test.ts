/**
 * Vault Agent configurations, in HCL and JSON, as Vault's documentation and the Vault
 * Agent injector write them: what the agent makes of them, and what it refuses or
 * ignores, with where.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, type LoadedConfig, loadAgentConfig } from "../../../cli/agent/config.ts";
import { renderConsulTemplate } from "../../../cli/agent/go-template/go-template.ts";
import { GoStruct } from "../../../cli/agent/go-template/go-values.ts";
import { parseHcl } from "../../../cli/agent/hcl/hcl-parser.ts";
import { parseVaultAgentConfig } from "../../../cli/agent/vault-config.ts";

const base = "/etc/vault";
const parse = (text: string, language: "hcl" | "json" = "hcl", env: NodeJS.ProcessEnv = {}) =>
  parseVaultAgentConfig(text, { file: `agent.${language}`, base, env, language });

async function problems(text: string, language: "hcl" | "json" = "hcl"): Promise<string[]> {
  try {
    await parse(text, language);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

// Vault's documentation: Vault Agent on Kubernetes, with a sink and an inline template.
const KUBERNETES_HCL = `
exit_after_auth = true
pid_file = "/home/vault/pidfile"

vault {
  address = "https://coffer.example.com"
}

auto_auth {
    method "kubernetes" {
        mount_path = "auth/kubernetes"
        config = {
            role = "example"
        }
    }

    sink "file" {
        config = {
            path = "/home/vault/.vault-token"
        }
    }
}

template {
  destination = "/etc/secrets/index.html"
  contents = <<EOT
  <html>
  {{- with secret "secret/data/myapp/config" }}
  <li>username: {{ .Data.data.username }}</li>
  {{ end }}
  </html>
  EOT
}
`;

describe("HCL", () => {
  it("parses blocks, labels, attributes, lists, heredocs, escapes, numbers, booleans and comments", () => {
    const body = parseHcl(`
# a comment
// another
/* and a
   block comment */
name = "a \\"quoted\\" \\u00e9 \\n value"
count = 3
ratio = 1.5
on = true
list = ["a", 1, false,
  "b",]
block "label one" "two" {
  inner = <<-EOT
    indented
      more
    EOT
}
`);
    expect(body.attributes.map((item) => [item.name, item.value])).toEqual([
      ["name", 'a "quoted" \u00e9 \n value'],
      ["count", 3],
      ["ratio", 1.5],
      ["on", true],
      ["list", ["a", 1, false, "b"]],
    ]);
    expect(body.blocks[0]).toMatchObject({
      type: "block",
      labels: ["label one", "two"],
      body: { attributes: [{ name: "inner", value: "indented\n  more\n" }] },
      at: { line: 12, column: 1 },
    });
  });

  it.each([
    ['a = "open\n', "line 1, column 5: unterminated string"],
    ["a = 1\nb {\n  c = 2\n", 'line 4, column 1: expected "}" before the end of the file'],
    ["a = 1 b = 2\n", 'line 1, column 7: expected a new line after "a", found "b"'],
    ["a = [1 2]\n", 'line 1, column 8: expected "," or "]" in a list, found "2"'],
    ['x = "1"\nx = "2"\n', 'line 2, column 1: the attribute "x" is set twice'],
    ["a = <<EOT\nno end\n", "line 1, column 5: heredoc <<EOT has no closing EOT"],
    ["a = yes\n", 'line 1, column 5: unknown value yes: quote strings, e.g. "yes"'],
    ['a = "\\q"\n', "line 1, column 6: invalid escape \\q in string"],
    ["a @ 1\n", 'line 1, column 3: unexpected "@"'],
  ])("refuses %j with line and column", (text, message) => {
    expect(() => parseHcl(text)).toThrow(message);
  });
});

describe("Vault Agent configuration", () => {
  it("reads the Kubernetes example: auth, sink, exit_after_auth, an inline template; ignores pid_file", async () => {
    const { config, warnings } = await parse(KUBERNETES_HCL);
    expect(config.address).toBe("https://coffer.example.com");
    expect(config.auth).toEqual({
      method: "kubernetes",
      mount: "kubernetes",
      role: "example",
      tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    });
    expect(config.sinks).toEqual([{ path: "/home/vault/.vault-token", mode: 0o640 }]);
    expect(config.exitAfterAuth).toBe(true);
    expect(config.secrets).toHaveLength(1);
    expect(config.secrets[0]).toMatchObject({
      format: "consul-template",
      destination: "/etc/secrets/index.html",
    });
    expect(warnings).toEqual(["pid_file is ignored: the agent's process is its container's"]);
    const secret = new GoStruct("*dependency.Secret", { Data: { data: { username: "u" } } });
    const rendered = renderConsulTemplate(config.secrets[0]?.goTemplate as never, {
      secret: () => secret,
      env: () => "",
      file: () => "",
    });
    expect(rendered).toBe("  <html>\n  <li>username: u</li>\n  \n  </html>\n");
  });

  it("reads the process supervisor example: env_template, exec and template_config", async () => {
    const { config } = await parse(`
auto_auth {
  method "token_file" {
    config { token_file_path = "/home/app/.vault-token" }
  }
}
template_config {
  static_secret_render_interval = "5m"
  exit_on_retry_failure         = true
}
vault {
  address = "http://127.0.0.1:8200"
  retry { num_retries = 3 }
}
env_template "FOO_PASSWORD" {
  contents             = "{{ with secret \\"secret/data/foo\\" }}{{ .Data.data.password }}{{ end }}"
  error_on_missing_key = true
}
exec {
  command                   = ["./my-app", "arg1", "arg2"]
  restart_on_secret_changes = "always"
  restart_stop_signal       = "SIGTERM"
}
`);
    expect(config.auth).toEqual({ method: "token", tokenFile: "/home/app/.vault-token" });
    expect(config.refreshIntervalMs).toBe(300_000);
    expect(config.maxRetries).toBe(3);
    expect(config.secrets[0]).toMatchObject({ format: "consul-template", env: "FOO_PASSWORD" });
    expect(config.secrets[0]?.goTemplate?.missingKey).toBe("error");
    expect(config.exec).toEqual({
      command: ["./my-app", "arg1", "arg2"],
      restartOnSecretChanges: true,
      stopSignal: "SIGTERM",
      stopTimeoutMs: 30_000,
    });
  });

  it("reads the JSON the Vault Agent injector writes", async () => {
    const { config, warnings } = await parse(
      JSON.stringify({
        auto_auth: {
          method: {
            type: "kubernetes",
            mount_path: "auth/k8s-prod",
            config: { role: "app", token_path: "/var/run/secrets/coffer/token" },
          },
          sink: [{ type: "file", config: { path: "/home/vault/.vault-token" } }],
        },
        exit_after_auth: false,
        pid_file: "/home/vault/.pid",
        vault: { address: "https://coffer.example.com" },
        template: [
          {
            destination: "/vault/secrets/db-creds",
            contents: '{{- with secret "database/creds/db-app" -}}{{ .Data.username }}{{- end }}',
            left_delimiter: "{{",
            right_delimiter: "}}",
            command: "kill -HUP $(pidof app)",
            perms: "0640",
          },
        ],
        template_config: { exit_on_retry_failure: true },
      }),
      "json",
    );
    expect(config.auth).toEqual({
      method: "kubernetes",
      mount: "k8s-prod",
      role: "app",
      tokenFile: "/var/run/secrets/coffer/token",
    });
    expect(config.secrets[0]).toMatchObject({
      destination: "/vault/secrets/db-creds",
      perms: 0o640,
      command: { command: ["/bin/sh", "-c", "kill -HUP $(pidof app)"], timeoutMs: 30_000 },
    });
    expect(config.maxRetries).toBe(12);
    expect(config.exitAfterAuth).toBeUndefined();
    expect(warnings).toEqual(["pid_file is ignored: the agent's process is its container's"]);
    // JSON's nested form of a labelled block reads the same.
    const nested = await parse(
      JSON.stringify({
        vault: { address: "https://c" },
        auto_auth: { method: { kubernetes: { config: { role: "r" } } } },
        env_template: { A: { contents: "a" }, B: { contents: "b" } },
        exec: { command: ["app"] },
      }),
      "json",
    );
    expect(nested.config.secrets.map((entry) => entry.env)).toEqual(["A", "B"]);
  });

  it("refuses what it would not honour, naming each stanza and where it is", async () => {
    const found = await problems(`
vault {
  address = "https://c"
  tls_skip_verify = true
  ca_cert = "/ca.pem"
}
auto_auth {
  method "kubernetes" {
    wrap_ttl = "5m"
    config = { role = "r" }
  }
  sink "file" {
    dh_type = "curve25519"
    config = { path = "/t" }
  }
}
cache {}
listener "tcp" { address = "127.0.0.1:8100" }
template {
  source = "a.ctmpl"
  contents = "x"
  destination = "/s/x"
}
template {
  contents = "{{ with secret \\"x\\" }}"
  destination = "/s/y"
  sandbox_path = "/s"
}
env_template "A" { contents = "a" }
bogus = 1
`);
    expect(found).toEqual([
      "vault.tls_skip_verify (line 4, column 3): is not supported: the agent always verifies the server's certificate",
      "vault.ca_cert (line 5, column 3): is not supported: give Node a private CA with the NODE_EXTRA_CA_CERTS environment variable instead",
      'auto_auth.method "kubernetes".wrap_ttl (line 9, column 5): is not supported: Coffer does not wrap responses',
      'auto_auth.sink "file".dh_type (line 13, column 5): is not supported: the agent does not encrypt sinks: the token file is written with its mode',
      "template[0].source (line 20, column 3): a template needs exactly one of source or contents",
      "template[1].contents (line 25, column 3): template: template[1].contents:1:4: unexpected EOF: {{with}} has no {{end}}",
      "template[1].sandbox_path (line 27, column 3): is not supported: the agent does not confine file to a directory; leave file out of templates you do not trust",
      "cache (line 17, column 1): is not supported: the agent serves no local API: applications read the files or the environment it renders",
      "listener (line 18, column 1): is not supported: the agent serves no local API: applications read the files or the environment it renders",
      "bogus (line 30, column 1): unknown setting",
      "template: environment variables need exec (the program to start with them)",
    ]);
  });

  it("refuses other auth methods and sinks, a missing role, and exec with exit_after_auth", async () => {
    expect(
      await problems(
        `vault { address = "https://c" }\nauto_auth { method "aws" { config = { role = "r" } } }\ntemplate {\n  contents = "x"\n  destination = "/x"\n}\n`,
      ),
    ).toEqual([
      'auto_auth.method (line 2, column 13): "aws" is not supported: the agent logs in with kubernetes or token_file',
    ]);
    expect(
      await problems(
        `vault { address = "https://c" }\nauto_auth {\n  method "kubernetes" { config = {} }\n  sink "unix" { config = { path = "/x" } }\n}\n`,
      ),
    ).toEqual([
      'auto_auth.method "kubernetes".config.role: is required',
      'auto_auth.sink "unix".type: sink "unix" is not supported: use sink "file"',
      "nothing to do: give at least one template, env_template or auto_auth sink",
    ]);
    expect(
      await problems(
        `vault { address = "https://c" }\nexit_after_auth = true\nauto_auth { method "kubernetes" { config = { role = "r" } } }\nenv_template "A" { contents = "a" }\nexec { command = ["app"] }\n`,
      ),
    ).toEqual(["exec cannot be combined with exit_after_auth: the agent must stay to supervise the program"]);
  });

  it("names the line and column of a syntax error, in HCL and in JSON", async () => {
    expect(await problems('vault {\n  address = "https://c"\n\nauto_auth {')).toEqual([
      'HCL: line 4, column 12: expected "}" before the end of the file',
    ]);
    const json = await problems('{\n  "vault": {"address": "https://c"},\n  "auto_auth": }', "json");
    expect(json).toHaveLength(1);
    expect(json[0]).toMatch(/^JSON: line 3, column \d+: invalid JSON: /);
  });

  describe("from files", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "coffer-vault-config-"));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("chooses the language by extension, and reads template sources beside the file", async () => {
      await writeFile(join(dir, "app.ctmpl"), '{{ with secret "secret/data/a" }}{{ .Data.data.x }}{{ end }}');
      await writeFile(
        join(dir, "agent.hcl"),
        `vault { address = "https://c" }
auto_auth {
  method "kubernetes" { config = { role = "r", token_path = "token" } }
  sink "file" { config = { path = "run/.vault-token", mode = 0600 } }
}
template {
  source = "app.ctmpl"
  destination = "out/app.conf"
  perms = 0640
}
`,
      );
      const loaded: LoadedConfig = await loadAgentConfig(join(dir, "agent.hcl"), {});
      expect(loaded.config.secrets[0]?.destination).toBe(join(dir, "out/app.conf"));
      expect(loaded.config.secrets[0]?.goTemplate?.name).toBe("app.ctmpl");
      // A mode written as an HCL number is octal, as Vault reads it.
      expect(loaded.config.secrets[0]?.perms).toBe(0o640);
      // Relative paths are relative to the configuration file, as in agent.yaml.
      expect(loaded.config.auth).toMatchObject({ tokenFile: join(dir, "token") });
      expect(loaded.config.sinks).toEqual([{ path: join(dir, "run/.vault-token"), mode: 0o600 }]);
      await writeFile(join(dir, "agent.conf"), "");
      await expect(loadAgentConfig(join(dir, "agent.conf"))).rejects.toThrow(
        /unknown configuration language/,
      );
    });
  });
});
