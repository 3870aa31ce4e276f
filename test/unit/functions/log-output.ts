/**
 * What a function writes to stdout and stderr, captured in order: Powertools writes
 * through a Console of its own on the process's streams (info and metrics to stdout,
 * warnings and errors to stderr), which are outside the product; in Lambda both streams
 * become the function's log events. A test reads there what CloudWatch Logs would ingest.
 */
import { expect, vi } from "vitest";

export interface CapturedLines {
  /** Every write so far, each checked to be one whole JSON object on a line of its own. */
  json(): Record<string, unknown>[];
  raw: string[];
  restore(): void;
}

export function captureLogOutput(): CapturedLines {
  const raw: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    raw.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation(capture),
    vi.spyOn(process.stderr, "write").mockImplementation(capture),
  ];
  return {
    raw,
    json() {
      return raw.map((line) => {
        expect(line.endsWith("\n")).toBe(true);
        expect(line.slice(0, -1)).not.toContain("\n");
        return JSON.parse(line) as Record<string, unknown>;
      });
    },
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** The EMF documents among the lines. */
export const emfLines = (lines: Record<string, unknown>[]) => lines.filter((line) => "_aws" in line);
