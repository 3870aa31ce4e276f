/**
 * A deployment for lease tests: the lease test engine registered beside the product's
 * and, once the store is initialized, mounted at `path` ("t/" by default), so leases are
 * issued at t/creds/<name>.
 */
import { type Deployment, type DeploymentOptions, openDeployment } from "./deployment.ts";
import { createLeaseTestEngine, type LeaseTestEngine } from "./lease-test-engine.ts";

export interface LeaseDeployment extends Deployment {
  engine: LeaseTestEngine;
}

export interface LeaseDeploymentOptions extends DeploymentOptions {
  /** Another deployment's engine, for a process over the same store that must share its behaviour. */
  engine?: LeaseTestEngine;
  path?: string;
}

export async function openLeaseDeployment(options: LeaseDeploymentOptions = {}): Promise<LeaseDeployment> {
  const engine = options.engine ?? createLeaseTestEngine();
  const deployment = await openDeployment({
    ...options,
    engines: { ...options.engines, leasing: engine.type },
  });
  if (options.initialize !== false)
    await deployment.broker.mounts.enable({ path: options.path ?? "t", type: "leasing" });
  return Object.assign(deployment, { engine });
}
