import { href } from "../route.ts";

const PAGES = [
  { segment: "policies", label: "Policies" },
  { segment: "roles", label: "Kubernetes roles" },
  { segment: "capabilities", label: "Capabilities" },
];

export function AccessNav({ current }: { current: string }) {
  return (
    <nav aria-label="Access" class="subnav">
      <ul>
        {PAGES.map(({ segment, label }) => (
          <li key={segment}>
            <a href={href("access", segment)} aria-current={current === segment ? "page" : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
