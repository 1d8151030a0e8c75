// The conversations j would open next, fetched while the agent reads the open one, so moving along the
// list is a render rather than a round trip: two ahead, so that pressing j again at once finds the next one
// already asked for a press earlier (one new request per press all the same). A kept copy is used only while it is as new as the list's row
// of that conversation (live events keep the rows current); an older one is fetched again.
import * as conversations from '../../clients/conversations.js';
import { state } from './state.js';

export const AHEAD = 2;
const KEPT = AHEAD + 1;  // and a little slack for a quick j-k-j
const kept = new Map();  // id -> promise of its detail (null if the fetch failed)

// Start fetching a conversation (nothing for null, or one already kept).
export function prefetch(id) {
  if (id !== null && id !== undefined && id !== state.opening && !kept.has(id)) {
    kept.set(id, conversations.get(id).catch(() => null));
  }
  while (kept.size > KEPT) kept.delete(kept.keys().next().value);
}

// The kept detail of a conversation if it is still current, else null; either way it is no longer kept.
export async function take(id) {
  const pending = kept.get(id);
  kept.delete(id);
  const detail = pending ? await pending : null;
  const row = state.rows.get(id);
  if (!detail || (row && Date.parse(row.updated_at) > Date.parse(detail.updated_at))) return null;
  return detail;
}
