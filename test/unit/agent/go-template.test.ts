/**
 * The Go-syntax template engine against the examples of Go's text/template documentation
 * and consul-template's, with a host that serves fixed secrets.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type MissingKeyPolicy,
  parseConsulTemplate,
  renderConsulTemplate,
  type TemplateHost,
} from "../../../cli/agent/go-template/go-template.ts";
import { GoStruct } from "../../../cli/agent/go-template/go-values.ts";
import { sprintf } from "../../../cli/agent/go-template/printf.ts";
import { RenderError } from "../../../cli/agent/template.ts";

const SECRETS: Record<string, Record<string, unknown>> = {
  "secret/data/my-secret": {
    data: { foo: "bar", password: "p@ss", list: "a, b ,c", nested: { port: 5432 } },
    metadata: { version: 3, deletion_time: "" },
  },
  "secret/passwords": { wifi: "w1f1" },
  "aws/creds/my-role": { access_key: "AKIA1", secret_key: "s3cr3t", security_token: "tok" },
};

const writes: { path: string; data: readonly string[] }[] = [];

const host: TemplateHost = {
  secret(path, data) {
    if (data.length > 0) {
      writes.push({ path, data });
      return secretOf({ certificate: `cert for ${data.join(",")}` });
    }
    const values = SECRETS[path];
    if (!values) throw new Error(`no secret at ${path}`);
    return secretOf(values, path.startsWith("aws/") ? "aws/creds/my-role/abc" : "");
  },
  env: (name) => ({ HOME: "/home/app", EMPTY: "" })[name] ?? "",
  file: (path) => `contents of ${path}`,
};

function secretOf(data: Record<string, unknown>, leaseId = ""): GoStruct {
  return new GoStruct("*dependency.Secret", {
    RequestID: "req",
    LeaseID: leaseId,
    LeaseDuration: leaseId ? 900 : 0,
    Renewable: false,
    Data: data,
    Warnings: [],
  });
}

function render(text: string, missingKey?: MissingKeyPolicy): string {
  return renderConsulTemplate(parseConsulTemplate(text, { name: "test.tpl", missingKey }), host);
}

function failure(text: string, missingKey?: MissingKeyPolicy): string {
  try {
    render(text, missingKey);
  } catch (error) {
    expect(error).toBeInstanceOf(RenderError);
    return (error as Error).message;
  }
  throw new Error("expected the template to fail");
}

describe("Go text/template: the documentation's examples", () => {
  // Each of these prints "output" in quotes, per the text/template package documentation.
  it.each([
    '{{"\\"output\\""}}',
    '{{`"output"`}}',
    '{{printf "%q" "output"}}',
    '{{"output" | printf "%q"}}',
    '{{printf "%q" (print "out" "put")}}',
    '{{"put" | printf "%s%s" "out" | printf "%q"}}',
    '{{"output" | printf "%s" | printf "%q"}}',
    '{{with "output"}}{{printf "%q" .}}{{end}}',
    '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
    '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
    '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
  ])("%s", (text) => {
    expect(render(text)).toBe('"output"');
  });

  it("trims whitespace around actions marked with - ", () => {
    expect(render("{{23 -}} < {{- 45}}")).toBe("23<45");
    expect(render("a  \n {{- /* a comment */ -}} \n b")).toBe("ab");
    expect(render("{{/* a comment */}}x")).toBe("x");
    // "-3" without a space is a number, not a trim marker.
    expect(render("a {{-3}}")).toBe("a -3");
  });

  it("if, else if, else; and, or, not; comparisons", () => {
    const text =
      '{{ if eq 1 2 }}one{{ else if and true "" }}two{{ else if or 0 "x" }}three{{ else }}four{{ end }}';
    expect(render(text)).toBe("three");
    expect(
      render('{{ if not false }}yes{{ end }}{{ if lt 1 2 }}<{{ end }}{{ if ge "b" "a" }}>={{ end }}'),
    ).toBe("yes<>=");
    expect(render('{{ or "" "fallback" }} {{ and 1 0 }} {{ eq "a" "b" "a" }} {{ ne 1 2 }}')).toBe(
      "fallback 0 true true",
    );
    // or stops at the first true operand: the failing call after it never runs.
    expect(render('{{ or "x" (index "s" 1) }}')).toBe("x");
  });

  it("range over slices and maps (in key order) with variables, else, break and continue", () => {
    expect(render('{{ range $i, $e := split "," "a,b,c" }}{{ $i }}={{ $e }};{{ end }}')).toBe("0=a;1=b;2=c;");
    expect(
      render(
        '{{ with secret "secret/data/my-secret" }}{{ range $k, $v := .Data.metadata }}{{ $k }} {{ end }}{{ end }}',
      ),
    ).toBe("deletion_time version ");
    expect(render('{{ range split "," "" }}x{{ else }}empty{{ end }}')).toBe("empty");
    expect(
      render(
        '{{ range split "," "a,b,c,d" }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "d" }}{{ break }}{{ end }}{{ . }}{{ end }}',
      ),
    ).toBe("ac");
    expect(render("{{ range 3 }}{{ . }}{{ end }}")).toBe("012");
  });

  it("variables are scoped to their block, and = assigns an outer one", () => {
    expect(render('{{ $x := "outer" }}{{ if true }}{{ $x := "inner" }}{{ $x }}{{ end }} {{ $x }}')).toBe(
      "inner outer",
    );
    expect(render('{{ $x := "a" }}{{ range split "," "b,c" }}{{ $x = . }}{{ end }}{{ $x }}')).toBe("c");
  });

  it("prints values as fmt's %v does", () => {
    expect(render("{{ 3 }} {{ 1.5 }} {{ true }} {{ print nil }}")).toBe("3 1.5 true <nil>");
    expect(render('{{ with secret "secret/data/my-secret" }}{{ .Data.data.nested }}{{ end }}')).toBe(
      "map[port:5432]",
    );
    expect(render('{{ split "," "a,b" }}')).toBe("[a b]");
    expect(render('{{ print 1 2 "x" 3 }}|{{ println 1 "a" }}')).toBe("1 2x3|1 a\n");
  });

  it("index, len, and printf with flags", () => {
    expect(
      render(
        '{{ with secret "secret/data/my-secret" }}{{ index .Data.data "foo" }} {{ len .Data.data.password }}{{ end }}',
      ),
    ).toBe("bar 4");
    expect(render('{{ index (split "," "a,b") 1 }}')).toBe("b");
    expect(
      sprintf("%5s|%-5s|%05d|%x|%X|%.2f|%t|%v|%%|%c", ["ab", "ab", 42, 255, "hi", 2.5, true, [1, "a"], 65]),
    ).toBe("   ab|ab   |00042|ff|6869|2.50|true|[1 a]|%|A");
    expect(sprintf("%d %s", ["abc"])).toBe("%!d(string=abc) %!s(MISSING)");
  });
});

describe("consul-template functions", () => {
  beforeAll(() => {
    writes.length = 0;
  });

  it("secret: KV v2 (.Data.data), KV v1 (.Data), dynamic credentials and the lease fields", () => {
    expect(render('{{ with secret "secret/data/my-secret" }}{{ .Data.data.foo }}{{ end }}')).toBe("bar");
    expect(render('{{ with secret "secret/passwords" }}{{ .Data.wifi }}{{ end }}')).toBe("w1f1");
    expect(
      render(`{{ with secret "aws/creds/my-role" -}}
[default]
aws_access_key_id = {{ .Data.access_key }}
aws_secret_access_key = {{ .Data.secret_key }}
{{ end }}`),
    ).toBe("[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s3cr3t\n");
    expect(
      render(
        '{{ with secret "aws/creds/my-role" }}{{ .LeaseID }} {{ .LeaseDuration }} {{ .Renewable }}{{ end }}',
      ),
    ).toBe("aws/creds/my-role/abc 900 false");
    expect(render('{{ (secret "secret/data/my-secret").Data.data.foo }}')).toBe("bar");
  });

  it('secret with "k=v" arguments is a write', () => {
    expect(
      render(
        '{{ with secret "pki/issue/my-domain" "common_name=foo.example.com" "ttl=1h" }}{{ .Data.certificate }}{{ end }}',
      ),
    ).toBe("cert for common_name=foo.example.com,ttl=1h");
    expect(writes).toEqual([
      { path: "pki/issue/my-domain", data: ["common_name=foo.example.com", "ttl=1h"] },
    ]);
  });

  it("toJSON and toJSONPretty write sorted keys and escape HTML characters as Go does", () => {
    expect(render('{{ with secret "secret/passwords" }}{{ .Data | toJSON }}{{ end }}')).toBe(
      '{"wifi":"w1f1"}',
    );
    expect(
      render('{{ with secret "secret/data/my-secret" }}{{ .Data.data.nested | toJSONPretty }}{{ end }}'),
    ).toBe('{\n  "port": 5432\n}');
    expect(render('{{ "<a&b>" | toJSON }}')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(render('{{ "{\\"b\\":1,\\"a\\":[true]}" | parseJSON | toJSON }}')).toBe('{"a":[true],"b":1}');
  });

  it("base64, env, file, trimSpace, split, join, contains, and string functions", () => {
    expect(render('{{ "hello" | base64Encode }} {{ "aGVsbG8=" | base64Decode }}')).toBe("aGVsbG8= hello");
    expect(render('{{ "??>" | base64URLEncode }} {{ "Pz8-" | base64URLDecode }}')).toBe("Pz8- ??>");
    expect(render('{{ env "HOME" }}|{{ env "UNSET" }}|{{ file "/etc/ca.pem" }}')).toBe(
      "/home/app||contents of /etc/ca.pem",
    );
    expect(render('[{{ "  padded \\n" | trimSpace }}]')).toBe("[padded]");
    expect(
      render(
        '{{ with secret "secret/data/my-secret" }}{{ range .Data.data.list | split "," }}<{{ trimSpace . }}>{{ end }}{{ end }}',
      ),
    ).toBe("<a><b><c>");
    expect(render('{{ split "," "x,y" | join "; " }}')).toBe("x; y");
    expect(render('{{ if split "," "web,production" | contains "production" }}prod{{ end }}')).toBe("prod");
    expect(render('{{ "foobar" | contains "oba" }} {{ "foobar" | contains "x" }}')).toBe("true false");
    expect(
      render(
        '{{ "Ab" | toLower }}{{ "Ab" | toUpper }} {{ "a-b-c" | replaceAll "-" "+" }} {{ "x\\ny" | indent 2 }}',
      ),
    ).toBe("abAB a+b+c   x\n  y");
    expect(
      render('{{ "v1.2" | trimPrefix "v" }} {{ "a.pem" | trimSuffix ".pem" }} {{ "abc" | sha256Hex }}'),
    ).toBe("1.2 a ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("missing keys", () => {
  const missing = '{{ with secret "secret/data/my-secret" }}{{ .Data.data.nope }}{{ end }}';

  it("Coffer's default refuses to write <no value>, naming the key and the place", () => {
    expect(failure(missing)).toBe(
      'template: test.tpl:1:45: executing "test.tpl" at <.Data.data.nope>: map has no entry for key "nope": ' +
        'refusing to write "<no value>" (set error_on_missing_key = false to write it as Vault Agent does)',
    );
    // Testing for a key that may be absent is fine.
    expect(
      render(
        '{{ with secret "secret/data/my-secret" }}{{ if .Data.data.nope }}x{{ else }}none{{ end }}{{ end }}',
      ),
    ).toBe("none");
  });

  it("print writes <no value> as Go and Vault Agent do; error refuses any use", () => {
    expect(render(missing, "print")).toBe("<no value>");
    expect(
      failure('{{ with secret "secret/data/my-secret" }}{{ if .Data.data.nope }}{{ end }}{{ end }}', "error"),
    ).toContain('map has no entry for key "nope"');
  });

  it("a field of a missing map, or of the wrong type, is an error", () => {
    expect(failure('{{ with secret "secret/passwords" }}{{ .Data.data.wifi }}{{ end }}')).toContain(
      "nil pointer evaluating interface {}.wifi",
    );
    expect(failure('{{ with secret "secret/passwords" }}{{ .Data.wifi.x }}{{ end }}')).toContain(
      "can't evaluate field x in type string",
    );
    expect(failure('{{ with secret "secret/passwords" }}{{ .Nope }}{{ end }}')).toContain(
      "can't evaluate field Nope in type *dependency.Secret",
    );
    expect(
      failure('{{ with secret "secret/data/my-secret" }}{{ .Data.data.nope | trimSpace }}{{ end }}'),
    ).toContain("expected string; got <no value>");
  });
});

describe("syntax errors, with line and column", () => {
  const parseFailure = (text: string) => {
    try {
      parseConsulTemplate(text, { name: "app.ctmpl" });
    } catch (error) {
      expect(error).toBeInstanceOf(RenderError);
      return (error as Error).message;
    }
    throw new Error("expected a parse error");
  };

  it.each([
    ['line one\n{{ with secret "x" }}', "template: app.ctmpl:2:4: unexpected EOF: {{with}} has no {{end}}"],
    ["{{ .Data", "template: app.ctmpl:1:3: unclosed action"],
    ['{{ "abc }}', "template: app.ctmpl:1:4: unterminated quoted string"],
    ["{{ end }}", "template: app.ctmpl:1:4: unexpected {{end}}"],
    ["a\n  {{ nope 1 }}", 'template: app.ctmpl:2:6: function "nope" not defined'],
    [
      '{{ key "service/x" }}',
      'template: app.ctmpl:1:4: function "key" is a consul-template function Coffer does not support',
    ],
    ["{{ $x }}", 'template: app.ctmpl:1:4: undefined variable "$x"'],
    ['{{ "a" | "b" }}', "template: app.ctmpl:1:10: non executable command in pipeline stage 2"],
    ["{{ }}", "template: app.ctmpl:1:4: missing value for command"],
    [
      '{{ define "x" }}{{ end }}',
      "template: app.ctmpl:1:4: {{define}} is not supported: a template is one file, without named templates",
    ],
    ["{{ break }}", "template: app.ctmpl:1:4: {{break}} outside {{range}}"],
    ["{{/* open", "template: app.ctmpl:1:3: unclosed comment"],
    ["{{ 1x }}", 'template: app.ctmpl:1:4: bad number syntax: "1x"'],
    ["{{ ) }}", "template: app.ctmpl:1:4: unexpected right paren"],
  ])("%j", (text, message) => {
    expect(parseFailure(text)).toBe(message);
  });

  it("a run-time error names the function and its place", () => {
    expect(failure('\n\n  {{ "!!" | base64Decode }}')).toBe(
      'template: test.tpl:3:13: executing "test.tpl" at <base64Decode>: illegal base64 data',
    );
    expect(failure("{{ printf }}")).toContain("wrong number of args for printf: want at least 1 got 0");
  });

  it("honours other delimiters", () => {
    const template = parseConsulTemplate('[[ "x" ]] {{ kept }}', {
      name: "d",
      delimiters: { left: "[[", right: "]]" },
    });
    expect(renderConsulTemplate(template, host)).toBe("x {{ kept }}");
  });
});
