/**
 * How the aws engine lives in the item store: one partition per mount for what belongs to
 * the mount, and the deny lists outside any mount, one per IAM role.
 *
 *   pk "aws/<mount uuid>"   sk "config/root"        the root configuration (secret key sealed)
 *                           sk "role/<name>"        one item per role
 *   pk "aws-deny/<role arn>" sk "sessions"          the sessions revoked early on that IAM role
 *   pk "aws-deny"           sk "policy-name"        the name of the deny policies of this deployment
 *
 * A deny list outlives the mounts that wrote to it: disabling a mount must not forget
 * sessions that are revoked but not yet expired, and the next mount to revoke on the same
 * role prunes and rewrites one policy instead of adding another (see deny-list.ts).
 */
import type { ItemKey } from "../../store/item-store.ts";

export const awsPartition = (mountUuid: string) => `aws/${mountUuid}`;
export const configKey = (mountUuid: string): ItemKey => ({ pk: awsPartition(mountUuid), sk: "config/root" });
export const ROLE_PREFIX = "role/";
export const roleKey = (mountUuid: string, name: string): ItemKey => ({
  pk: awsPartition(mountUuid),
  sk: `${ROLE_PREFIX}${name}`,
});
export const denyKey = (roleArn: string): ItemKey => ({ pk: `aws-deny/${roleArn}`, sk: "sessions" });
export const denyPolicyNameKey: ItemKey = { pk: "aws-deny", sk: "policy-name" };
