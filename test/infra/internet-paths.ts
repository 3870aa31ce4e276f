/**
 * Every way a recorded stage lets the internet reach the API function: a function URL of
 * its own, an internet-facing load balancer, a security group rule open to every address,
 * a dual-stack load balancer (IPv6 addresses are public), and a permission to invoke the
 * function granted to anything but a load balancer's target group. A private stage must
 * have none; a test that finds some in a public stage shows this can fail.
 */
import { ACCOUNT, type Deployment, REGION } from "./sst-harness.ts";

const EVERY_ADDRESS = ["0.0.0.0/0", "::/0"];

export function internetPaths(deployment: Deployment, apiFunctionName: string): string[] {
  const paths: string[] = [];
  for (const url of deployment.of("aws:lambda/functionUrl:FunctionUrl")) {
    if (url.inputs.functionName === apiFunctionName) paths.push(`function URL ${url.name}`);
  }
  for (const lb of deployment.of("aws:lb/loadBalancer:LoadBalancer")) {
    if (lb.inputs.internal !== true) paths.push(`internet-facing load balancer ${lb.name}`);
    if (lb.inputs.ipAddressType !== "ipv4") paths.push(`load balancer ${lb.name} with IPv6 addresses`);
  }
  for (const group of deployment.of("aws:ec2/securityGroup:SecurityGroup")) {
    for (const rule of group.inputs.ingress ?? []) {
      const ranges = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])];
      for (const range of ranges.filter((r: string) => EVERY_ADDRESS.includes(r))) {
        paths.push(`security group ${group.name} open to ${range}`);
      }
    }
  }
  for (const rule of deployment.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
    paths.push(`separate ingress rule ${rule.name}`);
  }
  const targetGroups = new Set(
    deployment
      .of("aws:lb/targetGroup:TargetGroup")
      .map((group) => `arn:aws:lb:${REGION}:${ACCOUNT}:${group.name}`),
  );
  for (const permission of deployment.of("aws:lambda/permission:Permission")) {
    if (permission.inputs.function !== apiFunctionName) continue;
    const fromTargetGroup =
      permission.inputs.principal === "elasticloadbalancing.amazonaws.com" &&
      targetGroups.has(permission.inputs.sourceArn);
    if (!fromTargetGroup) paths.push(`permission ${permission.name} (${permission.inputs.principal})`);
  }
  return paths;
}
