/**
 * Text for the terminal: every control character a name, path, label or error message could
 * carry (C0 but the newline and tab, DEL, C1) is shown as a visible `\u001b`, so a config named
 * "\u001b[2J" cannot clear the screen, move the cursor or retitle the window when gradlab prints it.
 */

// C0 except \t and \n, DEL, C1. \r is escaped too: it would let text overwrite the line it is on.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f-\u009f]/g;

const visible = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * Multi-line text with its control characters made visible; newlines and tabs are kept.
 * @example printable("a\u001b[2Jb\nc") // "a\\u001b[2Jb\nc"
 */
export function printable(text: string): string {
  return text.replace(CONTROL, visible);
}

/**
 * One line (a table cell, a name, an error message): newlines and tabs are made visible too.
 * @example printableLine("x\ny\u0000") // "x\\u000ay\\u0000"
 */
export function printableLine(text: string): string {
  return text.replace(CONTROL_IN_LINE, visible);
}
