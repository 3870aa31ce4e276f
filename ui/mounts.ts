/** The mounts the token may see, from sys/internal/ui/mounts as Vault's UI reads them. */
import { type Json, vault } from "./api.ts";

export interface MountInfo {
  path: string;
  type: string;
  description: string;
  options: Record<string, string> | null;
}

export interface Mounts {
  secret: MountInfo[];
  auth: MountInfo[];
}

function listOf(group: Record<string, Json> | undefined): MountInfo[] {
  return Object.entries(group ?? {})
    .map(([path, mount]) => ({
      path,
      type: mount.type,
      description: mount.description,
      options: mount.options,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

export async function loadMounts(): Promise<Mounts> {
  const { data } = await vault("GET", "sys/internal/ui/mounts");
  return { secret: listOf(data?.secret), auth: listOf(data?.auth) };
}

/** The mount path without its trailing slash, as routes carry it. */
export const mountName = (mount: MountInfo) => mount.path.replace(/\/$/, "");

export const isKvV2 = (mount: MountInfo) => mount.type === "kv" && mount.options?.version === "2";
