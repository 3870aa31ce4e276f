/** The problems readStageSettings reports for a configuration it refuses. */
import { expect } from "vitest";
import { readStageSettings, StageSettingsError } from "../../stacks/stage-settings.ts";

export function problemsOf(env: Record<string, string>, stage = "dev"): readonly string[] {
  try {
    readStageSettings(stage, env);
  } catch (error) {
    expect(error).toBeInstanceOf(StageSettingsError);
    return (error as StageSettingsError).problems;
  }
  throw new Error("expected the settings to be refused");
}
