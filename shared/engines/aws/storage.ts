/**
 * How an AWS mount lives in the item store: one partition per mount.
 *
 *   pk "aws/<mount uuid>"   sk "config/root"        the root configuration (secret key sealed)
 *                           sk "role/<name>"        one item per role
 *                           sk "deny/<role arn>"    the sessions revoked early on that IAM role
 */
import type { ItemKey } from "../../store/item-store.ts";

export const awsPartition = (mountUuid: string) => `aws/${mountUuid}`;
export const configKey = (mountUuid: string): ItemKey => ({ pk: awsPartition(mountUuid), sk: "config/root" });
export const ROLE_PREFIX = "role/";
export const roleKey = (mountUuid: string, name: string): ItemKey => ({
  pk: awsPartition(mountUuid),
  sk: `${ROLE_PREFIX}${name}`,
});
export const denyKey = (mountUuid: string, roleArn: string): ItemKey => ({
  pk: awsPartition(mountUuid),
  sk: `deny/${roleArn}`,
});
