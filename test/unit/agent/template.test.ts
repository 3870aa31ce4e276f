import { describe, expect, it } from "vitest";
import { parseTemplate, RenderError, renderTemplate } from "../../../cli/agent/template.ts";

const own = {
  user: "app",
  password: 'p@ss "word"\n',
  port: 5432,
  config: { host: "db.internal" },
  "key with spaces": "k",
};
const other: Record<string, Record<string, unknown>> = { "aws/creds/deploy": { access_key: "AKIA1" } };
const lookup = (path: string | undefined) => {
  if (path === undefined) return own;
  const secret = other[path];
  if (!secret) throw new Error(`unexpected ${path}`);
  return secret;
};
const render = (text: string) => renderTemplate(parseTemplate(text), lookup);

describe("agent template language", () => {
  it("inserts fields of the entry's own secret, nested fields and odd names", () => {
    expect(
      render('user={{ .user }} port={{.port}} host={{ .config.host }} k={{ field "key with spaces" }}'),
    ).toBe("user=app port=5432 host=db.internal k=k");
  });

  it("reads other secrets and lists their paths for fetching", () => {
    const template = parseTemplate(
      '{{ secret "aws/creds/deploy" "access_key" }} {{ secret "/aws/creds/deploy" "x" | trim }}',
    );
    expect(template.secretPaths).toEqual(["aws/creds/deploy"]);
    expect(template.usesOwnSecret).toBe(false);
    expect(renderTemplate(parseTemplate('{{ secret "aws/creds/deploy" "access_key" }}'), lookup)).toBe(
      "AKIA1",
    );
  });

  it("applies filters in order", () => {
    expect(render("{{ .password | json }}")).toBe(JSON.stringify(own.password));
    expect(render("{{ .password | trim | base64 }}")).toBe(Buffer.from('p@ss "word"').toString("base64"));
    expect(render("{{ .password | trim | urlquery }}")).toBe(encodeURIComponent('p@ss "word"'));
    expect(render('{{ .user | upper }}{{ "X" | lower }}')).toBe("APPx");
  });

  it("writes objects as JSON, literals as they are, and drops comments", () => {
    expect(render("{{ .config }}")).toBe('{"host":"db.internal"}');
    expect(render('{{ "{{" }} literal {{ "}}" }}{{/* note */}}')).toBe("{{ literal }}");
    expect(render("no actions\n")).toBe("no actions\n");
  });

  it("refuses a missing field rather than rendering an empty value, naming only the field", () => {
    expect(() => render("{{ .missing }}")).toThrow(RenderError);
    expect(() => render("a\nb {{ .config.port }}")).toThrow(/line 2: .*no field "config.port"/);
    expect(() => render("{{ .password.inner }}")).toThrow(/no field "password.inner"/);
    try {
      render("{{ .password.inner }}");
    } catch (error) {
      expect((error as Error).message).not.toContain("p@ss");
    }
  });

  it.each([
    ["{{ .user", /without a closing/],
    ["{{ }}", /empty action/],
    ['{{ exec "rm" }}', /unknown action "exec"/],
    ["{{ .user | shell }}", /unknown filter "shell"/],
    ["{{ .user base64 }}", /expected "\|"/],
    ['{{ secret "path" }}', /field name/],
    ['{{ secret "" "x" }}', /must not be empty/],
    ['{{ "unterminated }}', /without a closing/],
    ['{{ "bad \\q" }}', /unknown escape/],
    ["{{ .a..b }}", /invalid field/],
    ["{{/* open }}", /unterminated comment/],
    ["{{ .user | }}", /unknown filter/],
  ])("refuses %j with a line number", (text, message) => {
    expect(() => parseTemplate(text)).toThrow(message);
    expect(() => parseTemplate(text)).toThrow(/line 1/);
  });
});
