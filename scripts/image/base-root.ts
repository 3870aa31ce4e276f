/**
 * The image's base filesystem, from the Debian packages installed on the machine that
 * builds it: the node binary and the shared libraries it loads (as the dynamic linker
 * resolves them), Debian's CA certificates, each package's copyright file, and the user
 * and group files. No shell, no package manager, no coreutils: nothing but what node needs.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { IMAGE_PROGRAMS, IMAGE_USER } from "./spec.ts";

export interface DebianPackage {
  name: string;
  version: string;
}

export interface BaseRoot {
  nodeVersion: string;
  /** The Debian packages the files came from, by name. */
  packages: DebianPackage[];
}

const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export class ImageError extends Error {
  override readonly name = "ImageError";
}

/** The libraries in ldd's answer for a binary, as the paths the dynamic linker opens. */
export function sharedLibraries(lddOutput: string): string[] {
  const libraries: string[] = [];
  for (const line of lddOutput.split("\n")) {
    if (/not found/.test(line)) throw new ImageError(`a library node needs is missing: ${line.trim()}`);
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
    // linux-vdso is the kernel's and has no file.
    const path = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (path) libraries.push(path);
  }
  return libraries;
}

/** The Debian package that installed `path`, looked up under each name the file has. */
function owningPackage(path: string): string {
  const candidates = [path, realpathSync(path)];
  for (const candidate of [...candidates]) {
    candidates.push(candidate.startsWith("/usr/") ? candidate.slice(4) : `/usr${candidate}`);
  }
  for (const candidate of candidates) {
    try {
      const owner = execFileSync("dpkg-query", ["--search", candidate], { encoding: "utf8", stdio: "pipe" });
      return (owner.split(":")[0] as string).trim();
    } catch {
      // Not under this name: usrmerge and soname links register a file under one name only.
    }
  }
  throw new ImageError(
    `${path} is not from a Debian package (dpkg-query --search): the image is built from Debian packages`,
  );
}

function packageVersion(name: string): string {
  // "name<TAB>version"
  const shown = execFileSync("dpkg-query", ["--show", name], { encoding: "utf8" }).trim();
  return shown.split("\t")[1] ?? "";
}

function place(root: string, target: string, source: string, mode: number): void {
  const destination = join(root, target);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(source, destination);
  chmodSync(destination, mode);
}

function writeText(root: string, target: string, text: string): void {
  const destination = join(root, target);
  mkdirSync(dirname(destination), { recursive: true });
  writeFileSync(destination, text);
  chmodSync(destination, 0o644);
}

/** Every directory 0755, whatever the umask of the machine that builds the image. */
export function normalizeDirectories(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) normalizeDirectories(join(dir, entry.name));
  }
}

export function stageBaseRoot(root: string, options: { node: string }): BaseRoot {
  if (!existsSync(CA_BUNDLE))
    throw new ImageError(`${CA_BUNDLE} is missing: install Debian's ca-certificates`);
  const node = realpathSync(options.node);
  const owners = new Set<string>();

  place(root, IMAGE_PROGRAMS.node, node, 0o755);
  owners.add(owningPackage(options.node));
  const ldd = execFileSync("ldd", [node], { encoding: "utf8" });
  for (const library of sharedLibraries(ldd)) {
    place(root, library, realpathSync(library), 0o755);
    owners.add(owningPackage(library));
  }
  place(root, CA_BUNDLE, CA_BUNDLE, 0o644);
  owners.add(owningPackage("/usr/share/ca-certificates"));

  const { name, uid, gid } = IMAGE_USER;
  writeText(
    root,
    "/etc/passwd",
    `root:x:0:0:root:/root:/usr/sbin/nologin\n${name}:x:${uid}:${gid}:${name}:/nonexistent:/usr/sbin/nologin\n`,
  );
  writeText(root, "/etc/group", `root:x:0:\n${name}:x:${gid}:\n`);
  // glibc's defaults without the file put DNS before /etc/hosts.
  writeText(root, "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");

  const packages = [...owners].sort().map((owner) => ({ name: owner, version: packageVersion(owner) }));
  for (const { name: pkg } of packages) {
    const copyright = `/usr/share/doc/${pkg}/copyright`;
    if (!existsSync(copyright))
      throw new ImageError(`${copyright} is missing: the image ships every package's license`);
    place(root, copyright, copyright, 0o644);
  }
  normalizeDirectories(root);
  const nodeVersion = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  return { nodeVersion, packages };
}
