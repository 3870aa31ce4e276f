/**
 * The key source of a mount, kept by its engine instance for the life of the process:
 * static keys are parsed once, and fetched keys stay cached with their refresh limits (see
 * remote-keys.ts), which is what keeps a flood of logins from becoming a flood of requests
 * to the issuer. A new configuration (a new revision) starts a new source.
 */
import type { KubernetesConfig } from "./config.ts";
import type { KeySource } from "./key-set.ts";
import { remoteKeySource } from "./remote-keys.ts";
import { parseStaticKeys, staticKeySource } from "./static-keys.ts";

export interface MountKeys {
  /** The key source for this configuration, built once per revision. */
  sourceFor(config: KubernetesConfig): Promise<KeySource>;
  /** Forgets the source (the configuration changed, or the mount was disabled). */
  forget(): void;
}

function build(config: KubernetesConfig, now: () => number): Promise<KeySource> {
  if (config.oidcDiscoveryUrl !== "") {
    return Promise.resolve(remoteKeySource({ discoveryUrl: config.oidcDiscoveryUrl }, { now }));
  }
  if (config.jwksUrl !== "") return Promise.resolve(remoteKeySource({ jwksUrl: config.jwksUrl }, { now }));
  const jwks = config.jwks === "" ? undefined : JSON.parse(config.jwks);
  return parseStaticKeys(config.pemKeys, jwks, config.jwtSupportedAlgs).then(({ keys }) =>
    staticKeySource(keys),
  );
}

export function createMountKeys(now: () => number): MountKeys {
  let current: { revision: string; source: Promise<KeySource> } | undefined;
  return {
    sourceFor(config) {
      if (current && current.revision === config.revision) return current.source;
      const source = build(config, now);
      const entry = { revision: config.revision, source };
      source.catch(() => {
        if (current === entry) current = undefined;
      });
      current = entry;
      return source;
    },
    forget() {
      current = undefined;
    },
  };
}
