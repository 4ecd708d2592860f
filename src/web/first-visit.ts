/**
 * The story is the landing page of a first visit: the lab's bare address (no state in the hash,
 * no query) sends a browser that has seen neither page to story.html, which teaches what the
 * lab's charts mean. Either page marks the browser as having visited (localStorage), so the
 * story's link back to the lab, a reload, or any later visit opens the lab itself; a shared lab
 * link (state in the hash) always opens the lab. Where storage is unavailable, the lab opens.
 */

/** The localStorage key that records a visit. */
export const VISITED_KEY = "gradlab.visited";

/** Remember that this browser has visited gradlab. */
export function markVisited(): void {
  try { localStorage.setItem(VISITED_KEY, "1"); } catch { /* storage off: nothing to remember with */ }
}

/** Whether the lab at `where` should send this browser to the story first. */
export function isFirstVisit(where: { hash: string; search: string }): boolean {
  if (where.hash.length > 1 || where.search.length > 1) return false;
  try { return localStorage.getItem(VISITED_KEY) === null; } catch { return false; }
}
