/**
 * Output escaping for reports: results files come from other people, so every string they carry
 * (hostnames, CPU and model names, notes) is escaped before it reaches HTML, and data embedded for
 * the page's script cannot close its `<script>` element.
 *
 * @example
 * ```ts
 * import { escapeHtml, jsonForScript } from "./escape.ts";
 * console.log(escapeHtml(`"><img onerror=alert(1)>`)); // &quot;&gt;&lt;img onerror=alert(1)&gt;
 * console.log(jsonForScript({ name: "</script>" })); // {"name":"\u003c/script\u003e"}
 * ```
 * @module
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` safe inside HTML text and inside quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * `value` as JSON that is safe inside `<script type="application/json">`: `<`, `>` and `&` as
 * Unicode escapes (so `</script>` and `<!--` cannot appear), and the line separators JavaScript
 * once refused.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
