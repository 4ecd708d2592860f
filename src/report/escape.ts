/**
 * Escaping text for HTML and SVG (the report page and its charts' SVG share it).
 */

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escape text for HTML content and attribute values; control characters (C0 but newline, tab and
 * carriage return, DEL, C1) are shown as a visible `\u001b`, never passed on raw.
 * @example esc(`<b a="1">`) // "&lt;b a=&quot;1&quot;&gt;"
 * @example esc("x\u001b[2J") // "x\\u001b[2J"
 */
export function esc(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
