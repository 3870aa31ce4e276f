import { type MountInfo, mountName } from "../mounts.ts";
import { href } from "../route.ts";

/** secret / app / db: each folder a link to its listing. */
export function Breadcrumbs({ mount, path }: { mount: MountInfo; path: string }) {
  const segments = path.split("/").filter((segment) => segment !== "");
  const name = mountName(mount);
  return (
    <nav aria-label="Breadcrumbs" class="breadcrumbs">
      <ol>
        <li>
          <a href={href("secrets")}>Secrets</a>
        </li>
        <li>
          <a href={href("secrets", name, "list")}>{name}</a>
        </li>
        {segments.map((segment, index) => (
          <li key={segments.slice(0, index + 1).join("/")}>
            {index === segments.length - 1 ? (
              <span aria-current="page">{segment}</span>
            ) : (
              <a href={href("secrets", name, "list", ...segments.slice(0, index + 1))}>{segment}</a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}
