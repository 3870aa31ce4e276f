/**
 * The licenses of the packages a bundle carries inside it. A bundle copies their code,
 * so whoever receives it (the npm package, the container image) receives their licenses
 * with it: one section per distinct license text, naming the packages under it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Metafile } from "esbuild";

export const NOTICES_FILE = "THIRD-PARTY-LICENSES.txt";

/** The directories of the packages the bundle's inputs come from. */
function packageDirectories(metafile: Metafile, root: string): string[] {
  const directories = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replaceAll("\\", "/"));
    if (match) directories.add(resolve(root, match[1] as string));
  }
  return [...directories];
}

function licenseText(directory: string): string | undefined {
  const file = readdirSync(directory).find((name) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(name));
  return file ? readFileSync(join(directory, file), "utf8").trim() : undefined;
}

export function thirdPartyNotices(metafile: Metafile, root: string): string {
  const byText = new Map<string, string[]>();
  for (const directory of packageDirectories(metafile, root)) {
    const manifest = join(directory, "package.json");
    if (!existsSync(manifest)) continue;
    const { name, version, license } = JSON.parse(readFileSync(manifest, "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    const text =
      licenseText(directory) ?? `${license ?? "no license named"} (the package carries no license file)`;
    byText.set(text, [...(byText.get(text) ?? []), `${name}@${version} (${license ?? "?"})`]);
  }
  const sections = [...byText]
    .map(([text, packages]) => ({ text, packages: packages.sort() }))
    .sort((a, b) => (a.packages[0] as string).localeCompare(b.packages[0] as string))
    .map(({ text, packages }) => `${packages.join("\n")}\n\n${text}\n`);
  return `The coffer command bundles code of the following packages, under these licenses.\n\n${sections.join(`\n${"-".repeat(78)}\n\n`)}`;
}
