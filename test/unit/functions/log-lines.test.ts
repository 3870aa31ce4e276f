/**
 * What the functions write for the metric filters and alarms (functions/log-lines.ts):
 * each record one JSON object on a line of its own on stdout, with nothing before it, so
 * that a CloudWatch Logs JSON pattern applies to it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { lambdaLogging } from "../../../functions/log-lines.ts";

let written: string[];

beforeEach(() => {
  written = [];
  // The process's stream is outside the product: capture what reaches it.
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

function wholeJsonLine(): Record<string, unknown> {
  expect(written).toHaveLength(1);
  const [line] = written;
  expect(line?.endsWith("\n")).toBe(true);
  expect(line?.slice(0, -1)).not.toContain("\n");
  return JSON.parse(line!);
}

describe("the functions' log lines", () => {
  it("write the lease machinery's records (the sweep report) as a whole JSON line", () => {
    lambdaLogging.log("warn", "lease sweep", { sweep_id: "s1", failed: 2, lag_ms_max: 10 });
    expect(wholeJsonLine()).toMatchObject({ level: "warn", msg: "lease sweep", sweep_id: "s1", failed: 2 });
  });

  it("write an audit record as it is, on a line of its own", () => {
    const record = JSON.stringify({ type: "request", request: { path: "secret/data/x" } });
    for (const writer of lambdaLogging.auditWriters) writer(record);
    expect(wholeJsonLine()).toEqual(JSON.parse(record));
  });

  it("write an item that failed authentication with where it is and why, never what it holds", () => {
    lambdaLogging.onRejectedItem({ pk: "token", sk: "abc", reason: "MAC mismatch" });
    expect(wholeJsonLine()).toMatchObject({ level: "error", pk: "token", sk: "abc", reason: "MAC mismatch" });
  });
});
