// The app's page addresses (not the API's: those are in clients/).

export function conversationPage(id) { return `/conversations/${id}`; }

// The conversation id in a page address made by conversationPage, or null.
export function conversationFromPage(pathname) {
  const match = pathname.match(/^\/conversations\/(\d+)$/);
  return match ? Number(match[1]) : null;
}

export function loginPage(next) { return `/login?next=${encodeURIComponent(next)}`; }
