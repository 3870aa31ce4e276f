/**
 * The `restricted` Pod Security Standard (which includes `baseline`), checked on a pod
 * spec as the Pod Security admission controller checks it, control by control, from
 * Kubernetes' documentation of the standards (kubernetes.io, "Pod Security Standards").
 * Each violation names its control and where it is.
 */

type Json = Record<string, unknown>;
type SecurityContext = Json & {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  procMount?: string;
  windowsOptions?: { hostProcess?: boolean };
};
type Container = Json & {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
};
type PodSpec = Json & {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Json[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext & { sysctls?: { name: string }[] };
};

const BASELINE_CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];
const RESTRICTED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

export function restrictedViolations(spec: PodSpec): string[] {
  const violations: string[] = [];
  const pod = spec.securityContext ?? {};
  const containers = [
    ...spec.containers.map((container) => ({ where: `containers[${container.name}]`, container })),
    ...(spec.initContainers ?? []).map((container) => ({
      where: `initContainers[${container.name}]`,
      container,
    })),
    ...(spec.ephemeralContainers ?? []).map((container) => ({
      where: `ephemeralContainers[${container.name}]`,
      container,
    })),
  ];
  const contexts = [{ where: "pod", context: pod as SecurityContext }].concat(
    containers.map(({ where, container }) => ({ where, context: container.securityContext ?? {} })),
  );

  // Baseline.
  for (const { where, context } of contexts) {
    if (context.windowsOptions?.hostProcess) violations.push(`HostProcess: ${where}`);
    if (
      context.appArmorProfile?.type &&
      !["RuntimeDefault", "Localhost"].includes(context.appArmorProfile.type)
    ) {
      violations.push(`AppArmor: ${where}`);
    }
    const selinux = context.seLinuxOptions;
    if (selinux && (!SELINUX_TYPES.includes(selinux.type ?? "") || selinux.user || selinux.role)) {
      violations.push(`SELinux: ${where}`);
    }
    if (context.seccompProfile?.type === "Unconfined") violations.push(`Seccomp: ${where} is Unconfined`);
  }
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) violations.push("Host Namespaces: pod");
  for (const sysctl of pod.sysctls ?? []) {
    if (!SAFE_SYSCTLS.includes(sysctl.name)) violations.push(`Sysctls: ${sysctl.name}`);
  }
  for (const volume of spec.volumes ?? []) {
    if ("hostPath" in volume) violations.push(`HostPath Volumes: ${volume.name}`);
  }
  for (const { where, container } of containers) {
    const context = container.securityContext ?? {};
    if (context.privileged) violations.push(`Privileged Containers: ${where}`);
    for (const capability of context.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.includes(capability))
        violations.push(`Capabilities: ${where} adds ${capability}`);
    }
    if ((container.ports ?? []).some((port) => (port.hostPort ?? 0) !== 0))
      violations.push(`Host Ports: ${where}`);
    if (context.procMount !== undefined && context.procMount !== "Default")
      violations.push(`/proc Mount Type: ${where}`);
  }

  // Restricted.
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== "name");
    if (!types.every((type) => RESTRICTED_VOLUME_TYPES.includes(type))) {
      violations.push(`Volume Types: ${volume.name} (${types.join(", ")})`);
    }
  }
  for (const { where, container } of containers) {
    const context = container.securityContext ?? {};
    if (context.allowPrivilegeEscalation !== false) violations.push(`Privilege Escalation: ${where}`);
    if (
      !(context.runAsNonRoot === true || (context.runAsNonRoot === undefined && pod.runAsNonRoot === true))
    ) {
      violations.push(`Running as Non-root: ${where}`);
    }
    const seccomp = context.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") violations.push(`Seccomp: ${where}`);
    if (!(context.capabilities?.drop ?? []).includes("ALL"))
      violations.push(`Capabilities: ${where} does not drop ALL`);
    for (const capability of context.capabilities?.add ?? []) {
      if (capability !== "NET_BIND_SERVICE") violations.push(`Capabilities: ${where} adds ${capability}`);
    }
  }
  for (const { where, context } of contexts) {
    if (context.runAsUser === 0) violations.push(`Running as Non-root user: ${where}`);
  }
  return violations;
}
