/**
 * One rendering round: every secret a round can see is asked for at once, so a template
 * with several secrets costs one round of reads, not one per secret.
 */
import { describe, expect, it } from "vitest";
import type { SecretEntry } from "../../../cli/agent/config.ts";
import { parseConsulTemplate } from "../../../cli/agent/go-template/go-template.ts";
import { renderEntries } from "../../../cli/agent/render-pass.ts";
import { type FetchedSecret, requestKey, type SecretRequest } from "../../../cli/agent/secret-source.ts";
import { parseTemplate } from "../../../cli/agent/template.ts";

function held(request: SecretRequest, data: Record<string, unknown>): [string, FetchedSecret] {
  const response = { lease_id: "", renewable: false, lease_duration: 0, data, warnings: null, auth: null };
  return [
    requestKey(request),
    { request, response, values: data, refreshAt: 0, renewable: false, leaseMs: 0, issuedLeaseMs: 0 },
  ];
}

const goEntry: SecretEntry = {
  format: "consul-template",
  destination: "/s/app.conf",
  goTemplate: parseConsulTemplate(
    '{{ with secret "secret/data/a" }}{{ .Data.data.x }}{{ end }}-{{ with secret "kv/b" }}{{ .Data.y }}{{ end }}-' +
      '{{ with secret "pki/issue/web" "common_name=a.example" }}{{ .Data.certificate }}{{ end }}',
    { name: "app.ctmpl" },
  ),
};

const nativeEntry: SecretEntry = {
  format: "template",
  path: "secret/data/own",
  destination: "/s/native.conf",
  template: parseTemplate('{{ .z }} {{ secret "secret/data/c" "w" }} {{ secret "secret/data/d" "v" }}'),
};

describe("renderEntries", () => {
  it("asks for every secret of every template in one round", () => {
    const outcome = renderEntries([goEntry, nativeEntry], new Map(), {});
    expect([...outcome.pending.values()]).toEqual([
      { path: "secret/data/a", kvShim: true },
      { path: "kv/b", kvShim: true },
      { path: "pki/issue/web", kvShim: true, data: { common_name: "a.example" } },
      { path: "secret/data/own", kvShim: false },
      { path: "secret/data/c", kvShim: false },
      { path: "secret/data/d", kvShim: false },
    ]);
    expect(outcome.contents.size).toBe(0);
    expect(outcome.error).toBeUndefined();
  });

  it("renders once everything is held, and names what it used", () => {
    const secrets = new Map([
      held({ path: "secret/data/a", kvShim: true }, { data: { x: "1" }, metadata: {} }),
      held({ path: "kv/b", kvShim: true }, { y: "2" }),
      held({ path: "pki/issue/web", kvShim: true, data: { common_name: "a.example" } }, { certificate: "C" }),
      held({ path: "secret/data/own", kvShim: false }, { z: "own" }),
      held({ path: "secret/data/c", kvShim: false }, { w: "c" }),
      held({ path: "secret/data/d", kvShim: false }, { v: "d" }),
      held({ path: "secret/data/unused", kvShim: false }, {}),
    ]);
    // values of a KV v2 read are the inner data, as fetchSecret makes them.
    (secrets.get(requestKey({ path: "secret/data/a", kvShim: true })) as FetchedSecret).values = { x: "1" };
    const outcome = renderEntries([goEntry, nativeEntry], secrets, {});
    expect(outcome.pending.size).toBe(0);
    expect(outcome.contents.get(goEntry)).toBe("1-2-C");
    expect(outcome.contents.get(nativeEntry)).toBe("own c d");
    expect(outcome.used.size).toBe(6);
    expect(outcome.used.has(requestKey({ path: "secret/data/unused", kvShim: false }))).toBe(false);
  });

  it("refuses a write argument that is not key=value", () => {
    const entry: SecretEntry = {
      format: "consul-template",
      destination: "/s/x",
      goTemplate: parseConsulTemplate('{{ with secret "pki/issue/web" "common_name" }}{{ end }}', {
        name: "x",
      }),
    };
    expect(String(renderEntries([entry], new Map(), {}).error)).toContain(
      '"common_name" is not a key=value pair for the secret\'s write',
    );
  });
});
