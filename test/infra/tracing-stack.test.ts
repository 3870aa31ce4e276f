/**
 * A stage with X-Ray tracing on (COFFER_TRACING=true): the API and the revoker get
 * Lambda's active tracing, the variable that makes them load the tracer, and the two X-Ray
 * actions, which support no resource narrower than "*"; nothing else widens, and the
 * injector, which calls no AWS service, is left as it is. Off, the default, is
 * dev-stack.test.ts; a bad value is refused in stage-settings.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TRACING_ACTIONS } from "../../stacks/tracing.ts";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({ stage: "dev", env: { COFFER_TRACING: "true" } });
}, 360_000);

const rolePolicy = (name: string): PolicyDocument =>
  JSON.parse(deployment.one("aws:iam/role:Role", name).inputs.inlinePolicies[0].policy);

const BROKER_FUNCTIONS = [
  ["ApiFunction", "ApiRole", "api"],
  ["RevokerFunction", "RevokerRole", "revoker"],
] as const;

describe("a stage with tracing on", () => {
  it("traces both broker functions actively and tells them to load the tracer", () => {
    for (const [fn] of BROKER_FUNCTIONS) {
      const inputs = deployment.one("aws:lambda/function:Function", fn).inputs;
      expect(inputs.tracingConfig).toEqual({ mode: "Active" });
      expect(inputs.environment.variables.COFFER_TRACING).toBe("true");
    }
  });

  it("lets their roles send segments, on the only resource X-Ray offers, and nothing wider", () => {
    for (const [, role, fn] of BROKER_FUNCTIONS) {
      const policy = rolePolicy(role);
      expect(allowedActions(policy).filter((action) => action.startsWith("xray:"))).toEqual(
        [...TRACING_ACTIONS].sort(),
      );
      for (const action of TRACING_ACTIONS) expect(resourcesOf(policy, action)).toEqual(["*"]);
      const logStreams = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/coffer-dev-${fn}:*`;
      const withoutTracing = {
        ...policy,
        Statement: policy.Statement.filter(
          (statement) => ![statement.Action].flat().some((action) => action?.startsWith("xray:")),
        ),
      };
      expect(wideningFindings(withoutTracing, [logStreams])).toEqual([]);
    }
  });

  it("leaves the injector untraced, with no X-Ray permission", () => {
    const injector = deployment.one("aws:lambda/function:Function", "InjectorFunction").inputs;
    expect(injector.tracingConfig).toBeUndefined();
    expect(injector.environment?.variables ?? {}).not.toHaveProperty("COFFER_TRACING");
    expect(allowedActions(rolePolicy("InjectorRole")).filter((a) => a.startsWith("xray:"))).toEqual([]);
  });
});
