/** Key/value rows, the form view of a flat JSON object of strings. */
import type { Json } from "../api.ts";

export interface Row {
  id: number;
  key: string;
  value: string;
}

let nextId = 0;
export const newRow = (key = "", value = ""): Row => ({ id: nextId++, key, value });

export function rowsOf(object: Record<string, Json>): Row[] {
  const rows = Object.entries(object).map(([key, value]) =>
    newRow(key, typeof value === "string" ? value : JSON.stringify(value)),
  );
  return rows.length > 0 ? rows : [newRow()];
}

export function rowsToObject(rows: readonly Row[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (const row of rows) if (row.key.trim() !== "") object[row.key.trim()] = row.value;
  return object;
}

export function RowsEditor(props: {
  rows: Row[];
  onChange: (rows: Row[]) => void;
  label: string;
  secret?: boolean;
}) {
  const { rows, onChange } = props;
  const update = (id: number, change: Partial<Row>) =>
    onChange(rows.map((row) => (row.id === id ? { ...row, ...change } : row)));
  return (
    <div class="rows">
      {rows.map((row, index) => (
        <div class="row" key={row.id}>
          <label for={`${props.label}-key-${row.id}`} class="visually-hidden">
            {props.label} key {index + 1}
          </label>
          <input
            id={`${props.label}-key-${row.id}`}
            placeholder="key"
            value={row.key}
            onInput={(event) => update(row.id, { key: event.currentTarget.value })}
          />
          <label for={`${props.label}-value-${row.id}`} class="visually-hidden">
            {props.label} value {index + 1}
          </label>
          {props.secret ? (
            <input
              id={`${props.label}-value-${row.id}`}
              placeholder="value"
              type="password"
              autocomplete="off"
              value={row.value}
              onInput={(event) => update(row.id, { value: event.currentTarget.value })}
            />
          ) : (
            <input
              id={`${props.label}-value-${row.id}`}
              placeholder="value"
              value={row.value}
              onInput={(event) => update(row.id, { value: event.currentTarget.value })}
            />
          )}
          <button type="button" onClick={() => onChange(rows.filter((candidate) => candidate.id !== row.id))}>
            Remove
            <span class="visually-hidden">
              {" "}
              {props.label} row {index + 1}
            </span>
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, newRow()])}>
        Add {props.label}
      </button>
    </div>
  );
}
