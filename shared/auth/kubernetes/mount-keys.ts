/**
 * The key source of each mount, kept for the life of the process: static keys are parsed
 * once, and fetched keys stay cached with their refresh limits (see remote-keys.ts), which
 * is what keeps a flood of logins from becoming a flood of requests to the issuer. A new
 * configuration (a new revision) starts a new source.
 */
import type { Broker } from "../../broker.ts";
import type { KubernetesConfig } from "./config.ts";
import type { KeySource } from "./key-set.ts";
import { remoteKeySource } from "./remote-keys.ts";
import { parseStaticKeys, staticKeySource } from "./static-keys.ts";

interface MountKeys {
  revision: string;
  source: Promise<KeySource>;
}

const sources = new WeakMap<Broker, Map<string, MountKeys>>();

function build(broker: Broker, config: KubernetesConfig): Promise<KeySource> {
  if (config.oidcDiscoveryUrl !== "") {
    return Promise.resolve(remoteKeySource({ discoveryUrl: config.oidcDiscoveryUrl }, { now: broker.now }));
  }
  if (config.jwksUrl !== "")
    return Promise.resolve(remoteKeySource({ jwksUrl: config.jwksUrl }, { now: broker.now }));
  const jwks = config.jwks === "" ? undefined : JSON.parse(config.jwks);
  return parseStaticKeys(config.pemKeys, jwks, config.jwtSupportedAlgs).then(({ keys }) =>
    staticKeySource(keys),
  );
}

export function keySourceFor(
  broker: Broker,
  mountUuid: string,
  config: KubernetesConfig,
): Promise<KeySource> {
  let mounts = sources.get(broker);
  if (!mounts) {
    mounts = new Map();
    sources.set(broker, mounts);
  }
  const existing = mounts.get(mountUuid);
  if (existing && existing.revision === config.revision) return existing.source;
  const source = build(broker, config);
  source.catch(() => mounts.delete(mountUuid));
  mounts.set(mountUuid, { revision: config.revision, source });
  return source;
}

/** Drops what the process remembers about a mount (it was disabled). */
export function forgetMountKeys(broker: Broker, mountUuid: string): void {
  sources.get(broker)?.delete(mountUuid);
}
