/**
 * Reads an IAM policy document the way a reviewer would and lists what is wider than it
 * must be: wildcard actions, wildcard or foreign resources, Not* elements, and actions of
 * one service granted on another service's resources. `allowedWildcards` names the
 * resources that may end in a wildcard because AWS offers nothing narrower (a log group's
 * streams) or because the operator chose a role path.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

/** The ARN service each action's service may be granted on. */
const RESOURCE_SERVICE: Record<string, string> = { sts: "iam" };

export function wideningFindings(policy: PolicyDocument, allowedWildcards: readonly string[] = []): string[] {
  const findings: string[] = [];
  policy.Statement.forEach((statement, index) => {
    const where = statement.Sid ?? `statement ${index}`;
    if (statement.NotAction !== undefined) findings.push(`${where}: NotAction grants everything else`);
    if (statement.NotResource !== undefined) findings.push(`${where}: NotResource grants everything else`);
    if (statement.Effect !== "Allow") return;
    const actions = list(statement.Action);
    const resources = list(statement.Resource);
    for (const action of actions) {
      if (action.includes("*") || action.includes("?")) findings.push(`${where}: wildcard action ${action}`);
    }
    for (const resource of resources) {
      if (resource === "*") findings.push(`${where}: every resource ("*")`);
      else if ((resource.includes("*") || resource.includes("?")) && !allowedWildcards.includes(resource)) {
        findings.push(`${where}: wildcard resource ${resource}`);
      }
    }
    for (const action of actions) {
      const service = action.split(":")[0] ?? "";
      const expected = RESOURCE_SERVICE[service] ?? service;
      for (const resource of resources) {
        if (resource === "*") continue;
        const resourceService = resource.split(":")[2];
        if (resourceService !== expected) findings.push(`${where}: ${action} on ${resource}`);
      }
    }
  });
  return findings;
}

/** Every action a policy allows, sorted, for exact comparisons. */
export function allowedActions(policy: PolicyDocument): string[] {
  return [
    ...new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action))),
  ].sort();
}

/** The resources a policy grants an action on. */
export function resourcesOf(policy: PolicyDocument, action: string): string[] {
  return policy.Statement.filter((s) => s.Effect === "Allow" && list(s.Action).includes(action)).flatMap(
    (s) => list(s.Resource),
  );
}
