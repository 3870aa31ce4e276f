import { describe, expect, it } from "vitest";
import { renderSecret } from "../../../cli/agent/render.ts";
import { parseTemplate } from "../../../cli/agent/template.ts";

const values = { username: "app", password: 'a"b$c`d\\e\nf', port: 5432 };
const lookup = () => values;

describe("agent renderers", () => {
  it("raw writes one field as it is, without adding a newline", () => {
    expect(renderSecret({ format: "raw", field: "password" }, lookup)).toBe(values.password);
    expect(renderSecret({ format: "raw", field: "port" }, lookup)).toBe("5432");
    expect(() => renderSecret({ format: "raw", field: "nope" }, lookup)).toThrow(/no field "nope"/);
  });

  it("json writes every field as an object", () => {
    expect(JSON.parse(renderSecret({ format: "json" }, lookup))).toEqual(values);
  });

  it("dotenv quotes and escapes what a shell or dotenv parser would interpret", () => {
    const text = renderSecret({ format: "dotenv" }, lookup);
    expect(text).toBe('username="app"\npassword="a\\"b\\$c\\`d\\\\e\\nf"\nport="5432"\n');
  });

  it("dotenv refuses a key that is not an environment variable name", () => {
    expect(() => renderSecret({ format: "dotenv" }, () => ({ "db-password": "x" }))).toThrow(
      /not a valid environment/,
    );
  });

  it("template renders the entry's template", () => {
    const template = parseTemplate(
      "postgres://{{ .username }}:{{ .password | urlquery }}@db:{{ .port }}/app\n",
    );
    expect(renderSecret({ format: "template", template }, lookup)).toBe(
      `postgres://app:${encodeURIComponent(values.password)}@db:5432/app\n`,
    );
  });
});
