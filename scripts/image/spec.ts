/**
 * What the container image promises to whoever runs it: its user, where its programs
 * are, what it runs. The image script builds exactly this; the manifests in
 * deploy/kubernetes/ rely on it, and their test checks them against it.
 */

/** The one user in the image; the manifests run the agent and the application as it. */
export const IMAGE_USER = { name: "coffer", uid: 10001, gid: 10001 } as const;

/** Where the bundle lives, and the programs on the image's PATH. */
export const IMAGE_APP_DIR = "/opt/coffer";
export const IMAGE_PROGRAMS = { coffer: "/usr/local/bin/coffer", node: "/usr/bin/node" } as const;
export const IMAGE_PATH = "/usr/local/bin:/usr/bin";

export const IMAGE_ENTRYPOINT = [IMAGE_PROGRAMS.coffer];
/** Run with no arguments, the image prints the command's help. */
export const IMAGE_CMD = ["--help"];

/**
 * The manifests name the image by this repository, a placeholder: docs/kubernetes.md says
 * how to push the image and put the real registry in its place. The tag is the version.
 */
export const IMAGE_PLACEHOLDER_REPOSITORY = "registry.example.com/coffer";

export function placeholderReference(version: string): string {
  return `${IMAGE_PLACEHOLDER_REPOSITORY}:${version}`;
}

/** The program a container command or probe runs, as the image resolves it; undefined when absent. */
export function imageProgram(argv0: string): string | undefined {
  const programs: Record<string, string> = IMAGE_PROGRAMS;
  if (argv0.startsWith("/")) return Object.values(programs).includes(argv0) ? argv0 : undefined;
  return programs[argv0];
}
